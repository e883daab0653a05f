"""EASE and ItemKNN: exact against dense numpy references, and usable wherever a model is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset, random_listens

from mfwidgets.analysis import evaluate, explain, popularity_bias, project, recommend
from mfwidgets.data import random_split
from mfwidgets.data.dataset import interaction_arrays
from mfwidgets.models import Factors, Runs, to_implicit, to_projector
from mfwidgets.models.contract import has_factors
from mfwidgets.models.itemitem import EASE, ItemKNN, ease_weights, presence_matrix
from mfwidgets.widgets import ComparisonBoard, EmbeddingMap, NeighborExplorer


def world(n_users=40, n_items=30, n=400, seed=0):
    listens = random_listens(n_users, n_items, n, seed=seed)
    data = dataset(listens, n_users, n_items)
    return data, random_split(data, 0.2, seed=seed)


def dense_presence(split, n_users, n_items):
    users, items, _ = interaction_arrays(split.train)
    X = np.zeros((n_users, n_items))
    X[users, items] = 1.0
    return X


def dense_ease(X, l2):
    P = np.linalg.inv(X.T @ X + l2 * np.eye(X.shape[1]))
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    return B


@pytest.mark.parametrize("shape", [(40, 30), (20, 50)])  # users > items: Cholesky; <: Woodbury
def test_ease_is_the_closed_form_either_way(shape):
    data, split = world(*shape, n=300)
    X = dense_presence(split, *shape)
    for l2 in (0.5, 20.0):
        ease = EASE(data, split, l2=l2)
        np.testing.assert_allclose(ease.weights, dense_ease(X, l2), atol=2e-5)
        np.testing.assert_allclose(ease.score_users([0, 3]), X[[0, 3]] @ ease.weights, atol=1e-5)
    # duplicate rows count once: presence, not weight
    doubled = pd.concat([split.train, split.train.head(20)])
    assert presence_matrix(doubled, *shape).sum() == len(split.train)


def test_ease_refuses_a_matrix_over_its_memory_bound_before_any_work():
    data, split = world()
    with pytest.raises(ValueError, match=r"30 × 30 matrix .* above max_gib=1e-06"):
        EASE(data, split, max_gib=1e-6)
    for bad in (0, -1.0, "200"):
        with pytest.raises((TypeError, ValueError), match="l2"):
            EASE(data, split, l2=bad)
    with pytest.raises(TypeError, match="split must be a mfwidgets Split"):
        EASE(data, split.train.to_numpy())
    frame = EASE(data, split.train, l2=5.0)  # a train frame serves as well
    np.testing.assert_array_equal(frame.weights, EASE(data, split, l2=5.0).weights)


def test_itemknn_keeps_each_items_k_most_similar_shrunk_cosines():
    data, split = world()
    X = dense_presence(split, 40, 30)
    knn = ItemKNN(data, split, k=5, shrink=3.0)
    norms = np.sqrt(X.sum(0))
    S = (X.T @ X) / (norms[:, None] * norms[None, :] + 3.0 + 1e-12)
    np.fill_diagonal(S, 0.0)
    W = knn.weights.toarray()
    for j in range(30):
        kept = np.flatnonzero(W[j])
        assert len(kept) <= 5 and np.allclose(W[j, kept], S[j, kept])
        assert W[j, j] == 0 and (len(kept) == 0 or S[j, kept].min() >= np.sort(S[j])[-5] - 1e-12)
    np.testing.assert_allclose(knn.score_users([2]), X[[2]] @ W, atol=1e-12)
    np.testing.assert_allclose(knn.item_similarities(4), S[4], atol=1e-12)  # all, not only k
    with pytest.raises(ValueError, match="k must be >= 1"):
        ItemKNN(data, split, k=0)
    with pytest.raises(ValueError, match="shrink must be >= 0"):
        ItemKNN(data, split, shrink=-1)


@pytest.mark.parametrize("make", [lambda d, s: EASE(d, s, l2=5.0), lambda d, s: ItemKNN(d, s, k=8)])
def test_references_predict_rank_explain_and_refuse_what_needs_factors(make):
    data, split = world()
    model = make(data, split)
    assert not has_factors(model) and not model.predicts_ratings
    users, items = np.array([0, 0, 7, 39]), np.array([1, 29, 3, 0])
    np.testing.assert_allclose(
        model.predict(users, items), model.score_users(users)[np.arange(4), items]
    )
    why = explain(model, data, user_index=7, item_index=3)
    assert why.score == pytest.approx(why.contributions["contribution"].sum())
    assert why.rest == pytest.approx(0.0, abs=1e-6)  # (float32 weights)
    users, items, _ = interaction_arrays(split.train)
    assert set(why.contributions["item_index"]) == set(items[users == 7])
    rec = recommend(model, data, user_index=7, k=5)
    assert not set(rec["item_index"]) & set(data.user_items(7))
    with pytest.raises(TypeError, match="has no user and item factors: measure='cosine' needs"):
        recommend(model, data, user_index=7, measure="cosine")
    with pytest.raises(TypeError, match="has no user and item factors: a map needs them"):
        project(model)
    for export in (to_implicit, lambda m, p: to_projector(m, data, p)):
        with pytest.raises(TypeError, match="has no user and item factors"):
            export(model, "unused")
    table = evaluate({"ref": model}, data, split, k=5)
    assert np.isnan(table.loc["ref", "test_mse"]) and table.loc["ref", "recall@5"] >= 0
    bias = popularity_bias({"ref": model}, data, k=5)
    assert list(bias.table.index) == [("ref", "dot")]  # its own scores, one row


def test_explorer_board_and_map_take_references_beside_factor_models():
    data, split = world()
    rng = np.random.default_rng(1)
    factors = Factors(rng.normal(size=(40, 3)), rng.normal(size=(30, 3)), dataset=data,
                      split=split)  # fmt: skip
    runs = Runs({"mf": factors, "ease": EASE(data, split, l2=5.0)})
    explorer = NeighborExplorer(data, runs, k=4, measure="both")
    explorer.select(3)
    assert set(explorer.results) == {("mf", "dot"), ("mf", "cosine"), ("ease", "dot")}
    ease_table = explorer.results[("ease", "dot")]
    assert ease_table["item_index"].iloc[0] == 3 and np.isnan(ease_table["score"].iloc[0])
    expected = np.argsort(-np.where(np.arange(30) == 3, -np.inf, runs["ease"].weights[3]),
                          kind="stable")[:3]  # fmt: skip
    assert ease_table["item_index"].iloc[1:].tolist() == expected.tolist()
    assert "ease · EASE weight" in explorer.tables.value
    board = ComparisonBoard(runs, data, k=5)
    board.tabs.selected_index = 2  # the popularity-bias tab
    assert board.wait(60), board.status.text
    assert {"mf", "ease"} <= set(board.results["metrics"].index)
    assert np.isnan(board.results["norm_popularity"].loc["ease"].iloc[0])
    assert ("ease", "dot") in board.results["popularity_bias"].index
    emap = EmbeddingMap(data, runs, seed=0)
    emap.model_pick.value = "ease"
    assert "has no item factors to map" in emap.status.text
    emap.model_pick.value = "mf"  # and it stays usable
    assert emap.wait(60) and len(emap.points) == 30


def test_ease_on_many_items_uses_the_users_and_stays_float32():
    X = presence_matrix(random_listens(10, 200, 500, seed=2), 10, 200)
    W = ease_weights(X, 3.0)
    assert W.dtype == np.float32 and W.flags.c_contiguous
    np.testing.assert_allclose(W, dense_ease(X.toarray().astype(np.float64), 3.0), atol=2e-5)


def test_the_trainer_fits_references_beside_its_factor_runs(tmp_path):
    from mfwidgets.widgets import TrainerWidget

    data, _ = world()
    trainer = TrainerWidget(data, embedding_dim=3, init_stddev=0.1, seed=0, num_iterations=20,
                            learning_rate=1.0)  # fmt: skip
    explorer = NeighborExplorer(data, trainer, k=4)
    explorer.select(3)
    board = ComparisonBoard(trainer, data, k=5)
    trainer.train(block=True)
    trainer.w["kind"].value = "ease"
    assert trainer.w["ease_l2"].disabled is False and trainer.w["embedding_dim"].disabled
    assert trainer.w["num_iterations"].disabled and trainer.tune_button.disabled
    trainer.w["ease_l2"].value = 5.0
    trainer.train(block=True)
    trainer.w["kind"].value = "itemknn"
    trainer.w["knn_neighbors"].value = 7
    trainer.train(block=True)
    assert trainer.last_error == "", trainer.last_error
    assert trainer.runs.names == ["model_lowinit", "ease", "itemknn"]
    ease, knn = trainer.runs["ease"], trainer.runs["itemknn"]
    assert isinstance(ease, EASE) and ease.l2 == 5.0 and isinstance(knn, ItemKNN) and knn.k == 7
    # the reference trains on the split the factor run of the same seed trained on
    assert ease.split is trainer.runs["model_lowinit"].split
    np.testing.assert_allclose(ease.weights, EASE(data, ease.split, l2=5.0).weights)
    assert "fitted itemknn" in trainer.status.text
    assert ("ease", "dot") in explorer.results and ("itemknn", "dot") in explorer.results
    assert board.wait(60) and {"ease", "itemknn"} <= set(board.results["metrics"].index)
    assert trainer.save(str(tmp_path / "knn.npz")) is None and "no factors" in trainer.status.text
    assert trainer.tune(block=True) is None and "does not offer" in trainer.status.text


def test_reference_builds_each_reference_kind_from_its_configuration():
    from mfwidgets.models import ModelConfig, reference

    data, split = world()
    ease = reference(data, split, ModelConfig(kind="ease", ease_l2=5.0))
    assert isinstance(ease, EASE) and ease.l2 == 5.0 and ease.split is split
    knn = reference(data, split, ModelConfig(kind="itemknn", knn_neighbors=7, knn_shrink=2.0))
    assert isinstance(knn, ItemKNN) and (knn.k, knn.shrink) == (7, 2.0)
    with pytest.raises(ValueError, match="a reference kind"):
        reference(data, split, ModelConfig(kind="plain"))
