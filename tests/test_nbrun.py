"""The headless notebook helper runs cells in a real kernel and fails on a cell error."""

from __future__ import annotations

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from nbrun import execute_notebook


def _write(tmp_path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    return path


def test_runs_cells_with_environment(tmp_path):
    path = _write(tmp_path, ["import os\nprint(os.environ['MF_FLAG'])"])
    nb = execute_notebook(path, env={"MF_FLAG": "hello"}, timeout=120)
    assert nb.cells[0].outputs[0]["text"].strip() == "hello"


def test_a_cell_error_fails(tmp_path):
    path = _write(tmp_path, ["x = 1", "raise ValueError('broken cell')", "y = 2"])
    with pytest.raises(CellExecutionError, match="broken cell"):
        execute_notebook(path, timeout=120)
