"""The EmbeddingMap's replay in real JupyterLab (headless Chromium): seconds per frame change.

The chapter's regularized model is trained 2,001 steps with a snapshot every 100 (21 frames).
Each frame change is driven as a user would: the replay slider's handle is focused and the right
arrow pressed; the time runs in the page from the key press to the next animation frame after
vega's new canvas is in the page (the kernel's redraw, the spec's trip and vega's render). The
baseline of the same run: the map's own first PCA paint (the same 17,632 points, cell run to
canvas). Target (issue 18): every frame change under 1 s. Run: python benchmarks/replay_browser.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, data_source, emit, machine

sys.path.insert(0, str(ROOT / "tests" / "browser"))
from harness import cell, find_chromium, lab_and_page, open_notebook, run_cell, write_notebook

CELLS = [
    "from mfwidgets import EmbeddingMap, build_regularized_model, load_lastfm\n"
    "data = load_lastfm()\n"
    "reg = build_regularized_model(data.listens, embedding_dim=35, regularization_coeff=0.1,\n"
    "                              gravity_coeff=1.0, init_stddev=0.05, seed=0)\n"
    "reg.train(num_iterations=2000, learning_rate=20.0, snapshot_every=100)\n"
    "len(reg.snapshots)",
    "emap = EmbeddingMap(data, {'reg_model': reg})\nemap",
]

WATCH = """(root) => {
  window.__frames = []; window.__last = null;
  const node = document.querySelector(root);
  new MutationObserver(() => {
    const c = node.querySelector('canvas.marks');
    if (c && c !== window.__last) {
      window.__last = c;
      requestAnimationFrame(() => window.__frames.push(performance.now()));
    }
  }).observe(node, {subtree: true, childList: true});
}"""


def main() -> None:
    if data_source() is None or find_chromium() is None:
        sys.exit("needs MFWIDGETS_DATA and a Chromium (see README)")
    os.environ["MFWIDGETS_DATA"] = str(Path(data_source()).resolve())  # (the kernel runs in tmp)
    with tempfile.TemporaryDirectory() as tmp, lab_and_page(Path(tmp)) as (lab, page, blocked):
        write_notebook(lab, "replay.ipynb", CELLS)
        root = open_notebook(page, lab, "replay.ipynb")
        run_cell(page, 0)
        cell(page, 0).locator(".jp-OutputArea-output").wait_for(timeout=300_000)
        t0 = time.perf_counter()
        run_cell(page, 1)
        cell(page, 1).locator("canvas.marks").wait_for(state="visible", timeout=120_000)
        first = time.perf_counter() - t0
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            ".status === 'idle'"
        )
        page.evaluate(WATCH, f"{root} .mf-embedding-map")
        page.wait_for_timeout(2000)  # let any redraw in flight land before counting
        handle = page.locator(f"{root} .mf-replay .noUi-handle")
        handle.focus()
        latencies = []
        for _ in range(20):
            seen = page.evaluate("window.__frames.length")
            start = page.evaluate("performance.now()")
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"() => window.__frames.length > {seen}", timeout=30_000)
            latencies.append((page.evaluate(f"window.__frames[{seen}]") - start) / 1000)
            page.wait_for_timeout(300)  # one frame at a time: no redraw of the last in flight
        label = page.locator(f"{root} .mf-embedding-map").inner_text()
        assert "step 2000 / 2001" in label, label  # all 20 frames were drawn
        assert not blocked, blocked
    print(f"machine: {machine()}; headless Chromium, JupyterLab, 17,632 artists, 21 snapshots")
    print(f"the map's first PCA paint (baseline): {first:.2f} s")
    print(f"replay, 20 frame changes: median {statistics.median(latencies):.2f} s, "
          f"max {max(latencies):.2f} s ({statistics.median(latencies) / first:.2f}x the first "
          "paint)")  # fmt: skip
    emit({"first_paint_s": first, "frame_median_s": statistics.median(latencies),
          "frame_max_s": max(latencies), "frames": latencies})  # fmt: skip


if __name__ == "__main__":
    main()
