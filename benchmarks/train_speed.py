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

import json
import subprocess
import sys
import time
from pathlib import Path

import tensorflow as tf
from _common import CHILD_ENV, data_source, emit, machine, options

from mfwidgets import TrainerWidget, build_model, build_regularized_model, load_lastfm

CONFIGS = {
    "run1 d=30 σ=0.5": dict(kind="plain", embedding_dim=30, init_stddev=0.5, lr=10.0, n=1000),
    "run2 d=30 σ=0.05": dict(kind="plain", embedding_dim=30, init_stddev=0.05, lr=10.0, n=1000),
    "run3 d=35 reg+grav": dict(
        kind="regularized", embedding_dim=35, init_stddev=0.05, lr=20.0, n=2000
    ),
}


RESULT_KEYS = ("run1_dense_s", "run1_cf_s", "run1_ratio", "run2_ratio", "run3_ratio",
               "three_runs_s", "widget_run1_s", "widget_run2_s", "widget_run3_s")  # fmt: skip


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


def dense_seconds_per_step(key: str, steps: int, quick: bool = False) -> float:
    """The chapter's TF1 loop, in a process of its own as the chapter ran it (the smoke run:
    in this one)."""
    if quick:
        import chapter_tf1

        with tf.Graph().as_default():
            return chapter_tf1.seconds_per_step(key, steps)
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("chapter_tf1.py")), key, str(steps)],
        capture_output=True,
        text=True,
        check=True,
        env={**CHILD_ENV, "MFWIDGETS_DATA": data_source()},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds_per_step"]


def cf_seconds_per_step(model, cfg, steps: int, warm: int = 99) -> float:
    model.train(num_iterations=warm, learning_rate=cfg["lr"])  # trace, warm up, size the calls
    t0 = time.perf_counter()
    model.train(num_iterations=steps - 1, learning_rate=cfg["lr"])  # `steps` steps
    return (time.perf_counter() - t0) / steps


def main(argv: list[str] | None = None) -> None:
    def add(ap):
        ap.add_argument("--dense-steps", type=int, default=8)
        ap.add_argument("--steps", type=int, default=300)

    args = options(__doc__, argv, add)
    if args.quick:  # a smoke run: a few steps of each, the runs 10 steps long
        args.dense_steps, args.steps = 2, 5
    runs = {name: cfg | {"n": 10} if args.quick else cfg for name, cfg in CONFIGS.items()}
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    data = load_lastfm(src)
    listens = data.listens
    print(f"machine: {machine()}, TensorFlow {tf.__version__}")
    result = {}
    for name, cfg in runs.items():
        key = name.split()[0]
        dense = dense_seconds_per_step(key, args.dense_steps, args.quick)
        ours = cf_seconds_per_step(make(listens, cfg), cfg, args.steps, 4 if args.quick else 99)
        print(
            f"{name:20s} dense {dense * 1000:7.1f} ms/step   CFModel {ours * 1000:6.2f} ms/step"
            f"   ratio {dense / ours:6.1f}x"
        )
        result |= {f"{key}_dense_s": dense, f"{key}_cf_s": ours, f"{key}_ratio": dense / ours}
    t0 = time.perf_counter()
    finals = []
    for cfg in runs.values():
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
    for cfg in runs.values():
        values = {k: cfg[k] for k in ("kind", "embedding_dim", "init_stddev")}
        trainer = TrainerWidget(data, **values, learning_rate=cfg["lr"], num_iterations=cfg["n"])
        t0 = time.perf_counter()
        trainer.train(block=True)
        clicked.append(time.perf_counter() - t0)
    print("the same runs in the TrainerWidget:", ", ".join(f"{t:.1f} s" for t in clicked))
    result |= {f"widget_run{i + 1}_s": t for i, t in enumerate(clicked)}
    emit({k: round(v, 5) for k, v in result.items()}, __file__, args.quick)


if __name__ == "__main__":
    main()
