"""The hybrid kinds: item factors = free part + mean of tag embeddings (issue 19)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from synthetic import dataset

from mfwidgets import CFModel
from mfwidgets.analysis import mse
from mfwidgets.data import ItemTags, item_tags
from mfwidgets.models.config import TrainConfig
from mfwidgets.models.whatif import warm_start

N_USERS, N_ITEMS, GROUPS = 60, 48, 4


def grouped(seed: int = 0, cold: int = 6):
    """Users and items in GROUPS taste groups; each item tagged with its group's tag (plus a
    shared one); users listen mostly within their group. The last ``cold`` items of each group
    have no listens (cold items, tags only)."""
    rng = np.random.default_rng(seed)
    user_group = np.arange(N_USERS) % GROUPS
    item_group = np.arange(N_ITEMS) % GROUPS
    cold_items = np.arange(N_ITEMS - cold * GROUPS, N_ITEMS)
    rows = []
    for u in range(N_USERS):
        for i in range(N_ITEMS - cold * GROUPS):
            p = 0.6 if item_group[i] == user_group[u] else 0.05
            if rng.random() < p:
                rows.append((u, i, (4.0 if item_group[i] == user_group[u] else 1.5)
                             + rng.normal(0, 0.3)))  # fmt: skip
    listens = pd.DataFrame(rows, columns=["userID", "artistID", "listenCount"])
    tags = [[f"genre{g}", "music"] for g in item_group]
    return dataset(listens, N_USERS, N_ITEMS, tags=tags), item_group, cold_items


def model(data, kind="hybrid", **kw):
    args = dict(kind=kind, embedding_dim=4, init_stddev=0.1, seed=0, regularization_coeff=0.05,
                tag_min_count=2)  # fmt: skip
    return CFModel(data.interactions, n_users=N_USERS, n_items=N_ITEMS, dataset=data,
                   **(args | kw))  # fmt: skip


def test_item_tags_prunes_normalises_and_prefers_all_tags():
    data, _, _ = grouped()
    tags = item_tags(data, min_count=2)
    assert set(tags.names) == {f"genre{g}" for g in range(GROUPS)} | {"music"}
    assert np.allclose(tags.matrix.sum(axis=1), 1.0)  # two tags, each 1/2
    assert item_tags(data, min_count=N_ITEMS + 1).n_tags == 0
    items = data.items.assign(all_tags=[["x", "x", "y"]] * N_ITEMS)  # duplicates count once
    other = type(data)(**{**data.__dict__, "items": items})
    t = item_tags(other, min_count=1)
    assert t.names == ("x", "y") and np.allclose(t.matrix.toarray(), 0.5)
    with pytest.raises(ValueError, match="min_count"):
        item_tags(data, min_count=0)
    sqrt = tags.pooled("sqrt")  # two tags each: 1/√2 each, and back
    assert sqrt.pooling == "sqrt" and np.allclose(sqrt.matrix.data, 2**-0.5)
    assert np.allclose(sqrt.pooled("mean").matrix.toarray(), tags.matrix.toarray())


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(gravity_coeff=2.0, regularization_coeff=0.3, free_reg_scale=4.0)]
)
def test_hybrid_gradients_match_autodiff(kwargs):
    data, _, _ = grouped()
    m = model(data, **kwargs)
    k = m.kernels()
    params = [tf.Variable(v.read_value() + 0.1) for v in k.variables]  # non-zero biases too
    with tf.GradientTape() as tape:
        parts = k.loss_parts(params)
        total = parts["observed"] + parts["regularization"] + parts["gravity"]
    auto = tape.gradient(total, params)
    mine = k.gradients([p.read_value() for p in params])
    mask = k.tower.item_mask.numpy()[:, None]
    for name, a, b in zip(m.variables, auto, mine, strict=True):
        a = a.numpy() * (mask if name == "V" else mask[:, 0] if name == "bi" else 1.0)
        assert np.allclose(a, b.numpy(), atol=1e-5), name


@pytest.mark.parametrize(
    "kind, solver", [("hybrid", "exact"), ("hybrid", "cg"), ("hybrid_implicit", "exact")]
)
def test_hybrid_als_lowers_the_loss_and_cold_items_come_from_tags(kind, solver):
    data, groups, cold = grouped()
    extra = {"alpha": 5.0, "free_reg_scale": 5.0, "tag_pooling": "sqrt"} if (
        kind == "hybrid_implicit") else {
        "gravity_coeff": 0.5, "free_reg_scale": 3.0 if solver == "cg" else 1.0
    }  # fmt: skip
    m = model(data, kind=kind, **extra)
    m.train(config=TrainConfig(num_iterations=7, optimizer="als", als_solver=solver))
    h = m.history
    total = h.filter(like="_loss").sum(axis=1)
    assert (np.diff(total.to_numpy()) <= 1e-5 * total.iloc[0]).all()
    # cold items, and only they, keep no free part: their factor comes from their tags alone
    assert m.from_tags_only.tolist() == [i in cold for i in range(N_ITEMS)]
    assert not m.variables["V"].numpy()[cold].any() and m.variables["V"].numpy()[0].any()
    # and they land among their own group: the top dot neighbours of a cold item share its tag
    V = m.item_factors
    for i in cold:
        scores = V[: -len(cold)] @ V[i]
        top = np.argsort(-scores)[:5]
        assert (groups[top] == groups[i]).mean() >= 0.8


def test_hybrid_gradient_descent_keeps_cold_items_on_their_tags():
    data, _, cold = grouped()
    m = model(data)
    m.train(num_iterations=50, learning_rate=2.0, optimizer="sgd")
    assert np.all(m.variables["V"].numpy()[cold] == 0) and m.from_tags_only[cold].all()
    assert m.history["train_error_observed"].iloc[-1] < m.history["train_error_observed"].iloc[0]


def test_hybrid_beats_biased_on_cold_items_where_tags_carry_the_taste():
    data, _, cold = grouped(seed=1)
    rng = np.random.default_rng(3)
    # held-out listens of the cold items, generated as the others were
    rows = [(u, i, 4.0 if i % GROUPS == u % GROUPS else 1.5) for u in range(N_USERS)
            for i in cold if rng.random() < 0.3]  # fmt: skip
    test = pd.DataFrame(rows, columns=["userID", "artistID", "listenCount"])
    errors, models = {}, {}
    for kind in ("biased", "hybrid"):
        extra = {"tag_min_count": 2} if kind == "hybrid" else {}
        m = CFModel(data.interactions, test, n_users=N_USERS, n_items=N_ITEMS, dataset=data,
                    kind=kind, embedding_dim=4, init_stddev=0.1, seed=0,
                    regularization_coeff=0.05, **extra)  # fmt: skip
        m.train(num_iterations=9, optimizer="als")
        errors[kind], models[kind] = m.history["test_error_observed"].iloc[-1], m
    # explicit MF predicts unobserved pairs near the observed ones (about 3 for a warm item of
    # another group, where the test says 1.5); the cold items follow the warm ones
    assert errors["hybrid"] < 0.85 * errors["biased"]
    m = models["hybrid"]
    pred = m.user_factors @ m.item_factors[cold].T + m.item_bias[cold]
    same = (np.arange(N_USERS) % GROUPS)[:, None] == (cold % GROUPS)[None, :]
    assert pred[same].mean() > pred[~same].mean() + 0.4


def test_hybrid_saves_loads_and_warm_starts(tmp_path):
    data, _, cold = grouped()
    m = model(data, tag_pooling="sqrt")
    m.train(num_iterations=3, optimizer="als")
    back = CFModel.load(m.save(tmp_path / "h.npz"), listens=data)
    assert back.item_tags.names == m.item_tags.names and back.item_tags.pooling == "sqrt"
    assert np.allclose(back.item_tags.matrix.toarray(), m.item_tags.matrix.toarray())
    assert np.allclose(back.item_factors, m.item_factors)
    assert np.allclose(back.item_bias, m.item_bias)
    assert back.from_tags_only.tolist() == m.from_tags_only.tolist()
    back.train(num_iterations=1, optimizer="als")  # and training goes on
    wider = warm_start(m, embedding_dim=6)
    assert wider.from_tags_only[cold].all() and not wider.variables["T"].numpy().any()
    wider.train(num_iterations=2, optimizer="als")
    assert wider.variables["T"].numpy().any()


def test_hybrid_refuses_what_it_cannot_use():
    data, _, _ = grouped()
    with pytest.raises(ValueError, match="needs the items' tags"):
        CFModel(data.interactions, kind="hybrid")
    with pytest.raises(ValueError, match="no tag is given to tag_min_count=1000"):
        model(data, tag_min_count=1000)
    with pytest.raises(ValueError, match="item_tags is read by the kinds"):
        CFModel(data.interactions, kind="biased", item_tags=np.eye(N_ITEMS))
    with pytest.raises(ValueError, match="one row per item"):
        model(data, item_tags=np.ones((3, 2)))
    with pytest.raises(ValueError, match="finite weights >= 0"):
        model(data, item_tags=-np.ones((N_ITEMS, 2)))
    with pytest.raises(ValueError, match="optimizer='als'"):
        model(data, kind="hybrid_implicit").train(2, optimizer="adam")
    with pytest.raises(ValueError, match="tag_min_count"):
        model(data, tag_min_count=0)
    with pytest.raises(ValueError, match="tag_pooling must be one of 'mean', 'sqrt'"):
        model(data, tag_pooling="max")


def test_hybrid_takes_any_tag_matrix():
    data, _, cold = grouped()
    matrix = np.zeros((N_ITEMS, GROUPS))
    matrix[np.arange(N_ITEMS), np.arange(N_ITEMS) % GROUPS] = 3.0
    m = CFModel(data.interactions, n_users=N_USERS, n_items=N_ITEMS, kind="hybrid_implicit",
                item_tags=ItemTags.from_matrix(matrix, ["a", "b", "c", "d"]), embedding_dim=4,
                seed=0, regularization_coeff=0.1)  # fmt: skip
    m.train(num_iterations=3, optimizer="als")
    assert m.from_tags_only[cold].all() and np.abs(m.item_factors[cold]).sum() > 0


def test_trainer_trains_both_hybrid_kinds_and_the_explorer_marks_tags_only_items():
    from mfwidgets.widgets.neighbors import TAGS_ONLY, NeighborExplorer
    from mfwidgets.widgets.trainer import TrainerWidget

    data, _, cold = grouped()
    trainer = TrainerWidget(data, kind="hybrid", embedding_dim=4, optimizer="als",
                            num_iterations=3, tag_min_count=2, seed=0)  # fmt: skip
    assert not trainer.w["tag_min_count"].disabled
    trainer.train(block=True)
    trainer.w["kind"].value = "hybrid_implicit"
    assert trainer.w["optimizer"].value == "als" and trainer.w["optimizer"].disabled
    trainer.train(block=True)
    assert list(trainer.runs) == ["hybrid_model", "hybrid_implicit_model"], trainer.last_error
    assert all(trainer.runs[n].from_tags_only[cold].all() for n in trainer.runs)
    ex = NeighborExplorer(data, trainer)
    ex.select(int(cold[0]))
    assert ex.tables.value.count(TAGS_ONLY) == 2 and TAGS_ONLY in ex.status.text
    ex.select(0)  # a warm item is not marked
    assert TAGS_ONLY not in ex.tables.value
    trainer.w["kind"].value = "biased"
    assert trainer.w["tag_min_count"].disabled


def test_the_board_compares_a_hybrid_run_like_any_other():
    from mfwidgets.widgets.board import ComparisonBoard

    data, _, _ = grouped()
    runs = {}
    for kind in ("biased", "hybrid"):
        extra = {"tag_min_count": 2} if kind == "hybrid" else {}
        m = CFModel.from_listens(data, seed=0, kind=kind, embedding_dim=4, init_stddev=0.1,
                                 regularization_coeff=0.05, **extra)  # fmt: skip
        m.train(num_iterations=4, optimizer="als")
        runs[kind] = m
    board = ComparisonBoard(runs, data, reference="biased", k=5)
    assert board.wait(60)
    metrics = board.results["metrics"]
    assert list(metrics.index) == ["biased", "hybrid"]
    hybrid = runs["hybrid"]
    assert np.isclose(metrics.loc["hybrid", "test_mse"], mse(hybrid, hybrid.test_listens))
