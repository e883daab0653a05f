"""The conjugate-gradient ALS solver: the exact solver's rows in d steps, the same optimum."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import random_listens

from mfwidgets.models import CFModel, TrainConfig


def test_cg_with_d_steps_solves_the_rows_exactly():
    import tensorflow as tf

    from mfwidgets.models.als import AlsSide

    rng = np.random.default_rng(0)
    d, n_rows, n_cols = 4, 12, 20
    rows = np.repeat(np.arange(n_rows), 5)
    cols = rng.integers(0, n_cols, len(rows))
    side = AlsSide(rows, cols, n_rows)
    Y = tf.constant(rng.normal(size=(n_cols, d)), tf.float32)
    G = tf.constant(np.eye(d) * 0.5 + 0.1, tf.float32)
    w = tf.constant(rng.uniform(0.5, 2, len(rows)), tf.float32)
    t = tf.constant(rng.normal(size=len(rows)), tf.float32)
    exact = side.solve(Y, G, w, t).numpy()
    cg = side.solve_cg(Y, G, w, t, tf.zeros((n_rows, d)), steps=d).numpy()
    np.testing.assert_allclose(cg, exact, atol=1e-3)
    few = side.solve_cg(Y, G, w, t, tf.zeros((n_rows, d)), steps=1).numpy()
    assert np.abs(few - exact).max() > 1e-2  # one step is not the solution: the test can fail


@pytest.mark.parametrize("kind", ["implicit", "regularized", "biased"])
def test_cg_sweeps_reach_the_exact_solvers_optimum(kind):
    df = random_listens(30, 50, 500)
    losses = {}
    for solver in ("exact", "cg"):
        model = CFModel(df, kind=kind, embedding_dim=4, init_stddev=0.1, seed=0,
                        regularization_coeff=1.0, n_users=30, n_items=50)  # fmt: skip
        model.train(config=TrainConfig(num_iterations=60, optimizer="als", als_solver=solver))
        last = model.history.iloc[-1]
        losses[solver] = (
            sum(last[c] for c in last.index if c.endswith("_loss")) or last["train_error"]
        )
    # the same objective within 0.5 % (3 warm CG steps per half-sweep approach its fixed point)
    assert losses["cg"] == pytest.approx(losses["exact"], rel=5e-3)


def test_the_solver_is_checked_and_only_for_als():
    with pytest.raises(ValueError, match="als_solver"):
        TrainConfig(optimizer="als", als_solver="lu")
    assert TrainConfig.params()  # the trainer greys it out unless the optimizer is ALS
    uses = TrainConfig.uses
    assert uses("als_solver", "regularized", "als") and not uses("als_solver", "regularized", "sgd")
