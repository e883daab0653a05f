"""The model contract: Factors made in numpy work everywhere a CFModel does; the run registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset

from mfwidgets.analysis import evaluate, recommend
from mfwidgets.data import split_dataframe
from mfwidgets.models import CFModel, FactorModel, Factors, Runs
from mfwidgets.widgets import EmbeddingMap, NeighborExplorer

N_USERS, N_ITEMS, D = 30, 24, 3


@pytest.fixture
def world():
    """Listens generated from known factors, and those factors as a Factors model."""
    rng = np.random.default_rng(0)
    U, V = rng.normal(size=(N_USERS, D)), rng.normal(size=(N_ITEMS, D))
    cells = rng.choice(N_USERS * N_ITEMS, 300, replace=False)
    u, i = cells // N_ITEMS, cells % N_ITEMS
    listens = pd.DataFrame({"userID": u, "artistID": i, "listenCount": (U[u] * V[i]).sum(1) + 3})
    data = dataset(listens, N_USERS, N_ITEMS)
    return data, listens, Factors(U, V, dataset=data, global_mean=3.0)


def test_factors_from_numpy_feed_evaluate_recommend_explorer_and_map(world):
    data, listens, factors = world
    assert isinstance(factors, FactorModel)
    train, test = split_dataframe(listens, 0.2, seed=0)
    table = evaluate({"true factors": factors}, data, train, test, k=5)
    assert table.loc["true factors", "test_mse"] == pytest.approx(0.0, abs=1e-9)
    assert table.loc["true factors", "test_mse"] < table.loc["user+artist bias", "test_mse"]
    rec = recommend(factors, data, 0, k=4, exclude_listened=False)
    scores = factors.user_factors[0] @ factors.item_factors.T
    assert rec["item_index"].tolist() == np.argsort(-scores, kind="stable")[:4].tolist()
    explorer = NeighborExplorer(data, {"numpy": factors}, k=3)
    explorer.select(5)
    V = factors.item_factors.astype(float)
    best = np.argsort(-(V @ V[5]), kind="stable")[:3]
    assert explorer.results[("numpy", "dot")]["item_index"].tolist() == best.tolist()
    emap = EmbeddingMap(data, factors)
    assert len(emap.points) == N_ITEMS and emap.model is factors
    np.testing.assert_allclose(emap.points["norm"], np.linalg.norm(V, axis=1), atol=1e-3)


def test_factors_predict_with_biases_and_refuse_bad_arrays(world):
    data, _, _ = world
    U, V = np.ones((N_USERS, 2)), np.full((N_ITEMS, 2), 0.5)
    bu, bi = np.arange(N_USERS, dtype=float), np.zeros(N_ITEMS)
    f = Factors(U, V, user_bias=bu, item_bias=bi, global_mean=2.0)
    np.testing.assert_allclose(f.predict([0, 3], [1, 1]), [3.0, 6.0])
    assert f.score_users([3]).shape == (1, N_ITEMS)
    with pytest.raises(ValueError, match="share d"):
        Factors(U, np.ones((N_ITEMS, 3)))
    with pytest.raises(ValueError, match="both"):
        Factors(U, V, user_bias=bu)
    with pytest.raises(ValueError, match="NaN"):
        Factors(np.full((2, 2), np.nan), V)
    with pytest.raises(ValueError, match="dataset has"):
        Factors(U[:5], V, dataset=data)
    with pytest.raises(ValueError, match="item_ids must lie"):
        f.predict([0], [N_ITEMS])


def test_a_cfmodel_satisfies_the_contract_and_its_version_moves_with_training(world):
    data, _, _ = world
    model = CFModel.from_listens(data, seed=0, embedding_dim=2, init_stddev=0.3)
    assert isinstance(model, FactorModel) and model.dataset is data
    assert (model.n_users, model.n_items) == (N_USERS, N_ITEMS)
    before = model.version
    model.train(num_iterations=3, learning_rate=0.5)
    assert model.version > before
    frozen = Factors.of(model)
    np.testing.assert_array_equal(frozen.item_factors, model.item_factors)
    model.train(num_iterations=3, learning_rate=0.5)
    assert not np.array_equal(frozen.item_factors, model.item_factors)


def test_runs_take_every_form_and_tell_observers(world):
    _, _, factors = world
    assert Runs.of(factors).names == ["model"]
    assert Runs.of([factors, factors]).names == ["model 0", "model 1"]
    runs = Runs({"a": factors})
    assert Runs.of(runs) is runs
    seen = []
    stop = runs.observe(lambda r, name: seen.append((name, len(r))))
    runs.add("b", factors)
    runs.add("a", factors)  # replaced, still told
    stop()
    runs.add("c", factors)
    assert seen == [("b", 2), ("a", 2)] and runs.names == ["a", "b", "c"]
    assert runs.latest is factors and "c" in runs
    with pytest.raises(TypeError, match="must be a model"):
        runs.add("d", object())
    with pytest.raises(ValueError, match="name"):
        runs.add(" ", factors)
    with pytest.raises(TypeError, match="models must be"):
        Runs.of(42)
    with pytest.raises(ValueError, match="empty"):
        Runs.of({})
