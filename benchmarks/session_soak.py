"""A session that lasts: 50 runs in one process, with the four widgets following the trainer.

Headless, on Last.fm 2K: one TrainerWidget with a NeighborExplorer (Coldplay, dot and cosine),
an EmbeddingMap (PCA) and a ComparisonBoard following its runs; runs trained one after another
with the Train code path (``trainer.train(block=True)``), rotating the kinds plain (300 steps),
regularized (300 steps), biased (ALS, 10 sweeps) and implicit (ALS, 10 sweeps); every tenth run
a WhatIfPanel on it (a rating kind) re-solves a new regularization and "Keep" adds the result.

Measured after each run: the process's resident memory (VmRSS, after a garbage collection), and
the widgets' catch-up — from the moment the run joins the trainer's registry until the explorer,
the map and the board are idle again. Every warning (``warnings``) and every log record at
WARNING or above (TensorFlow's included) is counted. Last line: one JSON object with
``rss_growth_mib_per_run`` (over the last 20 runs), ``rss_end_mib``, ``catchup_p50_s``,
``catchup_p95_s``, ``warnings``, the run's own arrays (factors + history) in MiB, and
``rss_after_removal_mib``: once every run after the tenth is removed (``runs.remove``), to
compare with ``rss_after_10_mib``. Needs --runs 11 or more.
Run: python benchmarks/session_soak.py [--runs 50] (``--quick``: 4 runs of 2 steps or sweeps,
the second standing for the tenth)
"""

from __future__ import annotations

import gc
import logging
import sys
import time
import warnings

import numpy as np
from _common import data_source, emit, machine, options

from mfwidgets import (
    ComparisonBoard,
    EmbeddingMap,
    NeighborExplorer,
    TrainerWidget,
    WhatIfPanel,
    load_lastfm,
)

RESULT_KEYS = ("runs", "rss_start_mib", "rss_end_mib", "rss_after_10_mib",
               "rss_after_removal_mib", "rss_growth_mib_per_run", "run_arrays_mib",
               "catchup_p50_s", "catchup_p95_s", "warnings")  # fmt: skip
KINDS = [
    ("plain", {"kind": "plain", "optimizer": "sgd", "num_iterations": 300,
               "learning_rate": 10.0, "embedding_dim": 30, "init_stddev": 0.05}),
    ("regularized", {"kind": "regularized", "optimizer": "sgd", "num_iterations": 300,
                     "learning_rate": 20.0, "embedding_dim": 35, "init_stddev": 0.05,
                     "regularization_coeff": 0.1, "gravity_coeff": 1.0}),
    ("biased", {"kind": "biased", "optimizer": "als", "num_iterations": 10,
                "embedding_dim": 32, "init_stddev": 0.05, "regularization_coeff": 0.6,
                "gravity_coeff": 100.0}),
    ("implicit", {"kind": "implicit", "optimizer": "als", "num_iterations": 10,
                  "embedding_dim": 32, "init_stddev": 0.01, "regularization_coeff": 60.0,
                  "gravity_coeff": 0.0, "alpha": 8.0}),
]  # fmt: skip


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Counter(logging.Handler):
    """Counts log records at WARNING or above (and keeps the first few)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:160]}")


def own_mib(model) -> float:
    arrays = [model.user_factors, model.item_factors, model.history.to_numpy()]
    return sum(a.nbytes for a in arrays) / 2**20


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv, lambda p: p.add_argument("--runs", type=int, default=50))
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    print(f"machine: {machine()}")
    counter = Counter()
    logging.getLogger().addHandler(counter)
    caught: list[str] = []
    shown = warnings.showwarning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = lambda msg, cat, *a, **k: caught.append(f"{cat.__name__}: {msg}")
            result = soak(args, src, counter, caught)
    finally:
        logging.getLogger().removeHandler(counter)
        warnings.showwarning = shown
    emit(result, __file__, args.quick)


def soak(args, src: str, counter: Counter, caught: list[str]) -> dict:
    """The session of the module notes; the result's keys are :data:`RESULT_KEYS`."""
    runs, tenth = (4, 1) if args.quick else (args.runs, 9)  # (the smoke run: the 2nd for the 10th)

    data = load_lastfm(src)
    trainer = TrainerWidget(data, seed=0)
    added: dict[str, float] = {}
    trainer.runs.observe(lambda runs, name: added.__setitem__(name, time.perf_counter()))
    explorer = NeighborExplorer(data, trainer, measure="both")
    explorer.select("Coldplay")
    emap = EmbeddingMap(data, trainer, seed=0)
    board = ComparisonBoard(trainer, data, k=10)
    start = rss_mib()
    print(f"widgets built: {start:,.0f} MiB")
    rss, catchup, own = [], [], []
    for r in range(runs):
        label, values = KINDS[r % len(KINDS)]
        if args.quick:  # a smoke run: the same session, each run 2 steps or sweeps
            values = values | {"num_iterations": 2}
        for name, value in values.items():
            trainer.w[name].value = value
        trainer.w["name"].value = f"run{r:02d}_{label}"
        trainer.train(block=True)
        if trainer.last_error:
            sys.exit(f"run {r} failed: {trainer.last_error}")
        model = trainer.model
        if (r + 1) % (2 if args.quick else 10) == 0 and not model.config.implicit:
            panel = WhatIfPanel(data, model, runs=trainer, sweeps=3)
            stops = [v for _, v in panel.reg.options if v != panel.reg.value]
            panel.reg.value = stops[len(stops) // 2]
            panel.wait(120)
            panel.name.value = f"whatif{r:02d}"
            panel.keep_button.click()
        emap.wait(120)
        board.wait(300)
        latest = max(added.values())
        catchup.append(time.perf_counter() - latest)
        gc.collect()
        rss.append(rss_mib())
        own.append(own_mib(model))
        if r == tenth:
            first_ten = len(trainer.runs)
        print(f"run {r + 1:2d} {label:11s} RSS {rss[-1]:7,.0f} MiB  catch-up {catchup[-1]:5.2f} s  "
              f"runs {len(trainer.runs)}", flush=True)  # fmt: skip
    # let go of every run after the tenth (the widgets drop them): memory should return to
    # its level after the tenth run, when TensorFlow and the widgets were already warm
    for name in trainer.runs.names[first_ten:]:
        trainer.runs.remove(name)
    board.wait(120)
    emap.wait(120)
    gc.collect()
    cleared = rss_mib()
    print(f"after removing the runs after the tenth: {cleared:,.0f} MiB "
          f"(after the tenth run: {rss[tenth]:,.0f} MiB)")  # fmt: skip
    tail = min(20, len(rss) - 1)
    growth = (rss[-1] - rss[-1 - tail]) / tail if tail > 0 else float("nan")
    noise = caught + counter.records
    for line in noise[:10]:
        print("seen:", line)
    return {
        "runs": runs,
        "rss_start_mib": round(start, 1),
        "rss_end_mib": round(rss[-1], 1),
        "rss_after_10_mib": round(rss[tenth], 1),
        "rss_after_removal_mib": round(cleared, 1),
        "rss_growth_mib_per_run": round(growth, 2),
        "run_arrays_mib": round(float(np.mean(own)), 2),
        "catchup_p50_s": round(float(np.percentile(catchup, 50)), 3),
        "catchup_p95_s": round(float(np.percentile(catchup, 95)), 3),
        "warnings": len(noise),
    }


if __name__ == "__main__":
    main()
