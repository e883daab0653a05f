"""Time to the same loss: the chapter's gradient descent against ALS on the chapter's own loss.

For run 1 (observed MSE only, d=30) and run 3 (L2 0.1 + gravity 1, d=35) on the seeded split:
gradient descent with the chapter's settings (1000 / 2000 iterations at learning rate 10 / 20)
gives a final total loss; alternating least squares starts from the same initial embeddings and
sweeps until its total loss is at or below that. Prints both times and the ratio (same run).

Then implicit feedback against the implicit library (a test dependency, never a runtime one),
same split, same objective: d=30, λ=60, confidence 1 + 8·weight (given to implicit as its
confidence matrix), 15 sweeps from small random factors, both on the machine's two cores: our
exact solver, our conjugate-gradient solver (3 steps, as implicit's), implicit's CPU CG solver;
seconds per sweep (ours: sweeps 2-15, the first call traces; implicit's: all 15) and recall@10
on the test split after the 15 sweeps.
Run: python benchmarks/als_speed.py
"""

from __future__ import annotations

import sys
import time

from _common import data_source, emit, machine

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


def main() -> None:
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
    result |= implicit_against_the_library(data)
    emit({k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.items()})


def implicit_against_the_library(data, dim=30, reg=60.0, alpha=8.0, sweeps=15) -> dict:
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit's own advice (it threads)
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares

    out = {}
    for solver in ("exact", "cg"):
        model = CFModel.from_listens(data, holdout_fraction=0.1, seed=0, kind="implicit",
                                     embedding_dim=dim, init_stddev=0.01,
                                     regularization_coeff=reg, alpha=alpha)  # fmt: skip
        model.train(config=TrainConfig(num_iterations=1, optimizer="als", als_solver=solver))
        t0 = time.perf_counter()
        model.train(config=TrainConfig(num_iterations=sweeps - 1, optimizer="als",
                                       als_solver=solver))  # fmt: skip
        seconds = (time.perf_counter() - t0) / (sweeps - 1)
        recall = ranking_metrics(model, model.split.train, model.split.test, 10)["recall@10"]
        out[f"ours_{solver}_s"], out[f"ours_{solver}_recall"] = seconds, recall
        train, test = model.split.train, model.split.test
    u, i, w = (train[c].to_numpy() for c in train.columns[:3])
    conf = sp.csr_matrix((1.0 + alpha * w, (u, i)), shape=(data.n_users, data.n_items))
    lib = AlternatingLeastSquares(factors=dim, regularization=reg, iterations=sweeps,
                                  use_cg=True, num_threads=0, random_state=0,
                                  calculate_training_loss=False)  # fmt: skip
    t0 = time.perf_counter()
    lib.fit(conf.astype("float32"), show_progress=False)
    out["implicit_lib_s"] = (time.perf_counter() - t0) / sweeps
    factors = from_implicit(lib, data)
    out["implicit_lib_recall"] = ranking_metrics(factors, train, test, 10)["recall@10"]
    print(f"implicit feedback, d={dim}, {sweeps} sweeps, two cores:")
    for name in ("ours_exact", "ours_cg", "implicit_lib"):
        print(f"  {name:13s} {out[name + '_s'] * 1000:6.1f} ms per sweep, "
              f"recall@10 {out[name + '_recall']:.4f}")  # fmt: skip
    print(f"  ours (cg) / implicit: {out['ours_cg_s'] / out['implicit_lib_s']:.2f} x the time")
    return out


if __name__ == "__main__":
    main()
