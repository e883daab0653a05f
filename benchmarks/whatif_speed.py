"""WhatIfPanel on Last.fm 2K: seconds from releasing a slider to the redraw, median of 10.

Starting run: the chapter's regularized model (d = 35, 2,001 gradient steps). Each release sets
a new regularization_coeff (or gravity, or dimension) and the time runs until the panel has
re-solved (3 warm ALS sweeps) and redrawn its figures, neighbours and norm chart. Baseline of
the same run: retraining the chapter's way for the same settings (a new model, 2,001 gradient
steps), which is what answering the question took before. Target (issue 18): under 2 s.
Run: python benchmarks/whatif_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time

from _common import data_source, emit, machine, options

from mfwidgets import WhatIfPanel, build_regularized_model, load_lastfm

RESULT_KEYS = ("median_s", "max_s", "times", "retrain_s")


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv)
    steps = 20 if args.quick else 2000  # the chapter's 2,001 steps; a smoke run's few
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    data = load_lastfm(src)
    reg = build_regularized_model(data.listens, 35, 0.1, 1.0, 0.05, seed=0)
    reg.train(num_iterations=steps, learning_rate=20.0)
    panel = WhatIfPanel(data, reg)
    releases = [("reg", 0.3), ("reg", 1.0), ("reg", 0.03), ("gravity", 3.0), ("gravity", 0.3),
                ("dim", 20), ("dim", 35), ("reg", 0.1), ("gravity", 1.0), ("reg", 3.0)]  # fmt: skip
    releases = releases[:2] if args.quick else releases
    times = []
    for slider, value in releases:
        t0 = time.perf_counter()
        getattr(panel, slider).value = value
        panel.wait()
        assert panel.status.level == "ok", panel.status.text
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    retrained = build_regularized_model(data.listens, 35, 3.0, 1.0, 0.05, seed=0)
    retrained.train(num_iterations=steps, learning_rate=20.0)
    baseline = time.perf_counter() - t0
    median = statistics.median(times)
    print(f"machine: {machine()}; Last.fm 2K, d=35, 3 warm ALS sweeps per release")
    print(f"release to redraw: median {median:.2f} s, max {max(times):.2f} s over {len(times)}")
    print(f"retraining the chapter's way (2,001 steps): {baseline:.1f} s "
          f"({baseline / median:.0f}x the what-if)")  # fmt: skip
    print(panel.summary.round(4).to_string())
    result = {"median_s": median, "max_s": max(times), "times": times, "retrain_s": baseline}
    emit(result, __file__, args.quick)


if __name__ == "__main__":
    main()
