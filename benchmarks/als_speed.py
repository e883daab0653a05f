"""Time to the same loss: the chapter's gradient descent against ALS on the chapter's own loss.

For run 1 (observed MSE only, d=30) and run 3 (L2 0.1 + gravity 1, d=35) on the seeded split:
gradient descent with the chapter's settings (1000 / 2000 iterations at learning rate 10 / 20)
gives a final total loss; alternating least squares starts from the same initial embeddings and
sweeps until its total loss is at or below that. Prints both times and the ratio (same run).

Then implicit feedback against the implicit library (a test dependency, never a runtime one)
on the same train split, same objective: d=32, λ=60, confidence 1 + 8·weight (given to implicit
as its confidence matrix), both on the machine's two cores: every engine of ``als_engines.py``
in a fresh process (ours by numba's CPU kernels and by TensorFlow's path, each with the exact and
the conjugate-gradient solver; implicit's CPU CG solver; Spark's local ALS when installed):
seconds per sweep over 15 sweeps after the first, and peak memory. Then recall@10 on the test
split after 15 sweeps, ours (CG) and the library's, trained here.
Run: python benchmarks/als_speed.py
"""

from __future__ import annotations

import sys
import time

from _common import data_source, emit, machine, options

from mfwidgets import CFModel, build_model, build_regularized_model, load_lastfm
from mfwidgets.analysis import ranking_metrics
from mfwidgets.models import Callback, TrainConfig, from_implicit

LOSS = {
    "plain": ["train_error"],
    "regularized": ["observed_loss", "regularization_loss", "gravity_loss"],
}


class StopAt(Callback):
    """Stop ALS at the first record whose total loss is at or below ``target``."""

    def __init__(self, columns, target):
        self.columns, self.target, self.reached = columns, target, None

    def on_record(self, model, iteration, metrics, seconds):
        if self.reached is None and sum(metrics[c] for c in self.columns) <= self.target:
            self.reached = iteration
            model.request_stop()


RESULT_KEYS = ("run1_gd_s", "run1_als_s", "run1_als_sweeps", "run1_speedup", "run3_speedup",
               "ours_sweep_s", "implicit_sweep_s", "ours_recall", "implicit_recall")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv)
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    data = load_lastfm(src)
    listens = data.listens
    runs = {
        "run1": (lambda: build_model(listens, 30, 0.5, seed=0), "plain", 1000, 10.0),
        "run3": (
            lambda: build_regularized_model(listens, 35, 0.1, 1.0, 0.05, seed=0),
            "regularized",
            2000,
            20.0,
        ),
    }
    print(f"machine: {machine()}")
    result = {}
    for name, (make, kind, n, lr) in runs.items():
        n = 20 if args.quick else n  # a smoke run: 21 steps, then ALS to that loss
        gd = make()
        t0 = time.perf_counter()
        gd.train(num_iterations=n, learning_rate=lr)
        t_gd = time.perf_counter() - t0
        target = float(gd.history[LOSS[kind]].sum(axis=1).iloc[-1])
        als = make()
        stop = StopAt(LOSS[kind], target)
        t0 = time.perf_counter()
        als.train(num_iterations=50, optimizer="als", callbacks=stop)
        t_als = time.perf_counter() - t0
        sweeps = stop.reached
        print(
            f"{name}: gradient descent {n + 1} steps -> total loss {target:.4f} in {t_gd:.1f} s; "
            f"ALS reached it after {sweeps} sweeps in {t_als:.1f} s (tracing included) "
            f"-> {t_gd / t_als:.1f}x faster"
        )
        result |= {f"{name}_gd_s": t_gd, f"{name}_als_s": t_als, f"{name}_als_sweeps": sweeps,
                   f"{name}_speedup": t_gd / t_als}  # fmt: skip
    result |= implicit_against_the_library(data, sweeps=3 if args.quick else 15, quick=args.quick)
    emit({k: (round(v, 5) if isinstance(v, float) else v) for k, v in result.items()}, __file__,
         args.quick)  # fmt: skip


#: every engine of als_engines.py; a smoke run (--quick) times ours and the library's only
ENGINES = ("ours-cg", "ours-exact", "ours-cg-tf", "ours-exact-tf", "implicit", "spark")
QUICK_ENGINES = ("ours-cg", "implicit")


def implicit_against_the_library(
    data, dim=32, reg=60.0, alpha=8.0, sweeps=15, quick: bool = False
) -> dict:
    import scipy.sparse as sp
    from als_engines import compare, report
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    model = CFModel.from_listens(data, holdout_fraction=0.1, seed=0, kind="implicit",
                                 embedding_dim=dim, init_stddev=0.01,
                                 regularization_coeff=reg, alpha=alpha)  # fmt: skip
    train, test = model.split.train, model.split.test
    u, i, w = (train[c].to_numpy() for c in train.columns[:3])
    rows = compare(u, i, w, data.n_users, data.n_items, dim=dim, reg=reg, alpha=alpha,
                   sweeps=sweeps - 1, engines=QUICK_ENGINES if quick else ENGINES)  # fmt: skip
    out = report(rows, f"implicit feedback, Last.fm 2K train split, d={dim}, two cores:")
    model.train(config=TrainConfig(num_iterations=sweeps, optimizer="als", als_solver="cg"))
    out["ours_recall"] = ranking_metrics(model, train, test, 10)["recall@10"]
    conf = sp.csr_matrix((1.0 + alpha * w, (u, i)), shape=(data.n_users, data.n_items))
    with threadpool_limits(1, "blas"):  # implicit's own advice
        lib = AlternatingLeastSquares(factors=dim, regularization=reg, iterations=sweeps,
                                      use_cg=True, random_state=0,
                                      calculate_training_loss=False)  # fmt: skip
        lib.fit(conf.astype("float32"), show_progress=False)
    out["implicit_recall"] = ranking_metrics(from_implicit(lib, data), train, test, 10)["recall@10"]
    print(f"  recall@10 after {sweeps} sweeps: ours (cg) {out['ours_recall']:.4f}, "
          f"implicit {out['implicit_recall']:.4f}")  # fmt: skip
    return out


if __name__ == "__main__":
    main()
