"""Ids as the user wrote them: raw ids in, raw ids out, indexes only by their own name; what
reading merged is counted; folding a user in solves the system explain and implicit solve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from mfwidgets.analysis import (
    explain,
    fold_in,
    item_neighbors,
    predict,
    recommend,
    recommend_for_artists,
    recommend_for_items,
)
from mfwidgets.data import Dataset, load_dataset
from mfwidgets.models import CFModel, TrainConfig


def ratings_file(string_ids: bool = False, seed: int = 0) -> pd.DataFrame:
    """A ratings file as people have them: user ids from 1 with gaps (and one appended by hand
    at the end), item ids from 1 with gaps, or both as strings."""
    rng = np.random.default_rng(seed)
    users = np.array([1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 672])
    items = np.array([1, 3, 4, 7, 10, 11, 18, 29, 47, 76, 123, 199, 322, 521, 843])
    cells = rng.choice(len(users) * len(items), 110, replace=False)
    u, i = users[cells // len(items)], items[cells % len(items)]
    df = pd.DataFrame({"userId": u, "movieId": i, "rating": rng.integers(1, 6, len(cells)) * 1.0})
    if string_ids:
        df["userId"] = [f"user-{x}" for x in u]
        df["movieId"] = [f"tt{x:07d}" for x in i]
    return df


def trained(data: Dataset, kind: str = "biased") -> CFModel:
    model = CFModel.from_listens(data, seed=0, kind=kind, embedding_dim=3, init_stddev=0.1,
                                 regularization_coeff=0.1)  # fmt: skip
    model.train(config=TrainConfig(num_iterations=5, optimizer="als"))
    return model


@pytest.mark.parametrize("string_ids", [False, True])
def test_raw_ids_and_indexes_give_the_same_answers(string_ids):
    df = ratings_file(string_ids)
    data = Dataset.from_dataframe(df, user="userId", item="movieId", weight="rating")
    model = trained(data)
    last_user = df["userId"].iloc[-1] if string_ids else 672
    u = data.user_index(last_user)
    assert data.user_id(u) == last_user  # both ways
    assert string_ids or u == data.n_users - 1  # the largest id sorts last
    by_id = recommend(model, data, user_id=last_user, k=5)
    by_index = recommend(model, data, user_index=u, k=5)
    pd.testing.assert_frame_equal(by_id, by_index)
    assert by_id["raw_id"].tolist() == list(data.item_id(by_id["item_index"].to_numpy()))
    rated = set(df.loc[df["userId"] == last_user, "movieId"])
    assert not rated & set(by_id["raw_id"])  # what the user rated, by their own ids, is excluded
    item = by_id["raw_id"].iloc[0]
    why = explain(model, data, user_id=last_user, item_id=item)
    same = explain(model, data, user_index=u, item_index=data.item_index(item))
    assert why.score == same.score and (why.user_id, why.item_id) == (last_user, item)
    assert set(why.contributions["raw_id"]) <= rated
    assert predict(model, data, last_user, item) == pytest.approx(why.score)
    items = data.item_id(np.arange(3))
    np.testing.assert_allclose(
        predict(model, data, [last_user] * 3, items),
        model.predict(np.full(3, u), np.arange(3)),
    )
    nb = item_neighbors(model, data, item, "cosine", k=4)  # the query first: cosine 1
    assert nb.index[0] == item and nb.attrs["item_id"] == item
    pd.testing.assert_frame_equal(
        nb, item_neighbors(model, data, item_index=data.item_index(item), measure="cosine", k=4)
    )
    pd.testing.assert_frame_equal(
        nb, item_neighbors(model, data, item_id=item, measure="cosine", k=4)
    )  # as recommend and explain name it
    with pytest.raises(TypeError, match="exactly one of name_or_id, item_id"):
        item_neighbors(model, data, item, item_id=item)
    vectorised = data.user_index(np.array([last_user, df["userId"].iloc[0]]))
    assert vectorised.tolist() == [u, data.user_index(df["userId"].iloc[0])]


def test_unknown_ids_are_named_as_written_and_indexes_only_by_their_name():
    data = Dataset.from_dataframe(ratings_file(), user="userId", item="movieId", weight="rating")
    model = trained(data)
    with pytest.raises(ValueError, match=r"^user id 673 is not in the data \(12 ids, such as 1\)$"):
        recommend(model, data, user_id=673)
    with pytest.raises(ValueError, match=r"item id 2 is not in the data"):
        data.item_index([1, 2])
    with pytest.raises(ValueError, match=r"user_index must lie in \[0, 12\), got 12"):
        recommend(model, data, user_index=12)
    with pytest.raises(TypeError, match="exactly one"):
        recommend(model, data, user_id=1, user_index=0)
    with pytest.raises(ValueError, match=r"user id 'user-1' .* its ids are numbers"):
        recommend(model, data, user_id="user-1")
    for call in (lambda: data.user_index(np.int64(9999)), lambda: data.item_id(np.int64(99))):
        with pytest.raises(ValueError) as info:
            call()
        assert "np." not in str(info.value)  # values as written, not numpy reprs


def test_movielens_user_196_is_user_196(movielens_100k):
    """The off-by-one regression: MovieLens ids start at 1, indexes at 0."""
    data = movielens_100k
    u = data.user_index(196)
    assert data.user_id(u) == 196 and u == 195
    frame = data.interactions
    rated = set(data.item_id(frame.loc[frame["user"] == u, "item"].to_numpy()))
    factors_model = trained(data)
    rec = recommend(factors_model, data, user_id=196, k=20)
    assert not rated & set(rec["raw_id"]) and len(rated) == 39  # user 196 rated 39 movies
    other = recommend(factors_model, data, user_index=196, k=20)  # raw 197: someone else
    assert not rec.equals(other)
    star_wars = data.item_index(50)
    assert data.item_names[star_wars] == "Star Wars (1977)"


def test_loaders_keep_timestamps_and_count_what_they_merge(movielens_100k, tmp_path):
    assert "timestamp" in movielens_100k.interactions and movielens_100k.notes == {}
    # a user's rating appended by hand: MovieLens keeps the latest by timestamp
    source = tmp_path / "ml-100k"
    shared = Path(movielens_100k.source)
    source.mkdir()
    for name in ("u.item", "u.user"):
        (source / name).write_bytes((shared / name).read_bytes())
    rows = (shared / "u.data").read_text().splitlines()
    first = rows[0].split("\t")  # 196 242 3 881250949
    rows.append("\t".join([first[0], first[1], "1", str(int(first[3]) + 10)]))
    (source / "u.data").write_text("\n".join(rows) + "\n")
    data = load_dataset("ml-100k", source)
    assert data.notes == {"duplicate (user, item) rows merged keeping the last": 1}
    assert "1 duplicate (user, item) rows merged keeping the last" in repr(data)
    w = data.interactions
    pair = (w["user"] == data.user_index(196)) & (w["item"] == data.item_index(242))
    assert w.loc[pair, "weight"].tolist() == [1.0] and len(w) == 100_000
    with pytest.raises(ValueError, match=r"1 duplicate .* row 100000 .*repeats row 0"):
        load_dataset("movielens-100k", source, duplicates="refuse")


def test_to_csr_and_dataset_aliases(movielens_100k):
    data = movielens_100k
    m = data.to_csr()
    assert m.shape == (943, 1682) and m.nnz == 100_000
    assert m[data.user_index(196), data.item_index(242)] == 3.0
    c = data.to_csr(alpha=2.0)
    assert c[data.user_index(196), data.item_index(242)] == 7.0
    with pytest.raises(ValueError, match="alpha must be a number >= 0"):
        data.to_csr(alpha=-1)
    with pytest.raises(ValueError, match=r"name must be one of .*'ml-100k'"):
        load_dataset("ml-10m")


@pytest.mark.filterwarnings("ignore:OpenBLAS is configured")
def test_fold_in_solves_the_system_of_explain_and_of_implicit():
    from implicit.cpu.als import AlternatingLeastSquares

    df = ratings_file()
    data = Dataset.from_dataframe(df, user="userId", item="movieId", weight="rating")
    model = CFModel.from_listens(data, seed=0, kind="implicit", embedding_dim=4,
                                 init_stddev=0.1, regularization_coeff=2.0, alpha=3.0)  # fmt: skip
    model.train(6)
    u = data.user_index(672)
    train = model.split.train
    mine = train[train["user"] == u]
    J, w = mine["item"].to_numpy(), mine["weight"].to_numpy()
    x = fold_in(model, J, w)
    V = model.item_factors.astype(np.float64)
    # explain's items sum to v_i · x for every item: one vector
    for i in range(0, data.n_items, 3):
        why = explain(model, data, user_index=u, item_index=i)
        assert why.contributions["contribution"].sum() == pytest.approx(V[i] @ x, abs=1e-9)
    # the implicit library's recalculate_user on the same factors and confidences
    lib = AlternatingLeastSquares(factors=4, regularization=2.0 + 1e-6, alpha=1.0, random_state=0)
    lib.item_factors = model.item_factors.astype(np.float32)
    lib.user_factors = model.user_factors.astype(np.float32)
    row = sp.csr_matrix((1.0 + 3.0 * w, (np.zeros(len(J), int), J)), shape=(1, data.n_items))
    theirs = lib.recalculate_user(0, row)
    np.testing.assert_allclose(x, theirs, rtol=2e-4, atol=2e-5)
    # and the recommendations of a new user with those items rank by that vector
    rec = recommend_for_items(model, data, list(data.item_id(J)), k=5, weights=w)
    scores = V @ x
    scores[J] = -np.inf
    assert rec["item_index"].tolist() == np.argsort(-scores, kind="stable")[:5].tolist()


def test_recommend_for_artists_keeps_its_chapter_form():
    df = ratings_file()
    data = Dataset.from_dataframe(df, user="userId", item="movieId", weight="rating")
    model = trained(data)
    a = recommend_for_artists(model, data, [1, 3], k=4, reg=0.5, target=5.0)
    b = recommend_for_items(model, data, [1, 3], k=4, ridge=0.5, weights=5.0)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["liked"] == ["1", "3"] and not {1, 3} & set(a["raw_id"])
    with pytest.raises(ValueError, match="item id 2 is not in the data"):
        recommend_for_items(model, data, [2])


def test_widgets_take_and_show_the_datas_own_ids():
    from mfwidgets.data import leave_k_out
    from mfwidgets.widgets import NeighborExplorer, TrainerWidget

    df = ratings_file(string_ids=True)
    data = Dataset.from_dataframe(df, user="userId", item="movieId", weight="rating")
    split = leave_k_out(data, 1, seed=0)
    trainer = TrainerWidget(data, split=split, kind="biased", optimizer="als", embedding_dim=2)
    assert trainer.w["num_iterations"].value == 10  # ALS counts sweeps, not the chapter's 1,000
    trainer.train(block=True)
    assert trainer.model.split is split and trainer.model.iterations_done == 10
    explorer = NeighborExplorer(data, trainer)
    explorer.tabs.selected_index = 1
    explorer.user.value = "user-672"
    rec = explorer.recommendations["biased_model"]
    expected = recommend(trainer.model, data, user_id="user-672", k=len(rec))
    pd.testing.assert_frame_equal(rec, expected)
    assert "user user-672" in explorer.user_tables.value
    explorer.user.value = "user-673"
    assert (
        explorer.status.level == "error" and "'user-673' is not in the data" in explorer.status.text
    )
