"""One contract, tested once: every kind of model the package makes meets it.

In the style of the implicit library's ``RecommenderBaseTestMixin``: each entry of ``MAKERS``
builds a model on the same small data and split; every test runs on every entry. A new family
gets the whole suite by adding itself to ``MAKERS``: every kind, ``Factors``, Spark's factors,
the item–item references and the baselines. (Spark's factors are built from arrays here; their
own tests start a Spark and check they are Spark's.)
"""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import dataset, random_listens

from mfwidgets.analysis import evaluate, recommend
from mfwidgets.analysis.baselines import BiasBaseline, Popularity
from mfwidgets.data import random_split
from mfwidgets.models import (
    EASE,
    KINDS,
    CFModel,
    Factors,
    ItemKNN,
    Recommender,
    Runs,
    has_factors,
    load_factors,
    save_factors,
)
from mfwidgets.models.spark import IdReport, SparkFactors
from mfwidgets.widgets import NeighborExplorer

N_USERS, N_ITEMS = 30, 25


def _cfmodel(kind):
    def make(data, split):
        model = CFModel(split, dataset=data, kind=kind, embedding_dim=3, init_stddev=0.3, seed=0)
        model.train(num_iterations=2, learning_rate=0.5, optimizer="als" if model.config.implicit
                    else "sgd")  # fmt: skip
        return model

    return make


def _factors(data, split):
    rng = np.random.default_rng(5)
    return Factors(rng.normal(size=(N_USERS, 3)), rng.normal(size=(N_ITEMS, 3)), dataset=data,
                   user_bias=rng.normal(size=N_USERS), item_bias=rng.normal(size=N_ITEMS),
                   global_mean=3.0, split=split)  # fmt: skip


def _spark_factors(data, split):
    """Factors as Spark's ALS hands them over (built from arrays: no Spark needed here; the
    Spark tests check they are Spark's own)."""
    rng = np.random.default_rng(6)
    report = IdReport(np.array([]), np.array([]), 0, 0)
    factors = SparkFactors(rng.normal(size=(N_USERS, 3)), rng.normal(size=(N_ITEMS, 3)),
                           dataset=data, predicts_ratings=True, id_report=report,
                           params={"rank": 3})  # fmt: skip
    factors.split = split  # (as train_als sets it)
    return factors


#: every kind of model, by name: (data, split) -> a trained model
MAKERS = {
    **{f"cfmodel-{kind}": _cfmodel(kind) for kind in KINDS},
    "factors": _factors,
    "spark-factors": _spark_factors,
    "ease": lambda data, split: EASE(data, split, l2=3.0),
    "itemknn": lambda data, split: ItemKNN(data, split, k=6, shrink=1.0),
    "bias-baseline": lambda data, split: BiasBaseline(split, dataset=data),
    "popularity": lambda data, split: Popularity(split, dataset=data),
}


@pytest.fixture(scope="module")
def world():
    listens = random_listens(N_USERS, N_ITEMS, 260, seed=4)
    tags = [[f"tag{i % 4}", f"tag{i % 3 + 4}"] for i in range(N_ITEMS)]
    data = dataset(listens, N_USERS, N_ITEMS, tags=tags)
    return data, random_split(data, 0.2, seed=0)


@pytest.fixture(scope="module")
def built(world):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = MAKERS[name](*world)
        return cache[name]

    return get


@pytest.fixture(params=list(MAKERS))
def model(request, built):
    return built(request.param)


def test_it_is_a_model_of_its_dataset(model, world):
    data, split = world
    assert isinstance(model, Recommender)
    assert (model.n_users, model.n_items) == (data.n_users, data.n_items)
    assert model.dataset is data and model.split.test_hash == split.test_hash
    assert isinstance(model.version, int) and model.version == model.version


def test_predict_is_score_users_for_the_pairs(model):
    users = np.array([0, 4, 4, 29])
    items = np.array([3, 0, 24, 11])
    scores = model.score_users(np.unique(users))
    rows = np.searchsorted(np.unique(users), users)
    np.testing.assert_allclose(model.predict(users, items), scores[rows, items], rtol=1e-5,
                               atol=1e-5)  # fmt: skip
    assert model.predict(users.reshape(2, 2), items.reshape(2, 2)).shape == (2, 2)
    with pytest.raises(ValueError, match="item_ids must lie in"):
        model.predict([0], [N_ITEMS])
    with pytest.raises(TypeError, match="user_ids must be integer ids"):
        model.score_users(["a"])


def test_top_k_ranks_by_score_and_excludes_the_users_items(model, world):
    data, _ = world
    for user in (0, 7):
        rec = recommend(model, data, user_index=user, k=5)
        seen = set(data.user_items(user))
        assert not seen & set(rec["item_index"]) and len(rec) == 5
        scores = model.score_users([user])[0]
        assert np.all(np.diff(scores[rec["item_index"]]) <= 1e-12)  # best first
        unseen = np.setdiff1d(np.arange(N_ITEMS), list(seen))
        assert scores[rec["item_index"].iloc[-1]] >= np.sort(scores[unseen])[-5] - 1e-9


def test_the_registry_explorer_and_evaluate_take_it(model, world):
    data, split = world
    runs = Runs({"it": model})
    assert Runs.of(model).latest is model and runs["it"] is model
    explorer = NeighborExplorer(data, runs, k=3, measure="cosine")
    explorer.select(2)
    if has_factors(model) or hasattr(model, "item_similarities"):
        (key,) = [k for k in explorer.results if k[0] == "it"]
        assert explorer.results[key]["item_index"].iloc[0] == 2  # the query first (cosine 1)
        assert explorer.status.level == "ok", explorer.status.text
    else:  # a baseline: it says so, and stays usable
        assert "no item neighbours" in explorer.status.text and explorer.status.level == "warn"
    row = evaluate({"it": model}, data, split, k=5).loc["it"]
    assert 0 <= row["recall@5"] <= 1 and np.isnan(row["test_mse"]) != model.predicts_ratings


def test_saved_and_loaded_it_scores_the_same(model, world, tmp_path):
    data, _ = world
    if isinstance(model, CFModel):
        again = CFModel.load(model.save(tmp_path / "m.mfmodel"), listens=data)
    elif has_factors(model):
        again = load_factors(save_factors(model, tmp_path / "m.npz", data), dataset=data)
    else:  # a model without factors has no file: it says so, and refits in a moment
        with pytest.raises(TypeError, match="has no user and item factors"):
            save_factors(model, tmp_path / "m.npz", data)
        if hasattr(model, "params"):  # an item–item reference
            settings = {k: v for k, v in model.params.items() if k != "fit_seconds"}
            again = type(model)(data, model.split, **settings)
        else:  # a baseline
            again = type(model)(model.split, dataset=data)
    np.testing.assert_allclose(again.score_users([0, 5]), model.score_users([0, 5]), rtol=1e-5,
                               atol=1e-6)  # fmt: skip


def test_its_version_changes_when_and_only_when_its_scores_do(world):
    data, split = world
    for name in MAKERS:
        model = MAKERS[name](data, split)
        before, scores = model.version, model.score_users([1])
        if isinstance(model, CFModel):
            model.train(num_iterations=1, learning_rate=0.5,
                        optimizer="als" if model.config.implicit else "sgd")  # fmt: skip
            assert model.version != before and not np.allclose(model.score_users([1]), scores)
        else:  # fixed at construction
            assert model.version == before
            np.testing.assert_array_equal(model.score_users([1]), scores)
