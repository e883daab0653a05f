"""tune: a grid fitted on part of the training rows, ranked on the rest; stop keeps what is done."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from mfwidgets.analysis import tune
from mfwidgets.analysis.tuning import grid_edges
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
    assert table["val_rmse"].is_monotonic_increasing and result.metric == "rmse"
    # the true rank is 2 and the noise small: a ridge of 50 is far worse than 0.01
    assert table.iloc[0]["regularization_coeff"] == 0.01 and table.iloc[0]["embedding_dim"] == 2
    assert isinstance(result.best, ModelConfig) and result.best.kind == "biased"
    assert (result.best.regularization_coeff, result.best.embedding_dim) == (0.01, 2)
    assert [s[:2] for s in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)] and not result.stopped
    # the best point is the smallest ridge and the largest dimension tried: said, with the way
    assert result.edges == {"regularization_coeff": "smaller", "embedding_dim": "larger"}
    assert "try smaller values" in result.warning and "embedding_dim=2" in result.warning
    again = tune(biased_ratings(), {"regularization_coeff": [0.01, 50.0], "embedding_dim": [1, 2]},
                 train=TrainConfig(num_iterations=8, optimizer="als"))  # fmt: skip
    pd.testing.assert_frame_equal(
        table.drop(columns="seconds"), again.table.drop(columns="seconds")
    )


def test_tune_ranks_by_the_metric_asked_and_knows_an_inner_best_from_an_edge():
    by_mae = tune(
        biased_ratings(), {"regularization_coeff": [0.001, 0.3, 50.0]}, metric="mae",
        base={"embedding_dim": 2}, train=TrainConfig(num_iterations=8, optimizer="als"),
    )  # fmt: skip
    assert list(by_mae.table.columns) == ["regularization_coeff", "val_mae", "seconds"]
    assert by_mae.table["val_mae"].is_monotonic_increasing
    assert by_mae.edges == {"regularization_coeff": "smaller"}  # the smallest ridge won
    inner = ModelConfig(kind="biased", regularization_coeff=0.3, embedding_dim=2)
    grid = {"regularization_coeff": [0.001, 0.3, 50.0], "embedding_dim": [2], "tag_pooling": ["a"]}
    assert grid_edges(grid, inner) == {}  # inside, a single value, a non-number: no edge


def test_tune_ranks_implicit_kinds_by_recall_and_refuses_a_rating_metric_for_them():
    ratings = biased_ratings()
    ratings["weight"] = 1.0
    result = tune(ratings, {"embedding_dim": [1, 2]}, base={"kind": "implicit"},
                  train=TrainConfig(num_iterations=3, optimizer="als"))  # fmt: skip
    assert result.metric == "recall@10" and "val_recall@10" in result.table
    assert result.table["val_recall@10"].is_monotonic_decreasing  # higher is better
    sweeps = TrainConfig(num_iterations=3, optimizer="als")
    by_ndcg = tune(ratings, {"embedding_dim": [1, 2]}, base={"kind": "implicit"},
                   metric="ndcg@5", train=sweeps)  # fmt: skip
    assert by_ndcg.metric == "ndcg@5"
    with pytest.raises(ValueError, match="metric='rmse' measures predicted ratings"):
        tune(ratings, {"embedding_dim": [1]}, base={"kind": "implicit"}, metric="rmse")
    with pytest.raises(ValueError, match="metric must be 'rmse', 'mae'"):
        tune(ratings, {"embedding_dim": [1]}, metric="auc")


def test_tune_takes_a_split_and_never_sees_its_test_rows():
    from mfwidgets.data import random_split

    ratings = biased_ratings()
    split = random_split(ratings, 0.2, seed=1)
    poisoned = split.test.assign(weight=1e6)  # rows tune must not read
    from mfwidgets.data import Split

    result = tune(Split(split.train, poisoned), {"embedding_dim": [1, 2]},
                  train=TrainConfig(num_iterations=3, optimizer="als"))  # fmt: skip
    plain = tune(split.train, {"embedding_dim": [1, 2]},
                 train=TrainConfig(num_iterations=3, optimizer="als"))  # fmt: skip
    pd.testing.assert_frame_equal(
        result.table.drop(columns="seconds"), plain.table.drop(columns="seconds")
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
