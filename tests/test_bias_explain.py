"""Popularity bias on cases whose answer is known, and explanations that add up, for every kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset

from mfwidgets.analysis import explain, gini, long_tail, popularity_bias
from mfwidgets.data import split_dataframe
from mfwidgets.models import CFModel, Factors, TrainConfig


def _listens(n_users, n_items, first_item, seed=0, n=300):
    rng = np.random.default_rng(seed)
    cells = rng.choice(n_users * (n_items - first_item), n, replace=False)
    return pd.DataFrame(
        {
            "userID": cells // (n_items - first_item),
            "artistID": first_item + cells % (n_items - first_item),
            "listenCount": rng.uniform(1, 5, n),
        }
    )


def test_gini_and_long_tail_by_hand():
    assert gini([1, 1, 1, 1]) == 0.0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)  # Σ(2i−n−1)x / (nΣx) = 3·4 / (4·4)
    assert gini([0, 0, 0, 0]) == 0.0
    # 20 interactions; the least popular items holding 20 % (4) of them: 1 + 1 (+3 would be 5)
    assert long_tail([10, 5, 3, 1, 1]).tolist() == [False, False, False, True, True]


def test_a_model_that_recommends_the_same_k_items_to_everyone():
    n_users, n_items, k = 30, 50, 5
    data = dataset(_listens(n_users, n_items, first_item=k), n_users, n_items)
    # every user points along x; item i at angle θ_i, unit length: dot = cosine = cos θ_i, and
    # the first k items (which nobody listened to, so none is excluded) come first for everyone
    theta = np.linspace(0.0, 1.5, n_items)
    model = Factors(
        np.tile([1.0, 0.0], (n_users, 1)), np.c_[np.cos(theta), np.sin(theta)], dataset=data
    )
    result = popularity_bias({"same k": model}, data, k=k, measure="both")
    table = result.table
    assert list(table.index) == [("same k", "dot"), ("same k", "cosine")]
    pop = data.item_popularity
    for m in ("dot", "cosine"):
        row = table.loc[("same k", m)]
        assert row["coverage"] == pytest.approx(k / n_items)
        assert row["gini"] == pytest.approx(1 - k / n_items)  # the formula's value for this case
        assert row["mean_popularity"] == pytest.approx(pop[:k].mean())
        profile = data.interactions.assign(p=pop[data.interactions["artistID"]])
        expected_profile = profile.groupby("userID")["p"].mean().mean()
        assert row["profile_popularity"] == pytest.approx(expected_profile)
        assert row["popularity_lift"] == pytest.approx(pop[:k].mean() / expected_profile - 1)
        assert row["long_tail_share"] == pytest.approx(long_tail(pop)[:k].mean())
    curve = result.curve
    dot = curve[curve["measure"] == "dot"].set_index("item_index")["recommended"].sort_index()
    assert dot[:k].tolist() == [n_users] * k and dot[k:].sum() == 0


def test_popularity_bias_refuses_bad_arguments():
    data = dataset(_listens(10, 20, 0, n=50), 10, 20)
    model = Factors(np.ones((10, 2)), np.ones((20, 2)), dataset=data)
    with pytest.raises(ValueError, match="measure must be one of 'dot', 'cosine', 'both'"):
        popularity_bias(model, data, measure="euclid")
    with pytest.raises(ValueError, match="k must be"):
        popularity_bias(model, data, k=0)


@pytest.mark.parametrize("kind", ["plain", "regularized", "biased", "implicit"])
def test_explanations_add_up_for_every_kind(kind):
    n_users, n_items = 25, 40
    data = dataset(_listens(n_users, n_items, 0, n=400), n_users, n_items)
    train, test = split_dataframe(data.interactions, 0.1, seed=0)
    model = CFModel(train, test, n_users=n_users, n_items=n_items, kind=kind, embedding_dim=4,
                    init_stddev=0.1, seed=0)  # fmt: skip
    # (implicit: run to convergence, where the refit must reproduce the model's own vector)
    sweeps = 400 if kind == "implicit" else 20
    model.train(config=TrainConfig(num_iterations=sweeps, optimizer="als"))
    user = int(train["userID"].iloc[0])
    for item in (0, 7, 39):
        why = explain(model, data, user, item)
        assert why.parts.sum() == pytest.approx(why.score, abs=1e-6)
        assert why.score == pytest.approx(float(model.predict([user], [item])[0]), abs=1e-12)
        dot = why.parts["dot product"]
        assert why.user_norm * why.item_norm * why.cosine == pytest.approx(dot, abs=1e-9)
        assert why.contributions["contribution"].sum() + why.rest == pytest.approx(dot, abs=1e-9)
        # the user's training items, largest contribution first
        assert set(why.contributions["item_index"]) == set(
            train.loc[train["userID"] == user, "artistID"]
        )
        size = why.contributions["contribution"].abs().to_numpy()
        assert (np.diff(size) <= 0).all()
    if kind == "implicit":  # the model's own α and λ: at convergence the refit is its ALS step
        assert abs(why.rest) < 1e-5 * why.contributions["contribution"].abs().sum()
        assert "α = 1" in why.method


def test_explain_refuses_bad_ids():
    data = dataset(_listens(10, 20, 0, n=50), 10, 20)
    model = Factors(np.ones((10, 2)), np.ones((20, 2)), dataset=data)
    with pytest.raises(ValueError, match=r"user id 10 is not in the data \(10 ids, such as 0\)"):
        explain(model, data, 10, 0)
    with pytest.raises(ValueError, match=r"artist id 'Björk' is not in the data .*ids are numbers"):
        explain(model, data, 0, "Björk")
    with pytest.raises(ValueError, match=r"user_index must lie in \[0, 10\), got 10"):
        explain(model, data, user_index=10, item_index=0)
    with pytest.raises(TypeError, match=r"user_id .* or user_index, exactly one"):
        explain(model, data, 1, 0, user_index=1)
