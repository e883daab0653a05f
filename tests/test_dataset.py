"""Dataset.from_dataframe: any frame becomes a dataset; the toolkit runs on it in its words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mfwidgets.analysis import evaluate
from mfwidgets.data import Dataset, split_dataframe
from mfwidgets.widgets import EmbeddingMap, NeighborExplorer, TrainerWidget

GENRES = ["Drama", "Comedy", "Horror", "Sci-Fi"]


def movies(n_users=25, n_movies=18, seed=0):
    """A MovieLens-like log: string user and movie ids, 1-5 star ratings, a movies table."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(n_users * n_movies, 160, replace=False)
    ratings = pd.DataFrame(
        {
            "user": [f"u{c // n_movies:03d}" for c in cells],
            "movie": [f"m{c % n_movies:03d}" for c in cells],
            "stars": rng.integers(1, 6, len(cells)).astype(float),
        }
    )
    table = pd.DataFrame(
        {
            "title": [f"Movie <{i}> & co" for i in range(n_movies + 1)],
            "genres": ["|".join(rng.choice(GENRES, 2, replace=False)) for _ in range(n_movies + 1)],
        },
        index=[f"m{i:03d}" for i in range(n_movies + 1)],  # one movie nobody rated
    )
    return ratings, table


def movie_dataset() -> tuple[pd.DataFrame, pd.DataFrame, Dataset]:
    ratings, table = movies()
    ds = Dataset.from_dataframe(
        ratings, user="user", item="movie", weight="stars", items=table, item_name="title",
        item_tags="genres", item_noun="movie",
    )  # fmt: skip
    return ratings, table, ds


def test_string_ids_are_reindexed_in_sorted_order_with_metadata():
    ratings, table, ds = movie_dataset()
    assert list(ds.user_raw_ids) == sorted(ratings["user"].unique())
    assert list(ds.item_raw_ids) == sorted(table.index)  # the unrated movie is kept
    assert ds.n_items == 19 and ds.items["n_users"].iloc[-1] == 0
    row = ratings.iloc[7]
    u = list(ds.user_raw_ids).index(row["user"])
    i = list(ds.item_raw_ids).index(row["movie"])
    hit = ds.interactions[(ds.interactions["user"] == u) & (ds.interactions["item"] == i)]
    assert hit["weight"].tolist() == [row["stars"]]
    assert ds.items["name"].iloc[i] == table.loc[row["movie"], "title"]
    assert ds.items["tags"].iloc[i] == table.loc[row["movie"], "genres"].split("|")
    assert "movies" in repr(ds) and ds.item_noun == "movie"


def test_duplicates_are_refused_by_default_and_merged_as_asked_and_counted():
    # one user's rating given twice: summing would make a 10 no single row had
    df = pd.DataFrame(
        {"u": [1, 1, 2, 1], "i": ["a", "a", "b", "a"], "w": [5.0, 5.0, 1.0, 2.0], "t": [3, 1, 2, 2]}
    )
    with pytest.raises(
        ValueError,
        match=r"2 duplicate \(u, i\) row\(s\): the first, row 1 "
        r"\(u 1, i 'a'\), repeats row 0 .*'sum' \(play counts\), 'mean'",
    ):
        Dataset.from_dataframe(df, user="u", item="i", weight="w")
    expected = {"sum": 12.0, "mean": 4.0, "max": 5.0, "first": 5.0, "last": 2.0}
    for how, value in expected.items():
        ds = Dataset.from_dataframe(df, user="u", item="i", weight="w", duplicates=how)
        merged = ds.interactions.sort_values("user")
        assert merged["weight"].tolist() == [value, 1.0], how
        assert list(ds.notes.values()) == [2] and "2 duplicate (user, item) rows" in repr(ds)
    # with timestamps the default keeps the latest row (t=3: the 5.0), and first/last follow time
    latest = Dataset.from_dataframe(df, user="u", item="i", weight="w", timestamp="t")
    latest_rows = latest.interactions.sort_values("user")
    assert latest_rows["weight"].tolist() == [5.0, 1.0]
    assert latest_rows["timestamp"].tolist() == [3, 2]
    first = Dataset.from_dataframe(df, user="u", item="i", weight="w", timestamp="t",
                                   duplicates="first")  # fmt: skip
    assert first.interactions.sort_values("user")["weight"].tolist() == [5.0, 1.0]  # t=1
    counts = Dataset.from_dataframe(df.drop_duplicates(["u", "i"]), user="u", item="i")
    assert counts.interactions["weight"].tolist() == [1.0, 1.0] and counts.notes == {}
    with pytest.raises(ValueError, match="duplicates must be one of"):
        Dataset.from_dataframe(df, user="u", item="i", duplicates="add")
    # a frame concatenated without ignore_index repeats its labels: rows named by position
    appended = pd.concat([df.iloc[[2]], df.iloc[[2]]])
    with pytest.raises(ValueError, match=r"row at position 1 .* repeats row at position 0"):
        Dataset.from_dataframe(appended, user="u", item="i", weight="w")
    with pytest.raises(ValueError, match="'w' must be >= 0; row at position 1 is -1"):
        Dataset.from_dataframe(appended.assign(w=[1.0, -1.0]), user="u", item="i", weight="w")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"w": [1.0, np.nan, 1.0]}, r"column 'w' must hold finite numbers; row 'r1'"),
        ({"w": [1.0, -2.0, 1.0]}, r"column 'w' must be >= 0; row 'r1'"),
        ({"u": [1, None, 2]}, r"column 'u' has a missing id at row 'r1'"),
    ],
)
def test_bad_input_names_the_column_and_the_first_bad_row(change, message):
    df = pd.DataFrame({"u": [1, 1, 2], "i": ["a", "b", "b"], "w": [2.0, 3.0, 1.0]})
    df.index = ["r0", "r1", "r2"]
    df = df.assign(**change)
    with pytest.raises(ValueError, match=message):
        Dataset.from_dataframe(df, user="u", item="i", weight="w")


def test_bad_arguments_are_named():
    df = pd.DataFrame({"u": [1], "i": ["a"]})
    with pytest.raises(ValueError, match="weight='w' is not a column"):
        Dataset.from_dataframe(df, user="u", item="i", weight="w")
    with pytest.raises(ValueError, match="empty"):
        Dataset.from_dataframe(df.iloc[:0], user="u", item="i")
    with pytest.raises(TypeError, match="DataFrame"):
        Dataset.from_dataframe([(1, "a")], user="u", item="i")
    with pytest.raises(ValueError, match="pass items too"):
        Dataset.from_dataframe(df, user="u", item="i", item_name="title")


def test_trainer_explorer_and_map_run_on_a_movie_dataset_in_its_words():
    _, _, ds = movie_dataset()
    trainer = TrainerWidget(ds, kind="biased", optimizer="als", num_iterations=3, embedding_dim=2)
    model = trainer.train(block=True)
    assert trainer.status.level == "ok", trainer.status.text
    assert model.dataset is ds and (model.n_users, model.n_items) == (ds.n_users, ds.n_items)
    explorer = NeighborExplorer(ds, trainer, k=3)
    assert (
        explorer.search.description == "movie" and explorer.tabs.get_title(0) == "movie neighbours"
    )
    explorer.search.value = "movie <4"
    assert explorer.selected_artist == 4
    assert "&lt;4&gt; &amp; co" in explorer.tables.value and "<4>" not in explorer.tables.value
    emap = EmbeddingMap(ds, trainer)
    assert set(emap.points["tag"]) <= {*GENRES, "other"}  # coloured by genre
    tooltip = emap.chart.spec["layer"][0]["encoding"]["tooltip"]
    assert tooltip[0]["title"] == "movie" and "movies" in emap.chart.spec["title"]
    train, test = split_dataframe(ds.interactions, 0.2, seed=0)
    table = evaluate({"biased": model}, ds, train, test, k=3)
    assert "user+movie bias" in table.index


def test_a_sparse_matrix_becomes_a_dataset_with_its_rows_and_columns_in_place():
    """implicit's ``user_items``: user u is row u, empty rows and columns kept, stored zeros
    dropped and counted, and the matrix comes back from to_csr()."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    dense = np.where(rng.random((30, 20)) < 0.2, rng.integers(1, 9, (30, 20)), 0).astype(float)
    dense[4], dense[:, 6] = 0, 0  # a user and an item without interactions
    rows, cols = np.nonzero(dense)
    stored = sp.coo_matrix(
        (np.append(dense[rows, cols], 0.0), (np.append(rows, 2), np.append(cols, 3))),
        shape=dense.shape,
    )  # and one stored zero
    assert dense[2, 3] == 0
    data = Dataset.from_csr(stored.tocsr())
    assert (data.n_users, data.n_items) == (30, 20) and len(data.interactions) == len(rows)
    assert data.notes == {"stored zeros dropped": 1} and "1 stored zeros dropped" in repr(data)
    np.testing.assert_array_equal(data.to_csr().toarray(), dense)
    assert data.items["n_users"].tolist() == (dense > 0).sum(0).tolist()
    named = Dataset.from_csr(
        stored, user_ids=[f"u{u}" for u in range(30)], item_ids=np.arange(20) * 10
    )
    assert named.user_index("u4") == 4 and named.item_id(6) == 60
    np.testing.assert_array_equal(named.to_csr().toarray(), dense)
    with pytest.raises(ValueError, match=r"user_ids must hold one id per row \(30\)"):
        Dataset.from_csr(stored, user_ids=range(29))
    with pytest.raises(ValueError, match="item_ids must be unique; 0 repeats"):
        Dataset.from_csr(stored, item_ids=[0] * 20)
    with pytest.raises(ValueError, match=r"finite weights >= 0; \(row \d+, column \d+\) is -"):
        Dataset.from_csr(-stored)
    with pytest.raises(TypeError, match="scipy sparse matrix"):
        Dataset.from_csr(dense)
