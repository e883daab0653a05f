"""Time to the same loss: the chapter's gradient descent against ALS on the chapter's own loss.

For run 1 (observed MSE only, d=30) and run 3 (L2 0.1 + gravity 1, d=35) on the seeded split:
gradient descent with the chapter's settings (1000 / 2000 iterations at learning rate 10 / 20)
gives a final total loss; alternating least squares starts from the same initial embeddings and
sweeps until its total loss is at or below that. Prints both times and the ratio (same run).
Run: python benchmarks/als_speed.py
"""

from __future__ import annotations

import sys
import time

from _common import data_source, emit, machine

from mfwidgets import build_model, build_regularized_model, load_lastfm
from mfwidgets.models import Callback

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
    listens = load_lastfm(src).listens
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
        als.train(num_iterations=49, optimizer="als", callbacks=stop)
        t_als = time.perf_counter() - t0
        sweeps = stop.reached
        print(
            f"{name}: gradient descent {n + 1} steps -> total loss {target:.4f} in {t_gd:.1f} s; "
            f"ALS reached it after {sweeps} sweeps in {t_als:.1f} s (tracing included) "
            f"-> {t_gd / t_als:.1f}x faster"
        )
        result |= {f"{name}_gd_s": t_gd, f"{name}_als_s": t_als, f"{name}_als_sweeps": sweeps,
                   f"{name}_speedup": t_gd / t_als}  # fmt: skip
    emit({k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.items()})


if __name__ == "__main__":
    main()
