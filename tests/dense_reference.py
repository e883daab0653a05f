"""The chapter's dense formulation, used as the oracle in tests and as the baseline in benchmarks.

It forms the full users × artists matrix UVᵀ and gathers the observed entries, exactly as the
chapter's ``sparse_mean_square_error`` did; gradients come from GradientTape.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def dense_loss_parts(U, V, idx, values, reg=0.0, grav=0.0):
    """observed MSE, regularization and gravity as the chapter computed them."""
    pred = tf.gather_nd(tf.matmul(U, V, transpose_b=True), idx)
    observed = tf.reduce_mean(tf.square(values - pred))
    n_u, n_v = U.shape[0], V.shape[0]
    regularization = reg * (tf.reduce_sum(U * U) / n_u + tf.reduce_sum(V * V) / n_v)
    gravity = (
        grav
        / (n_u * n_v)
        * tf.reduce_sum(tf.matmul(U, U, transpose_a=True) * tf.matmul(V, V, transpose_a=True))
    )
    return {"observed": observed, "regularization": regularization, "gravity": gravity}


def dense_gradients(
    U, V, idx, values, reg=0.0, grav=0.0, parts=("observed", "regularization", "gravity")
):
    Ut, Vt = tf.Variable(U), tf.Variable(V)
    with tf.GradientTape() as tape:
        loss_parts = dense_loss_parts(Ut, Vt, idx, values, reg, grav)
        total = tf.add_n([loss_parts[p] for p in parts])
    gU, gV = tape.gradient(total, [Ut, Vt])
    return gU.numpy(), gV.numpy()


def dense_train(U, V, idx, values, steps, lr, reg=0.0, grav=0.0):
    """``steps`` plain gradient-descent steps of the dense formulation (eager)."""
    Ut, Vt = tf.Variable(np.asarray(U, np.float32)), tf.Variable(np.asarray(V, np.float32))
    idx = tf.constant(idx, tf.int64)
    values = tf.constant(values, tf.float32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            p = dense_loss_parts(Ut, Vt, idx, values, reg, grav)
            total = p["observed"] + p["regularization"] + p["gravity"]
        gU, gV = tape.gradient(total, [Ut, Vt])
        Ut.assign_sub(lr * gU)
        Vt.assign_sub(lr * gV)

    for _ in range(steps):
        step()
    return Ut.numpy(), Vt.numpy()
