"""ComparisonBoard and popularity_bias on Last.fm 2K, against ``evaluate`` in the same run.

Three runs of the chapter's split (seed 0): the chapter's low-init model (1,000 gradient steps),
a biased and an implicit model (15 ALS sweeps each). Measured: the board's first full
computation (widget built to results shown), switching the reference run, switching k,
``popularity_bias`` per model (every user, dot and cosine), and as the baseline one
``evaluate`` call on the same three models (test MSE and top-10 metrics, no tests, no cache).
Targets (issue 17): first computation under 10 s, a switch under 1 s, under 5 s per model.
Run: python benchmarks/board_speed.py
"""

from __future__ import annotations

import sys
import time

from _common import data_source, emit, machine, options

from mfwidgets import CFModel, ComparisonBoard, build_model, evaluate, load_lastfm
from mfwidgets.analysis import popularity_bias
from mfwidgets.models import TrainConfig


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


RESULT_KEYS = ("evaluate_s", "board_first_s", "switch_reference_max_s", "switch_k_max_s",
               "popularity_bias_s")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv)
    steps, sweeps = (20, 2) if args.quick else (1000, 15)
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    data = load_lastfm(src)
    print(f"machine: {machine()}")
    lowinit = build_model(data.listens, embedding_dim=30, init_stddev=0.05, seed=0)
    lowinit.train(num_iterations=steps, learning_rate=10.0)
    runs = {"model_lowinit": lowinit}
    for kind, extra in (("biased", {"regularization_coeff": 1.0}),
                        ("implicit", {"regularization_coeff": 60.0, "alpha": 8.0})):  # fmt: skip
        model = CFModel.from_listens(data, holdout_fraction=0.1, seed=0, kind=kind,
                                     embedding_dim=32, init_stddev=0.01, **extra)  # fmt: skip
        model.train(config=TrainConfig(num_iterations=sweeps, optimizer="als"))
        runs[kind] = model
    train, test = lowinit.split.train, lowinit.split.test

    _, t_eval = timed(lambda: evaluate(runs, data, train, test, k=10, baselines=False))

    def first():
        board = ComparisonBoard(runs, data, k=10)
        board.wait()
        return board

    board, t_first = timed(first)
    assert board.status.level == "ok", board.status.text

    def switch(widget, value):
        widget.value = value
        board.wait()

    t_ref = [timed(lambda v=v: switch(board.reference, v))[1] for v in ("biased", "implicit")]
    t_k = [timed(lambda v=v: switch(board.k, v))[1] for v in (20, 5, 10)]
    t_bias = {n: timed(lambda m=m: popularity_bias(m, data, k=10))[1] for n, m in runs.items()}

    print(f"evaluate (3 runs, baseline):        {t_eval:6.2f} s")
    print(
        f"board, first computation (3 runs):  {t_first:6.2f} s  ({t_first / t_eval:.1f}× evaluate)"
    )
    print(f"board, switch reference:            {max(t_ref):6.2f} s max of {len(t_ref)}")
    print(f"board, switch k:                    {max(t_k):6.2f} s max of {len(t_k)}")
    for name, t in t_bias.items():
        print(f"popularity_bias, {name:14s}      {t:6.2f} s")
    result = {"evaluate_s": t_eval, "board_first_s": t_first, "switch_reference_max_s": max(t_ref),
              "switch_k_max_s": max(t_k), "popularity_bias_s": t_bias}  # fmt: skip
    emit(result, __file__, args.quick)


if __name__ == "__main__":
    main()
