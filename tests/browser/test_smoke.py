"""Harness smoke test: an mfwidgets-styled button, progress bar and offline chart in real Lab."""

from __future__ import annotations

import re
import time

import pytest
from harness import ARTIFACTS, open_notebook, run_all, write_notebook
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SMOKE_CELL = """
import threading
import ipywidgets as W
import pandas as pd
from mfwidgets.charts import line_chart
from mfwidgets.widgets import LiveChart

def mk(rows):
    return line_chart(pd.DataFrame(rows, columns=["step", "loss"]), "step", ["loss"], title="loss")

prog = W.IntProgress(min=0, max=20, description="step")
prog.add_class("mf-progress")
btn = W.Button(description="Train", button_style="primary")
btn.add_class("mf-train")
live = LiveChart(mk([(0, 1.0)]), renderer="svg", css_class="mf-chart")

def train(_):
    def loop():
        rows = [(0, 1.0)]
        for i in range(1, 21):
            threading.Event().wait(0.05)
            rows.append((i, 1 / (i + 1)))
            prog.value = i
            live.show(mk(rows))
    threading.Thread(target=loop, daemon=True).start()

btn.on_click(train)
W.VBox([btn, prog, live.widget])
"""


def test_button_progress_and_offline_chart(page, jupyter_lab):
    t0 = time.time()
    write_notebook(jupyter_lab, "smoke.ipynb", [SMOKE_CELL])
    root = open_notebook(page, jupyter_lab, "smoke.ipynb")
    run_all(page)
    btn = page.locator(f"{root} .mf-train")
    btn.wait_for(timeout=60_000)
    expect(page.locator(f"{root} .mf-chart .marks").first).to_be_visible(timeout=60_000)
    btn.click()
    expect(page.locator(f"{root} .mf-progress .progress-bar")).to_have_attribute(
        "style", re.compile(r"width: 100%"), timeout=30_000
    )
    # the chart was redrawn in place with all 21 points (svg here, so the points can be counted)
    points = page.locator(f"{root} .mf-chart .mark-symbol.role-mark path")
    expect(points).to_have_count(21, timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "smoke.png"))
    assert not page.blocked_urls
    print(f"smoke test took {time.time() - t0:.1f}s")
