"""The datasets mfwidgets knows by name: what they are, their licence, how to cite them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .dataset import Dataset
from .lastfm import ARCHIVE as LASTFM_2K
from .lastfm import load_lastfm
from .lastfm360k import ARCHIVE as LASTFM_360K
from .lastfm360k import load_lastfm_360k
from .movielens import ML_1M, ML_100K, load_movielens_1m, load_movielens_100k
from .sources import Archive

_GROUPLENS_TERMS = (
    "GroupLens research licence: non-commercial use, cite the paper, no redistribution"
)
_MOVIELENS_PAPER = (
    "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context. "
    "ACM Transactions on Interactive Intelligent Systems 5, 4, Article 19."
)


@dataclass(frozen=True)
class Entry:
    loader: Callable[..., Dataset]
    archive: Archive
    size: str
    licence: str
    citation: str
    example: str  #: an item everyone knows, for first looks at neighbours


CATALOG: dict[str, Entry] = {
    "lastfm-2k": Entry(
        load_lastfm,
        LASTFM_2K,
        "1,892 users, 17,632 artists, 92,834 listen counts (cleaned and scaled as the chapter did)",
        _GROUPLENS_TERMS,
        "Iván Cantador, Peter Brusilovsky and Tsvi Kuflik. 2011. 2nd Workshop on Information "
        "Heterogeneity and Fusion in Recommender Systems (HetRec 2011). RecSys 2011.",
        "Coldplay",
    ),
    "lastfm-360k": Entry(
        load_lastfm_360k,
        LASTFM_360K,
        "359,347 users, about 160,000 artists, 17,559,530 (user, artist, plays) rows",
        "Last.fm terms of use: non-commercial research use, no redistribution",
        "Òscar Celma. 2010. Music Recommendation and Discovery in the Long Tail. Springer.",
        "Coldplay",
    ),
    "movielens-100k": Entry(
        load_movielens_100k,
        ML_100K,
        "943 users, 1,682 movies, 100,000 ratings (1-5), 19 genres",
        _GROUPLENS_TERMS,
        _MOVIELENS_PAPER,
        "Star Wars (1977)",
    ),
    "movielens-1m": Entry(
        load_movielens_1m,
        ML_1M,
        "6,040 users, 3,883 movies (3,706 rated), 1,000,209 ratings (1-5), 18 genres",
        _GROUPLENS_TERMS,
        _MOVIELENS_PAPER,
        "Star Wars: Episode IV - A New Hope (1977)",
    ),
}


#: names people type for the datasets (the archives' own names, short forms)
ALIASES = {
    "hetrec2011-lastfm-2k": "lastfm-2k", "lastfm": "lastfm-2k", "lastfm2k": "lastfm-2k",
    "ml-100k": "movielens-100k", "ml100k": "movielens-100k", "movielens": "movielens-100k",
    "ml-1m": "movielens-1m", "ml1m": "movielens-1m",
    "lastfm-dataset-360k": "lastfm-360k", "lastfm360k": "lastfm-360k",
}  # fmt: skip


def catalog_name(name: str) -> str:
    """The catalogue's name for ``name`` or one of its aliases (case-insensitive)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a dataset name (a str), got {name!r}")
    key = name.strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    if key not in CATALOG:
        raise ValueError(
            f"name must be one of {', '.join(map(repr, CATALOG))} (or an alias: "
            f"{', '.join(map(repr, ALIASES))}); got {name!r}"
        )
    return key


def datasets() -> pd.DataFrame:
    """One row per known dataset: size, licence, citation, the environment variable that may
    point at a local copy, and where the archive is downloaded from."""
    return pd.DataFrame(
        [
            {
                "name": name,
                "size": e.size,
                "licence": e.licence,
                "citation": e.citation,
                "env": e.archive.env,
                "url": e.archive.url,
            }
            for name, e in CATALOG.items()
        ]
    ).set_index("name")


def load_dataset(
    name: str,
    source: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    **options: Any,
) -> Dataset:
    """Load a dataset by name (see :func:`datasets`; aliases such as ``"ml-100k"`` work): from
    ``source`` (a folder or the zip), else its environment variable, else the cache, else a
    download of the official archive. ``options`` go to the loader (``duplicates=``)."""
    return CATALOG[catalog_name(name)].loader(source, cache_dir=cache_dir, **options)
