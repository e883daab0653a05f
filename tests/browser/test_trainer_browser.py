"""TrainerWidget in real JupyterLab: live progress and chart while the kernel stays free; Stop."""

from __future__ import annotations

import re
import time

import pytest
from harness import ARTIFACTS, SAMPLER, cell, open_notebook, run_all, run_cell, write_notebook
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

CELLS = [
    "from mfwidgets import TrainerWidget, load_lastfm\n"
    "data = load_lastfm()\n"
    "trainer = TrainerWidget(data, num_iterations=300000, seed=0)\n"
    "trainer",
    "import time\nprint('kernel answered at', time.time(), 'records', len(trainer.history))",
]


def test_train_live_progress_free_kernel_and_stop(page, jupyter_lab, lastfm):
    write_notebook(jupyter_lab, "trainer.ipynb", CELLS)
    root = open_notebook(page, jupyter_lab, "trainer.ipynb")
    run_all(page)
    page.locator(f"{root} .mf-train").click()
    # the first model loads TensorFlow in the kernel's training thread: wait for the run proper
    expect(page.locator(f"{root} .mf-status")).to_contain_text("running model", timeout=120_000)
    # 8 s of samples: a costly redraw stretches the curves' quiet period (cost_factor 20), and
    # on a loaded machine the first ones cost most; 4 s once saw only the first record drawn
    samples = page.evaluate(
        SAMPLER, [root, ".mf-progress", ".mf-chart-errors", ".mf-status", 8000, ""]
    )
    points = page.locator(f"{root} .mf-chart-errors .mark-symbol.role-mark path").count()
    # the kernel answers another cell while training runs
    t0 = time.time()
    run_cell(page, 1)
    expect(cell(page, 1).locator(".jp-OutputArea-output")).to_contain_text(
        "kernel answered", timeout=10_000
    )
    kernel_seconds = time.time() - t0
    page.screenshot(path=str(ARTIFACTS / "trainer-running.png"))
    page.locator(f"{root} .mf-stop").click()
    expect(page.locator(f"{root} .mf-status")).to_contain_text("stopped", timeout=5_000)
    width_after_stop = page.locator(f"{root} .mf-progress .progress-bar").get_attribute("style")
    time.sleep(1.0)
    assert page.locator(f"{root} .mf-progress .progress-bar").get_attribute("style") == (
        width_after_stop
    )
    assert not page.locator(f"{root} .mf-train").is_disabled()
    # the static image of the curves (for notebooks opened without a kernel) is written under
    # the widget after the run, and hidden while the live widget shows the same curves
    static = page.locator(
        f"{root} .jp-OutputArea-child:has(.mf-trainer) + .jp-OutputArea-child img"
    )
    expect(static).to_have_count(1, timeout=10_000)
    assert static.get_attribute("src").startswith("data:image/png")
    expect(static).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "trainer.png"))

    widths = [float(m.group(1)) for _, w, *_ in samples if (m := re.search(r"([\d.]+)%", w))]
    distinct = sorted(set(widths))
    assert len(distinct) >= 3, samples  # the bar moved through intermediate widths
    assert 0 < distinct[-1] < 100  # .. and never reached the end before Stop
    assert points >= 4  # the chart gained points while training ran
    assert kernel_seconds < 10
    assert not page.blocked_urls
