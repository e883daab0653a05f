"""Scores, neighbours and artist lookup (numpy only), on data where the answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset

from mfwidgets.analysis.lookup import ArtistIndex, normalize
from mfwidgets.analysis.scoring import COSINE, DOT, artist_neighbors, compute_scores, top_k
from mfwidgets.models import CFModel, Factors


def fake_data(names, popularity):
    n = len(names)
    listens = pd.DataFrame({"userID": [0], "artistID": [0], "listenCount": [1.0]})
    return dataset(listens, 1, n, names=names, popularity=np.asarray(popularity))


def checkerboard(block=6, blocks=2, value=4.0) -> pd.DataFrame:
    """Users of block b listen to every artist of block b, and to nothing else."""
    rows = [
        (b * block + u, b * block + a, value)
        for b in range(blocks)
        for u in range(block)
        for a in range(block)
    ]
    return pd.DataFrame(rows, columns=["userID", "artistID", "listenCount"])


def FixedModel(V):
    V = np.asarray(V, dtype=float)
    return Factors(np.zeros((1, V.shape[1])), V)


def test_compute_scores_dot_and_cosine():
    V = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [0.0, 0.0]])
    u = np.array([2.0, 0.0])
    np.testing.assert_allclose(compute_scores(u, V, DOT), [2, 0, 6, 0])
    cos = compute_scores(u, V, COSINE)
    np.testing.assert_allclose(cos, [1, 0, np.sqrt(0.5), 0])  # zero row -> 0, never NaN
    assert np.isfinite(compute_scores(np.zeros(2), V, COSINE)).all()
    np.testing.assert_allclose(compute_scores(np.stack([u, u]), V).shape, (2, 4))
    with pytest.raises(ValueError, match="'dot' or 'cosine'"):
        compute_scores(u, V, "euclid")
    with pytest.raises(ValueError, match="share d"):
        compute_scores(np.ones(3), V)


def test_top_k_orders_best_first_breaks_ties_by_id_and_excludes():
    s = np.array([0.5, 2.0, 2.0, -1.0, 3.0])
    np.testing.assert_array_equal(top_k(s, 3), [4, 1, 2])
    np.testing.assert_array_equal(top_k(s, 10), [4, 1, 2, 0, 3])
    np.testing.assert_array_equal(top_k(s, 2, exclude=np.array([4])), [1, 2])
    assert len(top_k(s, 9, exclude=np.arange(5))) == 0


def test_neighbors_on_a_checkerboard_stay_in_their_block():
    df = checkerboard()
    model = CFModel(
        df, kind="regularized", embedding_dim=2, init_stddev=0.5, seed=0,
        regularization_coeff=0.01, gravity_coeff=1.0,
    )  # fmt: skip
    model.train(num_iterations=400, learning_rate=0.5)
    names = [f"artist {i}" for i in range(12)]
    data = fake_data(names, [6] * 12)
    for measure in (DOT, COSINE):
        res = artist_neighbors(model, data, "artist 2", measure=measure, k=6)
        assert 2 in res.index  # the query is included, as in the chapter
        assert set(res["item_index"]) == set(range(6)), measure
        assert list(res.columns) == [
            f"{measure} score", "names", "item_index", "raw_id", "n_users", "tags",
        ]  # fmt: skip
    res = artist_neighbors(model, data, 9, measure=COSINE, k=6)
    assert set(res["item_index"]) == set(range(6, 12))


def test_neighbors_lookup_rules_and_candidates():
    data = fake_data(
        ["Coldplay", "Jay-Z & Coldplay", "Coldplay/U2", "Björk", "cold"], [369, 2, 3, 172, 1]
    )
    model = FixedModel(np.eye(5))
    res = artist_neighbors(model, data, "coldplay", k=2)
    assert res.attrs["query"] == "Coldplay" and res.attrs["item_index"] == 0
    assert res.attrs["candidates"] == ["Coldplay/U2", "Jay-Z & Coldplay"]
    assert (
        artist_neighbors(model, data, "oldpla", k=1).attrs["query"] == "Coldplay"
    )  # most listened
    assert artist_neighbors(model, data, "COLD", k=1).attrs["query"] == "cold"  # exact wins
    assert artist_neighbors(model, data, "bjork", k=1).attrs["query"] == "Björk"
    with pytest.raises(ValueError, match="no artist whose name contains 'Muse'"):
        artist_neighbors(model, data, "Muse")
    with pytest.raises(ValueError, match="measure"):
        artist_neighbors(model, data, "Coldplay", measure="euclid")
    with pytest.raises(ValueError, match="k must be"):
        artist_neighbors(model, data, "Coldplay", k=0)
    with pytest.raises(TypeError, match="k must be an integer"):
        artist_neighbors(model, data, "Coldplay", k=2.5)


def test_artist_index_ranks_exact_then_prefix_then_substring_by_popularity():
    idx = ArtistIndex(
        ["The Beatles", "Beat Happening", "Beatles Tribute", "beatles", "Sigur Rós", "Beat"],
        [480, 5, 2, 1, 90, 40],
    )
    assert idx.search("beatles") == [3, 2, 0]  # exact, prefix, then substring
    assert idx.search("beat") == [5, 1, 2, 3, 0]
    assert idx.search("sigur ros") == [4] and idx.search("RÓS") == [4]
    assert idx.search("   ") == [] and idx.search("zzz") == []
    assert idx.search("beat", limit=2) == [5, 1]
    assert idx.resolve(4) == (4, [])
    with pytest.raises(ValueError, match="item id"):
        idx.resolve(99)
    with pytest.raises(TypeError):
        idx.resolve(1.5)
    assert normalize("  Björk\tGuðmundsdóttir ") == "bjork guðmundsdottir"
