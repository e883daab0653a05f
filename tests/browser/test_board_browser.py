"""ComparisonBoard in real JupyterLab: it renders, a run added later appears, and its HTML export
opens offline with the charts drawn (every non-localhost request blocked)."""

from __future__ import annotations

import pytest
from harness import ARTIFACTS, open_notebook, run_all, run_cell, wait_all_executed, write_notebook
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

CELLS = [
    "from mfwidgets import ComparisonBoard, Runs, build_model, build_regularized_model\n"
    "from mfwidgets import load_lastfm\n"
    "data = load_lastfm()\n"
    "model = build_model(data.listens, embedding_dim=30, init_stddev=0.05, seed=0)\n"
    "model.train(num_iterations=50, learning_rate=10.0)\n"
    "runs = Runs({'model': model})\n"
    "board = ComparisonBoard(runs, data, k=10)\n"
    "board",
    # run later, by hand: a second run joins the registry the board follows
    "reg = build_regularized_model(data.listens, embedding_dim=35, regularization_coeff=0.1,\n"
    "                              gravity_coeff=1.0, init_stddev=0.05, seed=0)\n"
    "reg.train(num_iterations=50, learning_rate=20.0)\n"
    "runs.add('reg_model', reg)",
    "board.wait()\nprint(board.to_html('board.html'))",
]


def test_board_renders_follows_new_runs_and_exports_offline(page, jupyter_lab, lastfm):
    write_notebook(jupyter_lab, "board.ipynb", [*CELLS[:1], "pass", "pass"])
    root = open_notebook(page, jupyter_lab, "board.ipynb")
    run_all(page)
    metrics = page.locator(f"{root} .mf-board-metrics tbody tr")
    expect(metrics).to_have_count(1, timeout=60_000)
    expect(page.locator(f"{root} .mf-board-curves svg.marks").first).to_be_visible(timeout=30_000)
    # a run added to the registry appears in the board without re-running its cell
    for i, source in ((1, CELLS[1]), (2, CELLS[2])):
        page.evaluate(
            f"""() => {{ const nb = window.jupyterapp.shell.currentWidget.content;
            nb.widgets[{i}].model.sharedModel.setSource({source!r}); }}"""
        )
    run_cell(page, 1)
    expect(metrics).to_have_count(2, timeout=120_000)
    expect(page.locator(f"{root} .mf-board-metrics")).to_contain_text("reg_model")
    page.screenshot(path=str(ARTIFACTS / "board.png"))
    run_cell(page, 2)
    wait_all_executed(page)
    # the exported page, served by the lab on localhost: vega is in the file, nothing else loads
    page.goto(f"{jupyter_lab['url']}/files/board.html?token={jupyter_lab['token']}")
    expect(page.locator("table.mf-table").first).to_be_visible(timeout=30_000)
    expect(page.locator("svg.marks, canvas.marks").first).to_be_visible(timeout=30_000)
    assert page.locator("text=reg_model").count() > 0
    page.screenshot(path=str(ARTIFACTS / "board-export.png"), full_page=True)
    assert not page.blocked_urls
