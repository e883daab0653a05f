"""ALS rows in bounded memory: the numba kernels and TensorFlow's blocked path solve the same
systems as TensorFlow's path in one block, and train to the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import random_listens

from mfwidgets.models import CFModel, TrainConfig


def systems(seed=0, n_rows=40, n_cols=60, n_pairs=700, d=6):
    """Random per-row least-squares systems: pairs in no particular order, some rows empty."""
    rng = np.random.default_rng(seed)
    cells = rng.choice((n_rows - 5) * n_cols, n_pairs, replace=False)  # the last 5 rows empty
    rows, cols = cells // n_cols, cells % n_cols
    f32 = np.float32
    Y = rng.normal(0, 0.5, (n_cols, d)).astype(f32)
    G = (Y.T @ Y / n_cols + 0.3 * np.eye(d)).astype(f32)
    w, t = rng.uniform(0, 3, n_pairs).astype(f32), rng.normal(1, 1, n_pairs).astype(f32)
    x0, prior = (rng.normal(0, 0.2, (n_rows, d)).astype(f32) for _ in range(2))
    return rows, cols, n_rows, Y, G, w, t, x0, prior


@pytest.mark.parametrize("with_prior", [False, True])
def test_numba_and_tensorflow_blocks_solve_the_same_rows(with_prior):
    import tensorflow as tf

    from mfwidgets.models.als import AlsSide

    rows, cols, n, Y, G, w, t, x0, prior = systems()
    prior = prior if with_prior else None
    sides = {
        "one block": AlsSide(rows, cols, n),
        "blocks": AlsSide(rows, cols, n, width=6, block_bytes=3000),  # a few rows each
        "numba": AlsSide(rows, cols, n, compiled=True),
    }
    assert len(sides["blocks"].cg_blocks) > 5 and len(sides["one block"].cg_blocks) == 1
    T = [tf.constant(a) for a in (Y, G, w, t)]
    P = None if prior is None else tf.constant(prior)
    exact = {k: s.solve(*T, P).numpy() for k, s in sides.items()}
    cg = {k: s.solve_cg(*T, tf.constant(x0), 3, P).numpy() for k, s in sides.items()}
    for k in ("blocks", "numba"):
        np.testing.assert_allclose(exact[k], exact["one block"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(cg[k], cg["one block"], rtol=1e-4, atol=1e-5)
    assert not exact["numba"][-5:].any()  # rows without pairs: 0, on every path
    # the systems are solved: A x = b at every row with pairs (the test can fail)
    A = np.repeat(G[None].astype(np.float64), n, 0)
    b = np.zeros((n, Y.shape[1])) if prior is None else prior.astype(np.float64)
    for r, c, wk, tk in zip(rows, cols, w, t, strict=True):
        A[r] += wk * np.outer(Y[c], Y[c])
        b[r] += tk * Y[c]
    x = exact["numba"].astype(np.float64)
    has = np.bincount(rows, minlength=n) > 0
    np.testing.assert_allclose(np.einsum("rij,rj->ri", A, x)[has], b[has], atol=1e-4)


@pytest.mark.parametrize("kind", ["implicit", "biased"])  # (each family's sweep)
@pytest.mark.parametrize("solver", ["exact", "cg"])
def test_training_is_the_same_by_every_row_solver(kind, solver):
    df = random_listens(30, 50, 500, seed=2)
    histories = {}
    for row_solver, block_bytes in (("tensorflow", None), ("tensorflow", 25_000), ("numba", None)):
        model = CFModel(df, kind=kind, embedding_dim=4, init_stddev=0.1, seed=0,
                        regularization_coeff=1.0, n_users=30, n_items=50)  # fmt: skip
        model.row_solver, model.block_bytes = row_solver, block_bytes
        model.train(config=TrainConfig(num_iterations=6, optimizer="als", als_solver=solver))
        histories[row_solver, block_bytes] = model.history.drop(columns="seconds").to_numpy()
    first = histories["tensorflow", None]
    for key, history in histories.items():
        np.testing.assert_allclose(history, first, rtol=2e-4, atol=1e-6, err_msg=str(key))
    assert np.ptp(first[:, 0]) > 0  # it trained


def test_a_row_solver_that_is_not_one_is_refused():
    from mfwidgets.models.als import compiled_rows

    with pytest.raises(ValueError, match="row_solver"):
        compiled_rows("lapack")
