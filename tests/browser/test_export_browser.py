"""Widgets that survive export: README's quick start, executed headless as a notebook and
exported by nbconvert, shows every widget's tables and charts in Chromium with no request
leaving the machine (and the quick start runs, its widgets following the run)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from harness import ARTIFACTS, offline_route, served
from nbconvert import HTMLExporter
from nbrun import execute_notebook

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

ROOT = Path(__file__).resolve().parents[2]


def quick_start() -> str:
    """README's quick start, as written."""
    section = (ROOT / "README.md").read_text().split("## Quick start", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


# README's quick start, then what a user exporting the session does: show the widgets again
# (a static view is the state when displayed) and a what-if panel on the run
CELLS = [
    quick_start(),
    "assert len(trainer.runs) == 1 and board.wait(120) and emap.wait(120)\n"
    "assert list(board.results['metrics'].index) == trainer.runs.names\n"
    "assert explorer.model_picker.value == tuple(trainer.runs.names)\n"
    "explorer.select('Coldplay')\n"
    "display(trainer, explorer, board, emap)",
    "panel = mf.WhatIfPanel(data, trainer.model, sweeps=1)\npanel.wait(120)\npanel",
]


def test_an_exported_notebook_shows_every_widget_offline(browser, lastfm, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    path = tmp_path / "session.ipynb"
    nbformat.write(nb, path)
    # the map's 17,632 points drawn too, as a documentation build asks
    env = {"MFWIDGETS_STATIC_CHARTS": "all", "MFWIDGETS_DATA": str(lastfm.source)}
    nb = execute_notebook(path, timeout=600, env=env, cwd=tmp_path)
    # as JupyterLab saves it (no widget state unless asked): nbconvert shows the static views
    nb.metadata.pop("widgets", None)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    (tmp_path / "session.html").write_text(body, encoding="utf-8")
    blocked: list[str] = []
    page = browser.new_page()
    try:
        page.route("**/*", offline_route(blocked))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        with served(tmp_path) as url:
            page.goto(f"{url}/session.html", wait_until="load")
            views = page.locator(".mf-static")
            assert views.count() == 9  # the four as first shown, again after the run, what-if
            shown = page.inner_text("body")
            for expected in ("Coldplay", "test_mse", "embedding_dim"):
                assert expected in shown, expected
            images = page.eval_on_selector_all(
                ".mf-static img", "els => els.map(e => [e.complete, e.naturalWidth])"
            )
            assert len(images) >= 4 and all(done and width > 0 for done, width in images)
            assert page.locator(".mf-static table").count() >= 3
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "exported-notebook.png"), full_page=True)
    finally:
        page.close()
    # nbconvert's page asks for MathJax from a CDN: blocked, and nothing of ours needs it
    assert all("mathjax" in u.lower() or "require" in u.lower() for u in blocked), blocked
    assert not errors, errors
