"""Evaluation: metrics by hand, baselines, chunking, recommendations, fold-in, ALS and new kinds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset

from mfwidgets.analysis import (
    BiasBaseline,
    GlobalMean,
    Popularity,
    evaluate,
    fold_in,
    mse,
    ranking_metrics,
    recommend,
    recommend_for_artists,
    rmse,
)
from mfwidgets.analysis.evaluation import recommend_batch
from mfwidgets.data import split_dataframe
from mfwidgets.models import CFModel, Factors


class FixedScorer:
    """A model with given ranking scores and rating predictions."""

    def __init__(self, scores, predictions=None):
        self.scores = np.asarray(scores, dtype=float)
        self.n_users, self.n_items = self.scores.shape
        self.predictions = predictions

    def score_users(self, user_ids):
        return self.scores[np.atleast_1d(user_ids)]

    def predict(self, user_ids, artist_ids):
        return self.scores[np.asarray(user_ids), np.asarray(artist_ids)]


def frame(rows):
    return pd.DataFrame(rows, columns=["userID", "artistID", "listenCount"])


def fake_data(listens, n_artists, names=None):
    return dataset(listens, int(listens["userID"].max()) + 1, n_artists, names=names)


# ------------------------------------------------------------------------------------------------
def test_ranking_metrics_by_hand():
    scores = [[9, 1, 5, 8, 0], [0, 0, 1, 2, 3]]
    train = frame([(0, 0, 1.0)])
    test = frame([(0, 1, 1.0), (0, 3, 1.0), (1, 2, 1.0)])
    m = ranking_metrics(FixedScorer(scores), train, test, k=2)
    # user 0: artist 0 excluded, top-2 = [3, 2], one hit of two relevant; user 1: [4, 3], none
    assert m["precision@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert m["recall@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert m["ndcg@2"] == pytest.approx((1 / (1 + 1 / np.log2(3)) + 0) / 2)
    assert m["hit_rate@2"] == pytest.approx(0.5)
    assert m["coverage"] == pytest.approx(3 / 5)


def test_training_artists_are_never_recommended_and_chunking_changes_nothing():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(37, 50))
    train = frame([(u, a, 1.0) for u in range(37) for a in rng.choice(50, 8, replace=False)])
    from mfwidgets.analysis.evaluation import user_csr

    exclude = user_csr(train, 37)
    users = np.arange(37)
    big = recommend_batch(FixedScorer(scores), users, exclude, k=10, chunk_size=1000)
    small = recommend_batch(FixedScorer(scores), users, exclude, k=10, chunk_size=4)
    np.testing.assert_array_equal(big, small)
    for u in users:
        listened = train.loc[train["userID"] == u, "artistID"].to_numpy()
        assert not set(big[u]) & set(listened)
        ranked = [a for a in np.argsort(-scores[u], kind="stable") if a not in listened][:10]
        assert list(big[u]) == ranked


def test_rating_errors_and_baselines_on_known_biases():
    rng = np.random.default_rng(1)
    n_u, n_a = 60, 40
    bu, ba = rng.normal(0, 0.5, n_u), rng.normal(0, 0.8, n_a)
    cells = rng.choice(n_u * n_a, 1500, replace=False)
    u, a = cells // n_a, cells % n_a
    df = frame(np.c_[u, a, 3 + bu[u] + ba[a] + rng.normal(0, 0.1, len(u))])
    df[["userID", "artistID"]] = df[["userID", "artistID"]].astype(int)
    train, test = df.iloc[:1300], df.iloc[1300:]
    gm = GlobalMean(train, n_users=n_u, n_items=n_a)
    bias = BiasBaseline(train, n_users=n_u, n_items=n_a, reg_user=0.5, reg_item=0.5)
    assert mse(gm, test) == pytest.approx(
        np.mean((test["listenCount"] - train["listenCount"].mean()) ** 2)
    )
    assert rmse(gm, test) == pytest.approx(np.sqrt(mse(gm, test)))
    assert mse(bias, test) < 0.1 * mse(gm, test)
    assert np.corrcoef(bias.item_bias, ba)[0, 1] > 0.95
    with pytest.raises(ValueError, match="empty"):
        mse(gm, test.iloc[:0])


def test_popularity_baseline_ranks_by_listener_count():
    train = frame([(0, 2, 1.0), (1, 2, 1.0), (2, 2, 1.0), (0, 1, 1.0), (1, 1, 1.0), (2, 0, 1.0)])
    pop = Popularity(train, n_users=4, n_items=4)
    np.testing.assert_array_equal(pop.score_users([3])[0], [1, 2, 3, 0])


def test_evaluate_one_row_per_model_baselines_first_and_deterministic():
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(20, 30))
    listens = frame(
        [(u, a, 1.0 + (u + a) % 3) for u in range(20) for a in rng.choice(30, 6, replace=False)]
    )
    data = fake_data(listens, 30)
    train, test = listens.iloc[::2], listens.iloc[1::2]
    table = evaluate({"fixed": FixedScorer(scores)}, data, train, test, k=5)
    assert list(table.index) == ["global mean", "user+artist bias", "popularity", "fixed"]
    assert {"test_mse", "test_rmse", "recall@5", "ndcg@5", "coverage", "novelty"} <= set(
        table.columns
    )
    assert np.isnan(table.loc["global mean", "recall@5"])
    again = evaluate({"fixed": FixedScorer(scores)}, data, train, test, k=5)
    pd.testing.assert_frame_equal(
        table.drop(columns="eval_seconds"), again.drop(columns="eval_seconds")
    )
    # one model, or a list, is named by its class (numbered when it repeats)
    one = evaluate(FixedScorer(scores), data, train, test, k=5, baselines=False)
    assert list(one.index) == ["FixedScorer"]
    assert one.loc["FixedScorer", "recall@5"] == table.loc["fixed", "recall@5"]
    two = evaluate([FixedScorer(scores)] * 2, data, train, test, k=5, baselines=False)
    assert list(two.index) == ["FixedScorer", "FixedScorer 2"]
    with pytest.raises(TypeError, match="a model, a list of models or a dict"):
        evaluate("fixed", data, train, test)
    with pytest.raises(ValueError, match="split is needed"):  # FixedScorer has no split
        evaluate({"fixed": FixedScorer(scores)}, data)
    # a model is ranked whatever its name; only the global-mean baseline itself is not
    named = evaluate({"global mean": FixedScorer(scores)}, data, train, test, k=5, baselines=False)
    assert named.loc["global mean", "recall@5"] == table.loc["fixed", "recall@5"]


# ------------------------------------------------------------------------------------------------
def test_recommend_excludes_listened_unless_asked():
    listens = frame([(0, 0, 5.0), (0, 1, 5.0), (1, 2, 1.0)])
    data = fake_data(listens, 5)
    model = FixedScorer([[10, 9, 8, 7, 6], [0, 0, 0, 0, 0]])
    rec = recommend(model, data, 0, k=3)
    assert rec["item_index"].tolist() == [2, 3, 4]
    assert list(rec.columns) == ["rank", "item_index", "raw_id", "name", "score", "n_users", "tags"]
    assert rec["score"].tolist() == [8, 7, 6] and rec["rank"].tolist() == [1, 2, 3]
    assert recommend(model, data, 0, k=2, exclude_listened=False)["item_index"].tolist() == [0, 1]
    with pytest.raises(ValueError, match="user id 7 is not in the data"):
        recommend(model, data, 7)
    with pytest.raises(ValueError, match="measure"):
        recommend(model, data, 0, measure="euclid")
    with pytest.raises(ValueError, match=r"user id '0' is not in the data.*ids are numbers"):
        recommend(model, data, "0")
    with pytest.raises(ValueError, match=r"user_index must lie in \[0, 2\), got 2"):
        recommend(model, data, user_index=2)


def test_fold_in_recovers_a_known_user_vector():
    rng = np.random.default_rng(3)
    V = rng.normal(size=(40, 4))
    x = np.array([0.5, -1.0, 2.0, 0.3])
    liked = np.arange(12)
    model = Factors(np.zeros((1, 4)), V)  # a rating model without biases: a ridge refit
    np.testing.assert_allclose(fold_in(model, liked, V[liked] @ x, ridge=1e-8), x, atol=1e-5)


def test_recommend_for_artists_finds_the_liked_artists_block():
    # two taste blocks: artists 0-4 share one direction, 5-9 another
    V = np.zeros((10, 2))
    V[:5, 0], V[5:, 1] = 1.0, 1.0
    V[:5, 0] += np.linspace(0, 0.1, 5)
    listens = frame([(0, a, 1.0) for a in range(10)])
    data = fake_data(listens, 10, [f"a{i}" for i in range(10)])
    model = Factors(np.zeros((1, 2)), V)
    rec = recommend_for_artists(model, data, ["a1", "A2"], k=3)
    assert set(rec["item_index"]) <= {0, 3, 4} and len(rec) == 3
    assert rec.attrs["liked"] == ["a1", "a2"]
    with pytest.raises(ValueError, match="empty"):
        recommend_for_artists(model, data, [])


# ------------------------------------------------------------------------------------------------
def low_rank_listens(n_users=40, n_items=60, d=3, density=0.4, seed=0, noise=0.05):
    rng = np.random.default_rng(seed)
    U, V = rng.normal(0, 0.8, (n_users, d)), rng.normal(0, 0.8, (n_items, d))
    mask = rng.random((n_users, n_items)) < density
    u, a = np.nonzero(mask)
    return frame(np.c_[u, a, (U[u] * V[a]).sum(1) + 3 + rng.normal(0, noise, len(u))]).astype(
        {"userID": int, "artistID": int}
    )


def test_als_reaches_the_gradient_descent_loss_in_a_few_sweeps():
    df = low_rank_listens()
    kwargs = dict(kind="regularized", embedding_dim=4, init_stddev=0.1, seed=0,
                  regularization_coeff=0.05, gravity_coeff=0.5)  # fmt: skip
    gd = CFModel(df, **kwargs)
    gd.train(num_iterations=2000, learning_rate=0.5)
    als = CFModel(df, **kwargs)
    als.train(num_iterations=10, optimizer="als")
    total = lambda h: h[["observed_loss", "regularization_loss", "gravity_loss"]].sum(axis=1)  # noqa: E731
    assert total(als.history).iloc[-1] <= total(gd.history).iloc[-1] * 1.001
    assert total(als.history).is_monotonic_decreasing  # each half-sweep is an exact minimiser
    assert als.iterations_done == 10 and als.history["iteration"].tolist() == list(range(10))


def test_als_half_step_zeroes_the_gradient_of_its_rows():
    df = low_rank_listens(seed=4)
    m = CFModel(df, kind="biased", embedding_dim=3, init_stddev=0.3, seed=1,
                regularization_coeff=0.1, gravity_coeff=0.2)  # fmt: skip
    m.train(num_iterations=2, optimizer="als")
    k = m.kernels()
    grads = k.gradients([v.read_value() for v in k.variables])
    gV, gbi = grads[1].numpy(), grads[3].numpy()  # artists were solved last: exact optimum
    assert np.abs(gV).max() < 1e-4 and np.abs(gbi).max() < 1e-4


def test_biased_model_predicts_with_biases_and_beats_the_global_mean():
    df = low_rank_listens(seed=5, noise=0.1)
    rng = np.random.default_rng(5)
    df["listenCount"] += (
        rng.normal(0, 0.7, 40)[df["userID"]] + rng.normal(0, 0.7, 60)[df["artistID"]]
    )
    train, test = split_dataframe(df, 0.2, seed=0)
    m = CFModel(train, test, n_users=40, n_artists=60, kind="biased", embedding_dim=3,
                init_stddev=0.1, seed=0, regularization_coeff=0.05)  # fmt: skip
    m.train(num_iterations=10, optimizer="als")
    b, emb = m.biases, m.embeddings
    u, a = test["userID"].to_numpy(), test["artistID"].to_numpy()
    manual = (
        b["global"]
        + b["userID"][u]
        + b["artistID"][a]
        + (emb["userID"][u] * emb["artistID"][a]).sum(1)
    )
    np.testing.assert_allclose(m.predict(u, a), manual, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        m.score_users(u[:3])[np.arange(3), a[:3]], manual[:3], rtol=1e-6, atol=1e-6
    )
    assert mse(m, test) < 0.5 * mse(GlobalMean(train), test)


def test_implicit_model_ranks_the_held_out_item_first_on_a_checkerboard():
    """implicit's contract test: in a block-diagonal world, the missing block item comes first."""
    rows = [(b * 5 + u, b * 6 + a, 1.0) for b in range(3) for u in range(5) for a in range(6)]
    df = frame(rows).astype({"userID": int, "artistID": int})
    held = (df["userID"] == 0) & (df["artistID"] == 4)
    train, test = df[~held], df[held]
    m = CFModel(train, test, n_users=15, n_artists=18, kind="implicit", embedding_dim=4,
                init_stddev=0.1, seed=0, regularization_coeff=0.1, alpha=5.0)  # fmt: skip
    m.train(num_iterations=9, optimizer="als")
    metrics = ranking_metrics(m, train, test, k=1)
    assert metrics["hit_rate@1"] == 1.0
    with pytest.raises(ValueError, match="als"):
        m.train(num_iterations=1, optimizer="sgd")  # implicit trains by ALS only
    m.train(num_iterations=2)  # its own optimizer by default: 2 ALS sweeps
    assert m.iterations_done == 11 and m.history["iteration"].iloc[-1] == 10


def test_same_seed_same_als_result():
    df = low_rank_listens(seed=6)
    df["listenCount"] = df["listenCount"].abs()
    runs = []
    for _ in range(2):
        m = CFModel(df, kind="implicit", embedding_dim=3, seed=11, regularization_coeff=0.5)
        m.train(num_iterations=3, optimizer="als")
        runs.append(m.embeddings["artistID"])
    np.testing.assert_array_equal(*runs)
