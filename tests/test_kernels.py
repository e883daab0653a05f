"""The factorizations' maths (``models/kernels.py``): each loss part, its gradient and the
gradient-descent steps, exact against the chapter's dense formulation (``dense_reference``)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from dense_reference import dense_gradients, dense_loss_parts, dense_train
from synthetic import random_listens

from mfwidgets.models import (
    CFModel,
    ModelConfig,
)
from mfwidgets.models import kernels as solvers


def kernels_for(df, U, V, reg=0.0, grav=0.0, biased=False, bu=None, bi=None, mu=0.0):
    variables = [tf.Variable(U.astype(np.float32)), tf.Variable(V.astype(np.float32))]
    if biased:
        variables += [tf.Variable(bu.astype(np.float32)), tf.Variable(bi.astype(np.float32))]
    kind = "biased" if biased else ("regularized" if reg or grav else "plain")
    config = ModelConfig(
        kind=kind,
        regularization_coeff=reg,
        gravity_coeff=grav,
        user_bias_reg=reg * 3,
        item_bias_reg=reg * 5,
    )
    pairs = solvers.Pairs(df["userID"].to_numpy(), df["artistID"].to_numpy(), df["listenCount"])
    return solvers.make_kernels(config, variables, (U.shape[0], V.shape[0]), pairs, None, mu)


@pytest.fixture
def uv():
    rng = np.random.default_rng(1)
    return rng.normal(0, 0.7, (13, 5)), rng.normal(0, 0.7, (17, 5))


# ------------------------------------------------------------------------------------------------
# exactness
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("part", ["observed", "regularization", "gravity"])
def test_each_loss_part_and_its_gradient_equal_the_dense_formulation(uv, part):
    df = random_listens()
    U, V = uv
    reg, grav = 0.3, 1.7
    k = kernels_for(df, U, V, reg=reg, grav=grav)
    idx = df[["userID", "artistID"]].to_numpy()
    values = df["listenCount"].to_numpy(np.float32)
    ours = k.loss_parts([tf.constant(U, tf.float32), tf.constant(V, tf.float32)])
    dense = dense_loss_parts(
        tf.constant(U, tf.float32), tf.constant(V, tf.float32), idx, values, reg, grav
    )
    np.testing.assert_allclose(float(ours[part]), float(dense[part]), rtol=2e-6)
    # the gradient of this part alone: switch the other parts off on our side
    only = {"observed": (0.0, 0.0), "regularization": (reg, 0.0), "gravity": (0.0, grav)}[part]
    k_part = kernels_for(df, U, V, reg=only[0], grav=only[1])
    gU, gV = k_part.gradients([tf.constant(U, tf.float32), tf.constant(V, tf.float32)])
    if part != "observed":  # remove the observed part, which our gradients always include
        gU0, gV0 = kernels_for(df, U, V).gradients(
            [tf.constant(U, tf.float32), tf.constant(V, tf.float32)]
        )
        gU, gV = gU - gU0, gV - gV0
    dU, dV = dense_gradients(
        U.astype(np.float32), V.astype(np.float32), idx, values, reg, grav, (part,)
    )
    np.testing.assert_allclose(gU.numpy(), dU, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gV.numpy(), dV, rtol=1e-4, atol=1e-6)


def test_full_gradient_with_wide_embeddings_uses_column_blocks_and_stays_exact():
    """d = 40 > 31 takes the column-blocked sparse products; results must not change."""
    rng = np.random.default_rng(2)
    df = random_listens(n_users=30, n_items=50, n=400)
    U, V = rng.normal(0, 0.3, (30, 40)), rng.normal(0, 0.3, (50, 40))
    assert len(solvers.column_cuts(40)) == 2
    k = kernels_for(df, U, V, reg=0.1, grav=1.0)
    gU, gV = k.gradients([tf.constant(U, tf.float32), tf.constant(V, tf.float32)])
    idx = df[["userID", "artistID"]].to_numpy()
    dU, dV = dense_gradients(
        U.astype(np.float32),
        V.astype(np.float32),
        idx,
        df["listenCount"].to_numpy(np.float32),
        0.1,
        1.0,
    )
    np.testing.assert_allclose(gU.numpy(), dU, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gV.numpy(), dV, rtol=1e-4, atol=1e-6)


def test_biased_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    df = random_listens()
    U, V = rng.normal(0, 0.5, (13, 3)), rng.normal(0, 0.5, (17, 3))
    bu, bi = rng.normal(0, 0.3, 13), rng.normal(0, 0.3, 17)
    k = kernels_for(df, U, V, reg=0.2, grav=0.5, biased=True, bu=bu, bi=bi, mu=2.5)
    params = [tf.constant(x, tf.float64) for x in (U, V, bu, bi)]

    def total(ps):
        parts = k.loss_parts([tf.cast(p, tf.float32) for p in ps])
        return float(parts["observed"] + parts["regularization"] + parts["gravity"])

    grads = k.gradients([tf.cast(p, tf.float32) for p in params])
    for which in range(4):  # one coordinate of each parameter, central differences
        eps = 1e-2
        plus = [p.numpy().copy() for p in params]
        minus = [p.numpy().copy() for p in params]
        plus[which].flat[1] += eps
        minus[which].flat[1] -= eps
        numeric = (total(plus) - total(minus)) / (2 * eps)
        assert grads[which].numpy().flat[1] == pytest.approx(numeric, rel=2e-2, abs=2e-4)


def test_training_follows_the_dense_gradient_descent_with_n_plus_one_steps():
    df = random_listens()
    model = CFModel(df, embedding_dim=4, init_stddev=0.5, seed=7, n_users=13, n_artists=17)
    U0, V0 = model.embeddings["userID"], model.embeddings["artistID"]
    model.train(num_iterations=20, learning_rate=0.5)
    assert model.iterations_done == 21  # the chapter's range(num_iterations + 1)
    U, V = dense_train(
        U0, V0, df[["userID", "artistID"]].to_numpy(), df["listenCount"].to_numpy(), 21, 0.5
    )
    np.testing.assert_allclose(model.embeddings["userID"], U, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.embeddings["artistID"], V, rtol=1e-4, atol=1e-5)


def test_regularized_training_follows_the_dense_formulation():
    df = random_listens()
    model = CFModel(
        df, kind="regularized", embedding_dim=4, init_stddev=0.5, seed=8,
        regularization_coeff=0.1, gravity_coeff=1.0,
    )  # fmt: skip
    U0, V0 = model.embeddings["userID"], model.embeddings["artistID"]
    model.train(num_iterations=9, learning_rate=1.0)
    n_u, n_v = model.n_users, model.n_artists
    assert (n_u, n_v) == (df["userID"].max() + 1, df["artistID"].max() + 1)
    _, V = dense_train(
        U0, V0, df[["userID", "artistID"]].to_numpy(), df["listenCount"].to_numpy(), 10, 1.0,
        reg=0.1, grav=1.0,
    )  # fmt: skip
    np.testing.assert_allclose(model.embeddings["artistID"], V, rtol=1e-4, atol=1e-5)
