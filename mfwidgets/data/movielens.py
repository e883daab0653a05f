"""MovieLens 100K and 1M: ratings as a :class:`Dataset` whose items are movies tagged by genre.

Like Last.fm, the archives' licence forbids redistribution: they are read from a folder or zip
you name, from ``$MFWIDGETS_DATA_MOVIELENS_100K`` / ``$MFWIDGETS_DATA_MOVIELENS_1M``, from the
cache, or downloaded once from GroupLens (the archive's published MD5 is checked).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import Dataset
from .sources import Archive, DataError, Opener, resolve_source

ML_100K = Archive(
    folder="ml-100k",
    url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
    required=("u.data", "u.item", "u.user"),
    env="MFWIDGETS_DATA_MOVIELENS_100K",
    homepage="https://grouplens.org/datasets/movielens/100k/",
    md5="0e33842e24a9c977be4e0107933c0723",
)
ML_1M = Archive(
    folder="ml-1m",
    url="https://files.grouplens.org/datasets/movielens/ml-1m.zip",
    required=("ratings.dat", "movies.dat", "users.dat"),
    env="MFWIDGETS_DATA_MOVIELENS_1M",
    homepage="https://grouplens.org/datasets/movielens/1m/",
    md5="c4d9eecfca2ab87c1945afe126590906",
)
#: the 19 genre flags of u.item, in the order of u.genre
GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
_YEAR = re.compile(r"\((\d{4})\)\s*$")


def _text(opener: Opener, name: str) -> str:
    with opener(name) as fh:
        raw = fh.read()
    if not raw.strip():
        raise DataError(f"{name}: file is empty")
    return raw.decode("latin-1")  # MovieLens files are latin-1 (accented titles)


def _table(
    opener: Opener, name: str, columns: list[str], split: Callable[[str], list[str]]
) -> pd.DataFrame:
    """A headerless file split line by line, every line checked for its field count."""
    rows = []
    for number, line in enumerate(_text(opener, name).splitlines(), 1):
        if not line.strip():
            continue
        fields = split(line)
        if len(fields) != len(columns):
            raise DataError(
                f"{name}: line {number} has {len(fields)} fields, expected {len(columns)} "
                f"({', '.join(columns)}); file truncated or damaged?"
            )
        rows.append(fields)
    return pd.DataFrame(rows, columns=columns)


def _on(sep: str) -> Callable[[str], list[str]]:
    return lambda line: line.split(sep)


def _double_colons(n: int) -> Callable[[str], list[str]]:
    """MovieLens 1M's ``::`` fields: the first and the last ones split off, so a middle field
    (a title) may itself hold ':' or '::'."""

    def split(line: str) -> list[str]:
        first, sep, rest = line.partition("::")
        return [first, *rest.rsplit("::", n - 2)] if sep else [line]

    return split


def _integers(df: pd.DataFrame, columns: list[str], name: str) -> pd.DataFrame:
    for col in columns:
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any():
            line = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
            raise DataError(f"{name}: column {col!r} must hold integers; line {line} does not")
        df[col] = values.astype(np.int64)
    return df


def _year(titles: pd.Series) -> pd.Series:
    """The release year in a title's trailing "(1977)", or <NA>."""
    return titles.str.extract(_YEAR, expand=False).astype("Int64")


def _movielens(
    ratings: pd.DataFrame,
    movies: pd.DataFrame,
    users: pd.DataFrame,
    name: str,
    where: str,
    duplicates: str | None,
) -> Dataset:
    unknown = ~ratings["item"].isin(movies.index)
    if unknown.any():
        raise DataError(
            f"{name}: {int(unknown.sum())} rating(s) name movies absent from the movies file "
            f"(first: {int(ratings.loc[unknown, 'item'].iloc[0])})"
        )
    ds = Dataset.from_dataframe(
        ratings, user="user", item="item", weight="rating", items=movies, item_name="title",
        item_tags="genres", users=users, item_noun="movie", timestamp="timestamp",
        duplicates=duplicates, name=name,
    )  # fmt: skip
    return dataclasses.replace(ds, weight_noun="rating", source=where)


def load_movielens_100k(
    source: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    duplicates: str | None = None,
) -> Dataset:
    """MovieLens 100K: 100,000 ratings (1-5) by 943 users of 1,682 movies.

    Items: title, year (from the title), release date, IMDb URL, and the genre flags as the
    movie's tags. Users: age, gender, occupation, zip code. The ids are GroupLens's own
    (1-based; ``data.user_index(196)`` is the row of user 196); ``interactions`` keeps the
    timestamps. A user's repeated rating of a movie keeps the latest (``duplicates``, counted in
    ``notes``; the published files have none).
    """
    opener, where = resolve_source(ML_100K, source, cache_dir=cache_dir)
    ratings = _table(opener, "u.data", ["user", "item", "rating", "timestamp"], _on("\t"))
    ratings = _integers(ratings, ["user", "item", "rating", "timestamp"], "u.data")
    item_cols = ["item", "title", "release_date", "video_release_date", "imdb_url"]
    movies = _table(opener, "u.item", item_cols + list(GENRES_100K), _on("|"))
    movies = _integers(movies, ["item", *GENRES_100K], "u.item")
    flags = movies[list(GENRES_100K)].to_numpy() == 1
    movies = pd.DataFrame(
        {
            "title": movies["title"].to_numpy(),
            "year": _year(movies["title"]).array,
            "genres": [[g for g, f in zip(GENRES_100K, row, strict=True) if f] for row in flags],
            "release_date": movies["release_date"].to_numpy(),
            "imdb_url": movies["imdb_url"].to_numpy(),
        },
        index=movies["item"].to_numpy(),
    )
    users = _table(opener, "u.user", ["user", "age", "gender", "occupation", "zip"], _on("|"))
    users = _integers(users, ["user", "age"], "u.user").set_index("user")
    return _movielens(ratings, movies, users, "movielens-100k", where, duplicates)


def _dat(opener: Opener, name: str, columns: list[str]) -> pd.DataFrame:
    return _table(opener, name, columns, _double_colons(len(columns)))


def load_movielens_1m(
    source: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    duplicates: str | None = None,
) -> Dataset:
    """MovieLens 1M: about 1,000,209 ratings (1-5) by 6,040 users of 3,706 rated movies.

    Items: title, year (from the title) and genres (the ``|``-separated field) as tags; movies
    listed in movies.dat without a rating are kept. Users: gender, age group, occupation code,
    zip code.
    """
    opener, where = resolve_source(ML_1M, source, cache_dir=cache_dir)
    ratings = _dat(opener, "ratings.dat", ["user", "item", "rating", "timestamp"])
    ratings = _integers(ratings, ["user", "item", "rating", "timestamp"], "ratings.dat")
    movies = _dat(opener, "movies.dat", ["item", "title", "genres"])
    movies = _integers(movies, ["item"], "movies.dat")
    movies = pd.DataFrame(
        {
            "title": movies["title"].to_numpy(),
            "year": _year(movies["title"]).array,
            "genres": [[g for g in s.split("|") if g] for s in movies["genres"]],
        },
        index=movies["item"].to_numpy(),
    )
    users = _dat(opener, "users.dat", ["user", "gender", "age", "occupation", "zip"])
    users = _integers(users, ["user", "age", "occupation"], "users.dat").set_index("user")
    return _movielens(ratings, movies, users, "movielens-1m", where, duplicates)
