"""Splits are values: each protocol holds out what it says, seeded; models, evaluate, tune and
cross_validate consume them; a saved model keeps how its split was made."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mfwidgets.analysis import cross_validate, evaluate, rmse
from mfwidgets.analysis.baselines import BiasBaseline
from mfwidgets.data import (
    Dataset,
    Split,
    kfold,
    last_n_split,
    leave_k_out,
    random_split,
    split_dataframe,
    temporal_split,
    user_fraction_split,
)
from mfwidgets.models import CFModel, ModelConfig, TrainConfig


def log(n_users=30, n_items=25, n=400, seed=0) -> Dataset:
    """A ratings log with timestamps; users have from 1 to many ratings."""
    rng = np.random.default_rng(seed)
    activity = rng.zipf(1.6, n_users).astype(float)
    u = rng.choice(n_users, n, p=activity / activity.sum())
    i = rng.integers(0, n_items, n)
    df = pd.DataFrame({"u": u + 1, "i": i + 10, "r": rng.integers(1, 6, n) * 1.0,
                       "t": rng.permutation(n) * 60})  # fmt: skip
    df = df.drop_duplicates(["u", "i"])
    return Dataset.from_dataframe(df, user="u", item="i", weight="r", timestamp="t")


def per_user(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby("user").size()


def check_partition(split: Split, data: Dataset) -> None:
    assert not set(split.train.index) & set(split.test.index)
    assert sorted([*split.train.index, *split.test.index]) == list(data.interactions.index)


def test_random_split_is_the_chapters():
    data = log()
    split = random_split(data, 0.2, seed=3)
    train, test = split_dataframe(data.interactions, 0.2, seed=3)
    assert split.train.equals(train) and split.test.equals(test)
    assert (split.method, split.seed, split.holdout_fraction) == ("random", 3, 0.2)
    assert "random(holdout_fraction=0.2, seed=3)" in repr(split)
    check_partition(split, data)


def test_leave_k_out_holds_k_of_each_user_with_more():
    data = log()
    split = leave_k_out(data, k=2, seed=0)
    check_partition(split, data)
    counts = per_user(data.interactions)
    held = per_user(split.test).reindex(counts.index, fill_value=0)
    assert (held[counts > 2] == 2).all() and (held[counts <= 2] == 0).all()
    assert leave_k_out(data, 2, seed=0).test.equals(split.test)
    assert not leave_k_out(data, 2, seed=1).test.index.equals(split.test.index)
    with pytest.raises(ValueError, match="k must be >= 1"):
        leave_k_out(data, 0)


def test_user_fraction_split_tests_every_user_and_trains_every_user():
    data = log()
    split = user_fraction_split(data, 0.25, seed=0)
    check_partition(split, data)
    counts = per_user(data.interactions)
    held = per_user(split.test).reindex(counts.index, fill_value=0)
    expected = np.minimum(np.floor(counts * 0.25), counts - 1)
    assert (held == expected).all()
    assert set(split.train["user"]) == set(data.interactions["user"])


def test_temporal_splits_hold_out_the_future():
    data = log()
    cut = temporal_split(data, holdout_fraction=0.2)
    check_partition(cut, data)
    assert cut.test["timestamp"].min() >= cut.params["cutoff"] > cut.train["timestamp"].max()
    assert len(cut.test) == pytest.approx(0.2 * len(data.interactions), abs=1)
    at = temporal_split(data, cut.params["cutoff"])
    assert at.test.equals(cut.test) and at.method == "temporal"
    last = last_n_split(data, n=1)
    check_partition(last, data)
    latest = data.interactions.groupby("user")["timestamp"].max()
    counts = per_user(data.interactions)
    tested = last.test.set_index("user")["timestamp"]
    assert (tested == latest[tested.index]).all()
    assert set(tested.index) == set(counts[counts > 1].index)
    with pytest.raises(ValueError, match="either cutoff= or holdout_fraction="):
        temporal_split(data)
    with pytest.raises(ValueError, match="leaves no interaction in test"):
        temporal_split(data, 10**9)
    no_time = Dataset.from_dataframe(
        data.interactions[["user", "item", "weight"]], user="user", item="item", weight="weight"
    )
    with pytest.raises(ValueError, match="needs a 'timestamp' column"):
        last_n_split(no_time)


def test_kfold_covers_every_row_once_seeded():
    data = log()
    folds = kfold(data, 4, seed=0)
    tests = [set(f.test.index) for f in folds]
    assert sum(map(len, tests)) == len(data.interactions)
    assert set().union(*tests) == set(data.interactions.index)
    assert max(map(len, tests)) - min(map(len, tests)) <= 1
    for f in folds:
        check_partition(f, data)
    assert [f.test.index.tolist() for f in kfold(data, 4, seed=0)] == [
        f.test.index.tolist() for f in folds
    ]
    with pytest.raises(ValueError, match="n_folds must lie in"):
        kfold(data, 1)


def fit_biased(split: Split) -> CFModel:
    model = CFModel(split, config=ModelConfig(kind="biased", embedding_dim=2, seed=0,
                                              regularization_coeff=0.1))  # fmt: skip
    model.train(config=TrainConfig(num_iterations=4, optimizer="als"))
    return model


def test_models_evaluate_and_save_load_keep_the_split(tmp_path):
    data = log()
    split = leave_k_out(data, 1, seed=0)
    model = CFModel(split, dataset=data, kind="biased", embedding_dim=2, seed=0)
    assert model.split is split and (model.n_users, model.n_items) == (data.n_users, data.n_items)
    model.train(config=TrainConfig(num_iterations=3, optimizer="als"))
    assert model.iterations_done == 3  # ALS: n sweeps
    table = evaluate({"m": model}, data, split, k=5)
    pd.testing.assert_frame_equal(
        table.drop(columns="eval_seconds"),
        evaluate({"m": model}, data, split.train, split.test, k=5).drop(columns="eval_seconds"),
    )
    back = CFModel.load(model.save(tmp_path / "m.mfmodel"), data)
    assert (back.split.method, back.split.params) == ("leave_k_out", {"k": 1, "seed": 0})
    assert back.split.test.index.equals(split.test.index)
    blind = CFModel.load(tmp_path / "m.mfmodel")
    assert blind.split.test_hash == split.test_hash and blind.split.train is None
    assert "leave_k_out(k=1, seed=0): rows not loaded" in repr(blind.split)
    with pytest.raises(TypeError, match="holds the test rows"):
        CFModel(split, split.test)


def test_from_listens_takes_the_splits_seed_beside_a_config():
    data = log()
    config = ModelConfig(kind="biased", embedding_dim=2, seed=5)
    a = CFModel.from_listens(data, holdout_fraction=0.2, seed=1, config=config)
    assert a.split.seed == 1 and a.split.test.equals(random_split(data, 0.2, 1).test)
    b = CFModel.from_listens(data, holdout_fraction=0.2, config=config)  # the config's seed
    assert b.split.seed == 5
    np.testing.assert_array_equal(a.user_factors, b.user_factors)  # same initial draw (seed 5)


def test_cross_validate_reports_each_fold_and_the_mean():
    data = log()
    progress = []
    result = cross_validate(
        {"biased": fit_biased, "bias": lambda s: BiasBaseline(s.train, n_users=data.n_users,
                                                              n_items=data.n_items)},
        data, folds=3, seed=0, metrics=("rmse", "mae", "recall@5"),
        progress=lambda done, n: progress.append((done, n)),
    )  # fmt: skip
    assert list(result.folds.columns) == ["rmse", "mae", "recall@5", "seconds"]
    assert len(result.folds) == 6 and progress == [(1, 3), (2, 3), (3, 3)]
    biased = result.folds.xs("biased", level="model")
    assert result.mean.loc["biased", "rmse"] == pytest.approx(biased["rmse"].mean())
    for f, split in enumerate(result.splits):  # every row is that fold's model on that fold
        assert biased.loc[f, "rmse"] == pytest.approx(rmse(fit_biased(split), split.test))
    again = cross_validate(fit_biased, data, folds=3, seed=0)
    np.testing.assert_allclose(again.folds["rmse"], biased["rmse"])
    implicit = cross_validate(
        lambda s: _implicit(s), data, folds=2, seed=0, metrics=("rmse", "ndcg@5")
    )
    assert implicit.folds["rmse"].isna().all() and implicit.folds["ndcg@5"].notna().all()
    with pytest.raises(ValueError, match="metric must be"):
        cross_validate(fit_biased, data, metrics=("auc",))
    # a configuration, as Surprise's cross_validate(SVD(), data): trained as train() does
    config = ModelConfig(kind="biased", embedding_dim=2, seed=0, regularization_coeff=0.1)
    by_config = cross_validate({"biased": config, "ease": ModelConfig(kind="ease")}, data,
                               folds=3, seed=0, metrics=("rmse", "recall@5"))  # fmt: skip
    split = by_config.splits[1]
    model = CFModel(split, config=config, dataset=data)
    model.train()  # ten ALS sweeps, the kind's own
    assert by_config.folds.loc[(1, "biased"), "rmse"] == pytest.approx(rmse(model, split.test))
    assert by_config.folds.xs("ease", level="model")["rmse"].isna().all()  # EASE ranks
    assert by_config.folds.xs("ease", level="model")["recall@5"].notna().all()
    with pytest.raises(TypeError, match="a ModelConfig"):
        cross_validate("biased", data)


def _implicit(split: Split) -> CFModel:
    model = CFModel(split, kind="implicit", embedding_dim=2, seed=0)
    model.train(2)
    return model


def test_temporal_splits_take_datetime_timestamps(tmp_path):
    days = pd.date_range("2020-01-01", periods=6, freq="W")
    df = pd.DataFrame({"u": [1, 1, 2, 2, 3, 3], "i": [1, 2, 1, 3, 2, 3], "t": days})
    data = Dataset.from_dataframe(df, user="u", item="i", timestamp="t")
    cut = temporal_split(data, holdout_fraction=1 / 3)
    assert cut.params["cutoff"] == days[4] and len(cut.test) == 2
    model = CFModel(cut, dataset=data, kind="biased", embedding_dim=2, seed=0)
    back = CFModel.load(model.save(tmp_path / "t.mfmodel"), data)
    assert back.split.test.index.equals(cut.test.index) and back.split.method == "temporal"
