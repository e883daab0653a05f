"""NeighborExplorer in real JupyterLab: type "coldpl", see Coldplay's neighbours, switch measure."""

from __future__ import annotations

import pytest
from harness import ARTIFACTS, open_notebook, run_all, write_notebook
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

CELLS = [
    "from mfwidgets import NeighborExplorer, build_model, load_lastfm\n"
    "data = load_lastfm()\n"
    "model = build_model(data.listens, embedding_dim=30, init_stddev=0.05, seed=0)\n"
    "model.train(num_iterations=100, learning_rate=10.0)\n"
    "explorer = NeighborExplorer(data, {'model': model}, k=6)\n"
    "explorer",
]


def test_type_to_find_coldplay_then_switch_to_cosine(page, jupyter_lab, lastfm):
    write_notebook(jupyter_lab, "explorer.ipynb", CELLS)
    root = open_notebook(page, jupyter_lab, "explorer.ipynb")
    run_all(page)
    box = page.locator(f"{root} .mf-search input")
    box.wait_for(timeout=60_000)
    box.press_sequentially("coldpl", delay=80)
    selected = page.locator(f"{root} .mf-matches select option:checked")
    expect(selected).to_have_text("Coldplay (369 listeners)", timeout=15_000)
    rows = page.locator(f"{root} .mf-neighbors tbody tr")
    expect(rows).to_have_count(6, timeout=15_000)
    expect(page.locator(f"{root} .mf-neighbors")).to_contain_text("model · dot")
    dot_text = page.locator(f"{root} .mf-neighbors tbody").inner_text()
    assert "Coldplay" in dot_text
    page.locator(f"{root} .mf-measure button", has_text="cosine").click()
    expect(page.locator(f"{root} .mf-neighbors")).to_contain_text("model · cosine", timeout=15_000)
    expect(rows).to_have_count(6)
    assert page.locator(f"{root} .mf-neighbors tbody").inner_text() != dot_text
    page.screenshot(path=str(ARTIFACTS / "explorer.png"))
    assert not page.blocked_urls
