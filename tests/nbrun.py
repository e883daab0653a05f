"""Execute a notebook headless with nbclient and fail on the first cell error."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute_notebook(
    path: str | Path,
    *,
    timeout: int = 600,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
) -> nbformat.NotebookNode:
    """Run every cell of ``path`` in a fresh kernel; raise CellExecutionError on any error.

    ``env`` entries are added to the kernel's environment (for example ``MFWIDGETS_QUICK=1``).
    Returns the executed notebook, outputs included, for further assertions.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    client.execute(env={**os.environ, **(env or {})})
    return nb
