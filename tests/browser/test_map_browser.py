"""EmbeddingMap in real JupyterLab, offline: it draws, a hover shows an artist, a click selects."""

from __future__ import annotations

import pytest
from harness import ARTIFACTS, open_notebook, run_all, write_notebook
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

CELLS = [
    "from mfwidgets import EmbeddingMap, NeighborExplorer, build_model, load_lastfm\n"
    "data = load_lastfm()\n"
    "model = build_model(data.listens, embedding_dim=30, init_stddev=0.05, seed=0)\n"
    "model.train(num_iterations=200, learning_rate=10.0)",
    "explorer = NeighborExplorer(data, {'model': model})\nexplorer",
    "emap = EmbeddingMap(data, {'model': model})\nemap.link(explorer)\nemap",
]


def find_tooltip(page, canvas):
    """Sweep the pointer over the canvas until vega shows a tooltip; return (x, y, fields)."""
    box = canvas.bounding_box()
    tip = page.locator("#vg-tooltip-element.visible")
    for fy in (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65):
        for fx in [0.5 + d / 40 for d in range(-12, 13)]:
            x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
            page.mouse.move(x, y)
            page.wait_for_timeout(40)
            if tip.count() and tip.is_visible():
                keys = tip.locator("td.key").all_inner_texts()
                values = tip.locator("td.value").all_inner_texts()
                return x, y, dict(zip(keys, values, strict=False))
    return None


def test_map_draws_hover_shows_an_artist_click_selects(page, jupyter_lab, lastfm):
    write_notebook(jupyter_lab, "map.ipynb", CELLS)
    root = open_notebook(page, jupyter_lab, "map.ipynb")
    run_all(page)
    canvas = page.locator(f"{root} .mf-map canvas.marks")
    expect(canvas).to_be_visible(timeout=60_000)
    canvas.scroll_into_view_if_needed()
    found = find_tooltip(page, canvas)
    assert found, "no tooltip appeared anywhere near the centre of the map"
    x, y, fields = found
    assert {"artist", "tags", "listeners", "norm"} <= set(fields), fields
    name = fields["artist"]
    page.screenshot(path=str(ARTIFACTS / "map-hover.png"))
    page.mouse.click(x, y)
    # the click travels to the kernel, which selects the artist in the linked explorer
    expect(page.locator(f"{root} .mf-search input")).to_have_value(name, timeout=15_000)
    expect(page.locator(f"{root} .mf-neighbors tbody tr").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "map.png"))
    assert not page.blocked_urls
