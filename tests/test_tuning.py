"""tune: a grid fitted on part of the training rows, ranked on the rest; stop keeps what is done."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from mfwidgets.analysis import tune
from mfwidgets.models import ModelConfig, TrainConfig


def biased_ratings(n_users=60, n_items=50, seed=0):
    """Ratings = mean + user bias + item bias + a rank-2 part + noise, on 40 % of the cells."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < 0.4
    u, i = np.nonzero(mask)
    U, V = rng.normal(0, 0.6, (n_users, 2)), rng.normal(0, 0.6, (n_items, 2))
    w = 3 + rng.normal(0, 0.5, n_users)[u] + rng.normal(0, 0.5, n_items)[i] + (U[u] * V[i]).sum(1)
    return pd.DataFrame({"user": u, "item": i, "weight": w + rng.normal(0, 0.1, len(u))})


def test_tune_ranks_the_grid_on_validation_rows_and_returns_the_best_configuration():
    seen = []
    result = tune(
        biased_ratings(),
        {"regularization_coeff": [0.01, 50.0], "embedding_dim": [1, 2]},
        train=TrainConfig(num_iterations=8, optimizer="als"),
        progress=lambda done, total, point: seen.append((done, total, point)),
    )
    table = result.table
    assert len(table) == 4 and list(table.columns[:2]) == ["regularization_coeff", "embedding_dim"]
    assert table["val_rmse"].is_monotonic_increasing and (table["val_mae"] > 0).all()
    # the true rank is 2 and the noise small: a ridge of 50 is far worse than 0.01
    assert table.iloc[0]["regularization_coeff"] == 0.01 and table.iloc[0]["embedding_dim"] == 2
    assert isinstance(result.best, ModelConfig) and result.best.kind == "biased"
    assert (result.best.regularization_coeff, result.best.embedding_dim) == (0.01, 2)
    assert [s[:2] for s in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)] and not result.stopped
    again = tune(biased_ratings(), {"regularization_coeff": [0.01, 50.0], "embedding_dim": [1, 2]},
                 train=TrainConfig(num_iterations=8, optimizer="als"))  # fmt: skip
    pd.testing.assert_frame_equal(
        table.drop(columns="seconds"), again.table.drop(columns="seconds")
    )


def test_stop_keeps_the_points_fitted_so_far():
    stop = threading.Event()
    result = tune(
        biased_ratings(),
        {"embedding_dim": [1, 2, 3]},
        train=TrainConfig(num_iterations=3, optimizer="als"),
        progress=lambda done, total, point: stop.set(),
        stop=stop,
    )
    assert result.stopped and len(result.table) == 1 and result.best.embedding_dim == 1


def test_bad_grids_are_refused_before_any_fitting():
    data = biased_ratings()
    with pytest.raises(ValueError, match="unknown field 'dim'"):
        tune(data, {"dim": [1]})
    with pytest.raises(ValueError, match="non-empty list"):
        tune(data, {"embedding_dim": []})
    with pytest.raises(ValueError, match="embedding_dim must be >= 1"):
        tune(data, {"embedding_dim": [2, 0]})
    with pytest.raises(TypeError, match="grid"):
        tune(data, [])
