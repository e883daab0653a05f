"""The chapter's own TF1 training loop, as the reference of benchmarks/train_speed.py.

It builds the chapter's graph (in a graph of its own, ``tf.Graph().as_default()``, as
``disable_eager_execution`` would make every graph, without changing the process) —
``gather_nd(matmul(U, V, transpose_b=True), indices)`` for the train and test errors, the L2
and gravity terms, GradientDescentOptimizer — and times ``session.run((train_op, metrics))``,
the chapter's loop body, on the same seeded split. Prints one JSON line.
Usage: python benchmarks/chapter_tf1.py [--quick] [{run1|run2|run3} [STEPS]]
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow.compat.v1 as tf
from _common import data_source, emit, options

from mfwidgets import load_lastfm, split_dataframe

RESULT_KEYS = ("config", "seconds_per_step")
CONFIGS = {
    "run1": dict(d=30, stddev=0.5, lr=10.0, reg=None),
    "run2": dict(d=30, stddev=0.05, lr=10.0, reg=None),
    "run3": dict(d=35, stddev=0.05, lr=20.0, reg=(0.1, 1.0)),
}


def sparse_tensor(df, shape):
    return tf.SparseTensor(
        indices=df[["userID", "artistID"]].values,
        values=df["listenCount"].values.astype("float32"),
        dense_shape=shape,
    )


def sparse_mean_square_error(sparse_listens, U, V):
    predictions = tf.gather_nd(tf.matmul(U, V, transpose_b=True), sparse_listens.indices)
    return tf.losses.mean_squared_error(sparse_listens.values, predictions)


def main(argv: list[str] | None = None) -> None:
    def add(parser):
        parser.add_argument("config", nargs="?", default="run1", choices=sorted(CONFIGS))
        parser.add_argument("steps", nargs="?", type=int, default=8)

    args = options(__doc__, argv, add)
    steps = 2 if args.quick else args.steps
    with tf.Graph().as_default():
        per_step = seconds_per_step(args.config, steps)
    emit({"config": args.config, "seconds_per_step": per_step}, __file__, args.quick)


def seconds_per_step(name: str, steps: int) -> float:
    """The chapter's loop body, timed over ``steps`` after two warm-up steps."""
    cfg = CONFIGS[name]
    listens = load_lastfm(data_source()).listens
    train, test = split_dataframe(listens, 0.1, seed=0)
    shape = [listens.userID.nunique(), listens.artistID.nunique()]
    A_train, A_test = sparse_tensor(train, shape), sparse_tensor(test, shape)
    U = tf.Variable(tf.random_normal([shape[0], cfg["d"]], stddev=cfg["stddev"]))
    V = tf.Variable(tf.random_normal([shape[1], cfg["d"]], stddev=cfg["stddev"]))
    train_loss = sparse_mean_square_error(A_train, U, V)
    test_loss = sparse_mean_square_error(A_test, U, V)
    if cfg["reg"] is None:
        loss, metrics = train_loss, [{"train_error": train_loss, "test_error": test_loss}]
    else:
        reg_c, grav_c = cfg["reg"]
        gravity = (
            grav_c
            / (shape[0] * shape[1])
            * tf.reduce_sum(tf.matmul(U, U, transpose_a=True) * tf.matmul(V, V, transpose_a=True))
        )
        regularization = reg_c * (tf.reduce_sum(U * U) / shape[0] + tf.reduce_sum(V * V) / shape[1])
        loss = train_loss + regularization + gravity
        metrics = [
            {"train_error_observed": train_loss, "test_error_observed": test_loss},
            {
                "observed_loss": train_loss,
                "regularization_loss": regularization,
                "gravity_loss": gravity,
            },
        ]
    train_op = tf.train.GradientDescentOptimizer(cfg["lr"]).minimize(loss)
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        for _ in range(2):  # warm-up
            session.run((train_op, metrics))
        t0 = time.perf_counter()
        for _ in range(steps):
            session.run((train_op, metrics))
        return (time.perf_counter() - t0) / steps


if __name__ == "__main__":
    main()
