"""What-if: warm starts that keep the factorization, and the panel's latest-request-wins loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset

from mfwidgets.models import CFModel, Runs, TrainConfig
from mfwidgets.models.whatif import resize_factors, warm_start
from mfwidgets.widgets.whatif import WhatIfPanel


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    cells = rng.choice(40 * 60, 900, replace=False)
    listens = pd.DataFrame({"userID": cells // 60, "artistID": cells % 60,
                            "listenCount": rng.uniform(1, 5, len(cells))})  # fmt: skip
    return dataset(listens, 40, 60)


@pytest.fixture(scope="module")
def model(data):
    m = CFModel.from_listens(data, holdout_fraction=0.1, kind="regularized", embedding_dim=6,
                             init_stddev=0.1, regularization_coeff=0.1, gravity_coeff=1.0,
                             seed=0)  # fmt: skip
    m.train(config=TrainConfig(num_iterations=10, optimizer="als"))
    return m


def test_resize_keeps_the_product_or_its_best_low_rank_part():
    rng = np.random.default_rng(0)
    U, V = rng.normal(size=(30, 5)), rng.normal(size=(20, 5))
    U8, V8 = resize_factors(U, V, 8)  # more room: the same product
    np.testing.assert_allclose(U8 @ V8.T, U @ V.T, atol=1e-4)
    U2, V2 = resize_factors(U, V, 2)  # less: the best rank-2 approximation (Eckart-Young)
    a, s, bt = np.linalg.svd(U @ V.T)
    np.testing.assert_allclose(U2 @ V2.T, (a[:, :2] * s[:2]) @ bt[:2], atol=1e-4)


def test_warm_start_changes_only_what_it_is_told(model):
    warm = warm_start(model, regularization_coeff=1.0)
    assert warm.config.regularization_coeff == 1.0 and warm.config.gravity_coeff == 1.0
    np.testing.assert_allclose(warm.item_factors, model.item_factors)  # starts where it was
    assert warm.train_listens is model.train_listens and warm.iterations_done == 0
    with pytest.raises(TypeError, match="unknown change"):
        warm_start(model, learning_rate=1.0)
    implicit = CFModel(model.train_listens, kind="implicit", embedding_dim=2, seed=0,
                       n_users=model.n_users, n_items=model.n_items)  # fmt: skip
    with pytest.raises(ValueError, match="kind 'implicit' is not offered"):
        warm_start(implicit)


def test_panel_re_solves_shows_beside_the_start_and_keeps(data, model):
    runs = Runs({"start": model})
    panel = WhatIfPanel(data, model, runs=runs, sweeps=2)
    assert list(panel.summary.index) == ["start"] and panel.keep_button.disabled
    panel.reg.value = 3.0
    assert panel.wait(60)
    assert panel.result.config.regularization_coeff == 3.0
    assert list(panel.summary.index) == ["start", "what-if"]
    assert panel.result.iterations_done == 2  # warm sweeps
    # more regularization: smaller embeddings
    assert np.linalg.norm(panel.result.item_factors) < np.linalg.norm(model.item_factors)
    assert "what-if · dot" in panel.figures.value
    panel.keep("reg3")
    assert runs["reg3"] is panel.result


def test_the_latest_request_wins(data, model):
    panel = WhatIfPanel(data, model, sweeps=30)
    panel.reg.value = 0.01
    panel.gravity.value = 10.0
    panel.dim.value = 3  # three releases in a row: only the last values are shown
    assert panel.wait(120)
    config = panel.result.config
    assert (config.regularization_coeff, config.gravity_coeff, config.embedding_dim) == (
        0.01, 10.0, 3,
    )  # fmt: skip
    assert panel.result.item_factors.shape == (60, 3)
