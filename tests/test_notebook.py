"""The chapter notebook committed clean (it runs top to bottom in tests/browser), the MovieLens
notebook headless, and the CLI reproduces."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbrun import execute_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "matrix_factorization.ipynb"


def test_notebook_is_committed_without_outputs_and_defines_no_functions():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    for c in code:
        tree = ast.parse(c.source)
        assert not [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    text = " ".join(c.source for c in nb.cells)
    for part in ("I. Preliminaries", "II. Training", "III. Inspecting", "IV. Regularization",
                 "Conclusion", "Beyond the chapter"):  # fmt: skip
        assert part in text


@pytest.mark.realdata
def test_reproduce_command_prints_the_table_and_neighbours(lastfm):
    out = subprocess.run(
        [sys.executable, "-m", "mfwidgets", "reproduce", "--quick"],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=dict(os.environ),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    for expected in ("global mean", "user+artist bias", "reg_model", "of Coldplay by dot",
                     "of Coldplay by cosine"):  # fmt: skip
        assert expected in out.stdout


def test_command_line_errors_are_short(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "mfwidgets", "reproduce", "--data", str(tmp_path / "none")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 2 and "no such folder or archive" in out.stderr
    assert "Traceback" not in out.stderr


MOVIELENS_NOTEBOOK = ROOT / "notebooks" / "movielens.ipynb"


def test_movielens_notebook_runs_headless_and_speaks_of_movies(movielens_100k, tmp_path):
    source = movielens_100k.source
    nb = nbformat.read(MOVIELENS_NOTEBOOK, as_version=4)
    assert all(not c.outputs for c in nb.cells if c.cell_type == "code")
    env = {"MFWIDGETS_QUICK": "1", "MFWIDGETS_DATA_MOVIELENS_100K": source}
    nb = execute_notebook(MOVIELENS_NOTEBOOK, timeout=900, env=env, cwd=tmp_path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, stderr
    shown = "\n".join(
        str(o.get("data", {}).get(kind, ""))
        for o in outputs
        for kind in ("text/plain", "text/html")
    ) + "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Star Wars (1977)" in shown and "user+movie bias" in shown
    for word in ("artist", "listen", "last.fm", "lastfm"):
        assert word not in shown.lower(), word
