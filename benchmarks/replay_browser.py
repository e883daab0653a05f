"""The EmbeddingMap's replay in real JupyterLab (headless Chromium): seconds per frame change.

The chapter's regularized model is trained 2,001 steps with a snapshot every 100 (21 frames).
Each frame change is driven as a user would: the replay slider's handle is focused and the right
arrow pressed; the time runs in the page from the key press to the next animation frame after
vega's new canvas is in the page (the kernel's redraw, the spec's trip and vega's render). The
baseline of the same run: the map's own first PCA paint (the same 17,632 points, cell run to
canvas). Target (issue 18): every frame change under 1 s. Run: python benchmarks/replay_browser.py
"""

from __future__ import annotations

import statistics
import sys
import time

from _common import ROOT, data_source, emit, lab_page, machine, options

sys.path.insert(0, str(ROOT / "tests" / "browser"))
from harness import cell, find_chromium, open_notebook, run_cell, write_notebook

RESULT_KEYS = ("first_paint_s", "frame_median_s", "frame_max_s", "frames")
#: the chapter's run 3 with a snapshot every 100 steps (the smoke run: 40 steps, every 20)
STEPS, EVERY, QUICK_STEPS, QUICK_EVERY = 2000, 100, 40, 20
CELLS = [
    "from mfwidgets import EmbeddingMap, build_regularized_model, load_lastfm\n"
    "data = load_lastfm()\n"
    "reg = build_regularized_model(data.listens, embedding_dim=35, regularization_coeff=0.1,\n"
    "                              gravity_coeff=1.0, init_stddev=0.05, seed=0)\n"
    "reg.train(num_iterations={steps}, learning_rate=20.0, snapshot_every={every})\n"
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


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv)
    if data_source() is None or find_chromium() is None:
        sys.exit("needs MFWIDGETS_DATA and a Chromium (see README)")
    steps, every = (QUICK_STEPS, QUICK_EVERY) if args.quick else (STEPS, EVERY)
    frames = steps // every
    cells = [CELLS[0].format(steps=steps, every=every), *CELLS[1:]]
    with lab_page() as (lab, page, blocked):
        write_notebook(lab, "replay.ipynb", cells)
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
        for _ in range(frames):
            seen = page.evaluate("window.__frames.length")
            start = page.evaluate("performance.now()")
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"() => window.__frames.length > {seen}", timeout=30_000)
            latencies.append((page.evaluate(f"window.__frames[{seen}]") - start) / 1000)
            page.wait_for_timeout(300)  # one frame at a time: no redraw of the last in flight
        label = page.locator(f"{root} .mf-embedding-map").inner_text()
        assert f"step {steps} / {steps + 1}" in label, label  # every frame was drawn
        assert not blocked, blocked
    print(f"machine: {machine()}; headless Chromium, JupyterLab, 17,632 artists, "
          f"{frames + 1} snapshots")  # fmt: skip
    print(f"the map's first PCA paint (baseline): {first:.2f} s")
    print(f"replay, {frames} frame changes: median {statistics.median(latencies):.2f} s, "
          f"max {max(latencies):.2f} s ({statistics.median(latencies) / first:.2f}x the first "
          "paint)")  # fmt: skip
    emit({"first_paint_s": first, "frame_median_s": statistics.median(latencies),
          "frame_max_s": max(latencies), "frames": latencies}, __file__, args.quick)  # fmt: skip


if __name__ == "__main__":
    main()
