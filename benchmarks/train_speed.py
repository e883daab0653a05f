"""Seconds per gradient step: the chapter's own TF1 code against CFModel, same run, same data.

For the chapter's three configurations (d=30 σ=0.5; d=30 σ=0.05; d=35 with L2 0.1 and gravity 1)
it times (a) the chapter's dense formulation as the chapter ran it — its TF1 graph with
gather_nd(matmul(U, Vᵀ)) and ``session.run((train_op, metrics))`` per iteration, in a subprocess
(benchmarks/chapter_tf1.py) — and (b) CFModel's fused sparse steps; prints the ratios, then the
wall time of the chapter's three runs end to end (1000 + 1000 + 2000 iterations, model building
and tracing included), then the same runs through the TrainerWidget (what Train does).
Run: python benchmarks/train_speed.py [--dense-steps 8] [--steps 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import tensorflow as tf
from _common import data_source, emit, machine

from mfwidgets import TrainerWidget, build_model, build_regularized_model, load_lastfm

CONFIGS = {
    "run1 d=30 σ=0.5": dict(kind="plain", embedding_dim=30, init_stddev=0.5, lr=10.0, n=1000),
    "run2 d=30 σ=0.05": dict(kind="plain", embedding_dim=30, init_stddev=0.05, lr=10.0, n=1000),
    "run3 d=35 reg+grav": dict(
        kind="regularized", embedding_dim=35, init_stddev=0.05, lr=20.0, n=2000
    ),
}


def make(listens, cfg):
    if cfg["kind"] == "plain":
        return build_model(
            listens, embedding_dim=cfg["embedding_dim"], init_stddev=cfg["init_stddev"], seed=0
        )
    return build_regularized_model(
        listens,
        embedding_dim=cfg["embedding_dim"],
        init_stddev=cfg["init_stddev"],
        regularization_coeff=0.1,
        gravity_coeff=1.0,
        seed=0,
    )


def dense_seconds_per_step(key: str, steps: int) -> float:
    """The chapter's TF1 loop (graph mode needs its own process)."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("chapter_tf1.py")), key, str(steps)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MFWIDGETS_DATA": data_source()},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds_per_step"]


def cf_seconds_per_step(model, cfg, steps: int) -> float:
    model.train(num_iterations=99, learning_rate=cfg["lr"])  # trace, warm up, size the calls
    t0 = time.perf_counter()
    model.train(num_iterations=steps - 1, learning_rate=cfg["lr"])  # `steps` steps
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dense-steps", type=int, default=8)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    data = load_lastfm(src)
    listens = data.listens
    print(f"machine: {machine()}, TensorFlow {tf.__version__}")
    result = {}
    for name, cfg in CONFIGS.items():
        key = name.split()[0]
        dense = dense_seconds_per_step(key, args.dense_steps)
        ours = cf_seconds_per_step(make(listens, cfg), cfg, args.steps)
        print(
            f"{name:20s} dense {dense * 1000:7.1f} ms/step   CFModel {ours * 1000:6.2f} ms/step"
            f"   ratio {dense / ours:6.1f}x"
        )
        result |= {f"{key}_dense_s": dense, f"{key}_cf_s": ours, f"{key}_ratio": dense / ours}
    t0 = time.perf_counter()
    finals = []
    for cfg in CONFIGS.values():
        m = make(listens, cfg)
        out = m.train(num_iterations=cfg["n"], learning_rate=cfg["lr"])
        finals.append(out[0])
    total = time.perf_counter() - t0
    print(f"the chapter's three runs end to end (1001 + 1001 + 2001 steps): {total:.1f} s")
    for f in finals:
        print("   final metrics:", {k: round(v, 4) for k, v in f.items()})
    result["three_runs_s"] = total
    # the same runs as the TrainerWidget's Train button runs them (train(block=True))
    clicked = []
    for cfg in CONFIGS.values():
        values = {k: cfg[k] for k in ("kind", "embedding_dim", "init_stddev")}
        trainer = TrainerWidget(data, **values, learning_rate=cfg["lr"], num_iterations=cfg["n"])
        t0 = time.perf_counter()
        trainer.train(block=True)
        clicked.append(time.perf_counter() - t0)
    print("the same runs in the TrainerWidget:", ", ".join(f"{t:.1f} s" for t in clicked))
    result |= {f"widget_run{i + 1}_s": t for i, t in enumerate(clicked)}
    emit({k: round(v, 5) for k, v in result.items()})


if __name__ == "__main__":
    main()
