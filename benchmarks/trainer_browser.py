"""Training speed when watched: a chapter run clicked in real JupyterLab against the same widget
trained headless, in the same kernel and the same run.

Needs the real data and a Chromium (as the browser tests). In one kernel: (1) a TrainerWidget that
is never displayed trains the chapter's first run (1,001 steps, d=30, lr 10) with
``train(block=True)``; (2) a displayed TrainerWidget's Train button is clicked in headless Chromium
and the run is watched to the end (progress bar, live curves); (3) the headless run again. Each
run's rate is 1,001 steps over its training seconds (``model.training_state.seconds``; the model's
build and tracing are not in it for either), and also 1,001 over the wall time from the click
to "finished" (build and tracing included) against the wall time of ``train(block=True)``.
Target: the median watched rate at >= 70 % of the median headless rate (the first headless run
also warms TensorFlow up). Run: python benchmarks/trainer_browser.py [--repeat 3]
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from _common import ROOT, data_source, emit, lab_page, machine, options

sys.path.insert(0, str(ROOT / "tests" / "browser"))
from harness import (
    cell,
    find_chromium,
    nb_sel,
    open_notebook,
    run_cell,
    write_notebook,
)

RESULT_KEYS = ("headless", "watched", "ratio", "headless_wall", "watched_wall", "wall_ratio")
#: the chapter's run 1 (1,001 steps); the smoke run's 21
STEPS, QUICK_STEPS = 1000, 20
SETUP = (
    "import json\n"
    "from mfwidgets import TrainerWidget, load_lastfm\n"
    "data = load_lastfm()\n"
    "import time\n"
    "def headless():\n"
    "    t0 = time.perf_counter()\n"
    "    t = TrainerWidget(data, num_iterations={steps}, seed=0)\n"
    "    m = t.train(block=True)\n"
    "    rates['headless_wall'].append(m.iterations_done / (time.perf_counter() - t0))\n"
    "    return m.iterations_done / m.training_state.seconds\n"
    "rates = {'headless_wall': []}\n"
    "rates['headless'] = [headless()]\n"
    "watched = TrainerWidget(data, num_iterations={steps}, seed=0)\n"
    "watched"
)
AFTER = (
    "m = watched.model\n"
    "rates.setdefault('watched', []).append(m.iterations_done / m.training_state.seconds)\n"
    "rates['headless'].append(headless())\n"
    "print('RATES', len(rates['watched']), json.dumps(rates))"
)
AGAIN = "watched.w['name'].value = ''\n'ready'"


def main(argv: list[str] | None = None) -> None:
    from playwright.sync_api import expect

    def add(parser):
        parser.add_argument("--repeat", type=int, default=3, help="watched runs (default 3)")

    args = options(__doc__, argv, add)
    steps, args.repeat = (QUICK_STEPS, 1) if args.quick else (STEPS, args.repeat)
    if data_source() is None or find_chromium() is None:
        sys.exit("needs MFWIDGETS_DATA and a Chromium (see README)")
    with lab_page() as (lab, page, blocked):
        write_notebook(lab, "bench.ipynb", [SETUP.replace("{steps}", str(steps)), AFTER, AGAIN])
        root = open_notebook(page, lab, "bench.ipynb")
        run_cell(page, 0)
        trainer = page.locator(f"{root} .mf-trainer")
        trainer.wait_for(timeout=300_000)
        walls = []
        for k in range(args.repeat):
            t0 = time.perf_counter()
            trainer.locator(".mf-train").click()
            expect(trainer.locator(".mf-status")).not_to_contain_text("finished", timeout=60_000)
            expect(trainer.locator(".mf-status")).to_contain_text("finished", timeout=300_000)
            walls.append((steps + 1) / (time.perf_counter() - t0))
            run_cell(page, 1)
            out = cell(page, 1).locator(".jp-OutputArea-output")
            expect(out).to_contain_text(f"RATES {k + 1} ", timeout=300_000)
            if k < args.repeat - 1:
                run_cell(page, 2)
                expect(cell(page, 2).locator(".jp-OutputArea-output")).to_contain_text("ready")
        text = out.inner_text()
        assert nb_sel(page) == root
        assert not blocked, blocked
    rates = json.loads(text.split("RATES", 1)[1].strip().split(" ", 1)[1])
    headless, watched = statistics.median(rates["headless"]), statistics.median(rates["watched"])
    print(f"machine: {machine()}; headless Chromium, JupyterLab; chapter run 1 (1,001 steps)")
    print("headless it/s:", ", ".join(f"{r:.0f}" for r in rates["headless"]))
    print("watched  it/s:", ", ".join(f"{r:.0f}" for r in rates["watched"]))
    print(f"median watched / median headless: {watched / headless:.2f} (target >= 0.70)")
    wall_h, wall_w = statistics.median(rates["headless_wall"]), statistics.median(walls)
    print(
        "wall clock, build and tracing included (click to 'finished' in the page; "
        "train(block=True) headless):"
    )
    print("headless it/s:", ", ".join(f"{r:.0f}" for r in rates["headless_wall"]))
    print("watched  it/s:", ", ".join(f"{r:.0f}" for r in walls))
    print(f"median watched / median headless: {wall_w / wall_h:.2f}")
    emit({"headless": rates["headless"], "watched": rates["watched"],
          "ratio": round(watched / headless, 3), "headless_wall": rates["headless_wall"],
          "watched_wall": walls, "wall_ratio": round(wall_w / wall_h, 3)}, __file__,
         args.quick)  # fmt: skip


if __name__ == "__main__":
    main()
