"""The Last.fm HetRec 2011 data: find or download it, validate it, and clean it as the chapter did.

``load_lastfm()`` returns a :class:`LastfmData` whose ``listens`` table is the chapter's cleaned
listens table row for row. The dataset's licence is non-commercial, so it is never shipped with the
package: it is read from a folder or zip you point at (``MFWIDGETS_DATA``), from the cache, or
downloaded once from GroupLens into the cache.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..checks import show
from .cleaning import clean_tag, clean_weights, scale_to_range
from .dataset import NO_TAGS, Dataset
from .merge import check_merge, merge_duplicates, merge_note
from .sources import Archive, DataError, Opener, fetch, resolve_source

log = logging.getLogger(__name__)

GROUPLENS_URL = "https://files.grouplens.org/datasets/hetrec2011/hetrec2011-lastfm-2k.zip"
DATASET_NAME = "hetrec2011-lastfm-2k"
ENV_DATA = "MFWIDGETS_DATA"

#: peak_year of artists nobody tagged; earlier tagging years are raised to FIRST_YEAR
UNTAGGED_YEAR, FIRST_YEAR = 2004, 2005

# file -> (encoding, required columns, integer columns)
FILES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "artists.dat": ("utf-8", ("id", "name", "url"), ("id",)),
    "tags.dat": ("latin-1", ("tagID", "tagValue"), ("tagID",)),
    "user_artists.dat": (
        "ascii",
        ("userID", "artistID", "weight"),
        ("userID", "artistID", "weight"),
    ),
    "user_taggedartists.dat": (
        "ascii",
        ("userID", "artistID", "tagID", "year"),
        ("userID", "artistID", "tagID", "year"),
    ),
    "user_friends.dat": ("ascii", ("userID", "friendID"), ("userID", "friendID")),
}
REQUIRED_FILES = tuple(FILES)


ARCHIVE = Archive(
    folder=DATASET_NAME,
    url=GROUPLENS_URL,
    required=REQUIRED_FILES,
    env=ENV_DATA,
    homepage="https://grouplens.org/datasets/hetrec-2011/",
)


@dataclass(frozen=True, kw_only=True, repr=False)
class LastfmData(Dataset):
    """The cleaned Last.fm tables, with 0-based consecutive ids: a :class:`Dataset` whose
    interactions are the chapter's ``listens`` and whose items are its ``artist_info``.

    The chapter's cleaned tables are this dataset's own data, so its ids are the chapter's: user
    and artist id = index (``user_index(7) == 7``). Artist ids follow the order of artists.dat;
    user ids the order of first appearance in user_artists.dat. ``grouplens_user_ids[i]`` /
    ``grouplens_artist_ids[j]`` give the ids of the GroupLens files back.
    ``artist_info`` has the chapter's columns (id, name, tag_1..3, all_tags, peak_year,
    listen_count) plus the dataset-neutral ``tags`` and ``n_users``. ``listen_count`` is the
    chapter's name for the number of *listeners* of an artist (``n_users``), kept for the chapter.
    """

    raw_weights: np.ndarray  #: the raw listen counts of ``listens``, row for row
    artists: pd.DataFrame  #: id, name, url
    tag_assignments: pd.DataFrame  #: userID, artistID, tag, year (valid rows, cleaned tags)
    friends: pd.DataFrame  #: userID, friendID: each friendship once, userID < friendID
    dropped: dict[str, int] = field(default_factory=dict)  #: rows dropped while reading, by reason
    grouplens_user_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    grouplens_artist_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    item_noun: str = "artist"
    user_noun: str = "listener"
    weight_noun: str = "listenCount"
    name: str = "lastfm-2k"

    @property
    def listens(self) -> pd.DataFrame:
        """userID, artistID, listenCount (cleaned, scaled to [1, 5])."""
        return self.interactions

    @property
    def artist_info(self) -> pd.DataFrame:
        return self.items

    @property
    def artist_raw_ids(self) -> np.ndarray:
        return self.item_raw_ids

    @property
    def n_artists(self) -> int:
        return self.n_items


def fetch_lastfm(
    cache_dir: str | Path | None = None, *, url: str = GROUPLENS_URL, timeout: float = 60
) -> Path:
    """The cached dataset folder, downloaded and extracted first if needed (see sources.fetch)."""
    return fetch(ARCHIVE, cache_dir, url=url, timeout=timeout)


# ------------------------------------------------------------------------------------------------
# reading and validating
# ------------------------------------------------------------------------------------------------
def _read_table(opener: Opener, name: str) -> pd.DataFrame:
    encoding, required, integer = FILES[name]
    with opener(name) as fh:
        raw = fh.read()
    if not raw.strip():
        raise DataError(f"{name}: file is empty")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: not valid {encoding} text ({exc})") from exc
    read = {
        "sep": "\t",
        "quoting": csv.QUOTE_NONE,  # names such as "Weird Al" keep their quotes
        "keep_default_na": False,  # an artist called "NA" is a name, not a missing value
    }
    try:
        header = pd.read_csv(io.StringIO(text), nrows=0, **read).columns
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(
                f"{name}: missing column(s) {', '.join(missing)} (found {', '.join(header)})"
            )
        types = {c: (np.int64 if c in integer else str) for c in header}
        try:
            df = pd.read_csv(io.StringIO(text), dtype=types, **read)
        except (ValueError, TypeError, OverflowError):
            df = pd.read_csv(io.StringIO(text), dtype=str, **read)  # slow path: find the line
            _raise_first_non_integer(df, integer, name)
            raise DataError(f"{name}: integer columns out of range") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{name}: cannot be parsed as tab-separated values ({exc})") from exc
    if df.empty:
        raise DataError(f"{name}: has a header but no rows (truncated?)")
    return df


def _raise_first_non_integer(df: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    for col in columns:
        bad = ~df[col].fillna("").str.strip().str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
        if bad.any():
            line = int(np.flatnonzero(bad)[0]) + 2  # 1-based, after the header
            raise DataError(
                f"{name}: column {col!r} must hold integers; line {line} has "
                f"{df[col].iloc[line - 2]!r} (file truncated or damaged?)"
            )


def _check_unique(df: pd.DataFrame, col: str, name: str) -> None:
    if df[col].duplicated().any():
        dup = df.loc[df[col].duplicated(), col].iloc[0]
        raise DataError(f"{name}: id {dup} appears more than once in column {col!r}")


def _artist_info(
    artists: pd.DataFrame, tags: pd.DataFrame, listens: pd.DataFrame, n_artists: int
) -> pd.DataFrame:
    """The chapter's artist table: top tags, all tags, peak tagging year, listener count."""
    t = tags.reset_index(drop=True)
    t["pos"] = np.arange(len(t))
    counts = t.groupby(["artistID", "tag"], sort=False).agg(n=("pos", "size"), first=("pos", "min"))
    counts = counts.reset_index().sort_values(
        ["artistID", "n", "first"], ascending=[True, False, True]
    )
    counts["rank"] = counts.groupby("artistID").cumcount()
    top = counts[counts["rank"] < 3].pivot(index="artistID", columns="rank", values="tag")
    top = top.reindex(index=range(n_artists), columns=range(3))
    first = top[0].fillna(NO_TAGS)
    top_tags = {f"tag_{k + 1}": top[k].fillna(first) for k in range(3)}

    # distinct tags per artist in order of first use (a stable sort keeps file order)
    distinct = t.drop_duplicates(["artistID", "tag"]).sort_values("artistID", kind="stable")
    owners = distinct["artistID"].to_numpy()
    starts = np.searchsorted(owners, np.arange(n_artists + 1))
    tag_list = distinct["tag"].tolist()
    all_tags = [tag_list[starts[k] : starts[k + 1]] for k in range(n_artists)]

    years = t[["artistID"]].assign(year=t["year"].clip(lower=FIRST_YEAR))
    year_counts = years.groupby(["artistID", "year"]).size().reset_index(name="n")
    year_counts = year_counts.sort_values(["artistID", "n", "year"], ascending=[True, False, True])
    peak = year_counts.drop_duplicates("artistID").set_index("artistID")["year"]
    peak = peak.reindex(range(n_artists)).fillna(UNTAGGED_YEAR).astype(np.int64)

    listen_count = np.bincount(listens["artistID"].to_numpy(), minlength=n_artists)
    top_lists = [
        list(dict.fromkeys(t for t in row if t != NO_TAGS))
        for row in zip(*(v.to_numpy() for v in top_tags.values()), strict=True)
    ]
    return pd.DataFrame(
        {
            "id": np.arange(n_artists),
            "name": artists["name"].to_numpy(),
            **{k: v.to_numpy() for k, v in top_tags.items()},
            "all_tags": pd.Series(all_tags, dtype=object).to_numpy(),
            "peak_year": peak.to_numpy(),
            "listen_count": listen_count.astype(np.int64),
            "tags": pd.Series(top_lists, dtype=object).to_numpy(),
            "n_users": listen_count.astype(np.int64),
        }
    )


def load_lastfm(
    source: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    download_url: str = GROUPLENS_URL,
    duplicates: str = "refuse",
) -> LastfmData:
    """Load and clean the Last.fm HetRec 2011 data.

    ``source`` is a folder holding the HetRec files or a path to ``hetrec2011-lastfm-2k.zip``.
    Without it: ``$MFWIDGETS_DATA``, then the cache folder (``cache_dir`` or the platform's user
    cache), then a download of the GroupLens zip into the cache. Raises :class:`DataError`
    naming the file and the problem when the data is missing or malformed.

    user_artists.dat holds one total play count per (user, artist): the published file has no
    repeated pair, so one is refused by default (the error names it); ``duplicates`` merges them
    instead (``"sum"``, ``"max"``, ...: see :meth:`Dataset.from_dataframe`), counted in ``notes``.
    """
    how = check_merge(duplicates) or "refuse"
    opener, where = resolve_source(ARCHIVE, source, cache_dir=cache_dir, download_url=download_url)
    tables = {name: _read_table(opener, name) for name in REQUIRED_FILES}
    artists_raw, tags_raw = tables["artists.dat"], tables["tags.dat"]
    _check_unique(artists_raw, "id", "artists.dat")
    _check_unique(tags_raw, "tagID", "tags.dat")
    ua = tables["user_artists.dat"]
    if (ua["weight"] < 0).any():
        line = int(np.flatnonzero(ua["weight"].to_numpy() < 0)[0]) + 2
        raise DataError(f"user_artists.dat: weights must be non-negative; line {line} is negative")
    ua, notes = _merge_listens(ua, how)
    artist_raw_ids = artists_raw["id"].to_numpy()
    artist_index = pd.Series(np.arange(len(artist_raw_ids)), index=artist_raw_ids)
    listens, user_index = _listens(ua, artist_index)
    dropped: dict[str, int] = {}
    tag_assignments = _tag_assignments(
        tables["user_taggedartists.dat"], tags_raw, artist_index, user_index, dropped
    )
    pairs = _friends(tables["user_friends.dat"], user_index, dropped)
    artists = pd.DataFrame(
        {
            "id": np.arange(len(artist_raw_ids)),
            "name": artists_raw["name"].to_numpy(dtype=object),
            "url": artists_raw["url"].to_numpy(dtype=object),
        }
    )
    dropped = {k: v for k, v in dropped.items() if v}
    for reason, n in dropped.items():
        log.info("dropped %d %s", n, reason)
    return LastfmData(
        interactions=listens,
        raw_weights=ua["weight"].to_numpy(),
        artists=artists,
        items=_artist_info(artists, tag_assignments, listens, len(artist_raw_ids)),
        tag_assignments=tag_assignments,
        friends=pairs,
        dropped=dropped,
        notes=notes,
        source=where,
        user_raw_ids=np.arange(len(user_index)),
        item_raw_ids=np.arange(len(artist_raw_ids)),
        grouplens_user_ids=user_index.index.to_numpy(),
        grouplens_artist_ids=artist_raw_ids,
    )


def _listens(ua: pd.DataFrame, artist_index: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """The chapter's listens (users re-indexed in order of first appearance, artists by their
    row in artists.dat, weights cleaned and scaled to [1, 5]) and the user index."""
    unknown = ~ua["artistID"].isin(artist_index.index)
    if unknown.any():
        raise DataError(
            f"user_artists.dat: {int(unknown.sum())} listen row(s) name artists absent from "
            f"artists.dat (first: {int(ua.loc[unknown, 'artistID'].iloc[0])}); artists.dat "
            "may be truncated"
        )
    user_raw_ids = pd.unique(ua["userID"].to_numpy())
    user_index = pd.Series(np.arange(len(user_raw_ids)), index=user_raw_ids)
    users = user_index.loc[ua["userID"].to_numpy()].to_numpy()
    artist_ids = artist_index.loc[ua["artistID"].to_numpy()].to_numpy()
    weights = scale_to_range(clean_weights(users, artist_ids, ua["weight"].to_numpy()))
    listens = pd.DataFrame({"userID": users, "artistID": artist_ids, "listenCount": weights})
    return listens, user_index


def _tag_assignments(
    uta: pd.DataFrame,
    tags_raw: pd.DataFrame,
    artist_index: pd.Series,
    user_index: pd.Series,
    dropped: dict[str, int],
) -> pd.DataFrame:
    """(userID, artistID, tag, year) rows with cleaned tag text; what cannot be placed is
    counted in ``dropped``."""
    orphan = ~uta["artistID"].isin(artist_index.index)
    dropped["tag assignments naming artists absent from artists.dat"] = int(orphan.sum())
    unknown_tag = ~uta["tagID"].isin(tags_raw["tagID"])
    dropped["tag assignments naming tags absent from tags.dat"] = int((unknown_tag & ~orphan).sum())
    unknown_user = ~uta["userID"].isin(user_index.index)
    dropped["tag assignments by users without listens"] = int(
        (unknown_user & ~orphan & ~unknown_tag).sum()
    )
    uta = uta[~(orphan | unknown_tag | unknown_user)]
    tag_text = pd.Series(clean_tag(tags_raw["tagValue"]).to_numpy(), index=tags_raw["tagID"])
    assignments = pd.DataFrame(
        {
            "userID": user_index.loc[uta["userID"].to_numpy()].to_numpy(),
            "artistID": artist_index.loc[uta["artistID"].to_numpy()].to_numpy(),
            "tag": tag_text.loc[uta["tagID"].to_numpy()].to_numpy(),
            "year": uta["year"].to_numpy(),
        }
    )
    empty_tag = assignments["tag"] == ""
    dropped["tag assignments whose tag is empty once cleaned"] = int(empty_tag.sum())
    return assignments[~empty_tag].reset_index(drop=True)


def _friends(uf: pd.DataFrame, user_index: pd.Series, dropped: dict[str, int]) -> pd.DataFrame:
    """Each friendship once, (smaller, larger) user row; pairs naming users without listens
    are counted in ``dropped``."""
    known = uf["userID"].isin(user_index.index) & uf["friendID"].isin(user_index.index)
    dropped["friend pairs naming users without listens"] = int((~known).sum())
    a = user_index.loc[uf.loc[known, "userID"].to_numpy()].to_numpy()
    b = user_index.loc[uf.loc[known, "friendID"].to_numpy()].to_numpy()
    pairs = pd.DataFrame({"userID": np.minimum(a, b), "friendID": np.maximum(a, b)})
    return pairs[pairs["userID"] != pairs["friendID"]].drop_duplicates().reset_index(drop=True)


def _merge_listens(ua: pd.DataFrame, how: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """user_artists.dat with one row per (user, artist), merged as asked (see load_lastfm)."""
    frame = ua.rename(columns={"userID": "user", "artistID": "item"})

    def line(pos: int) -> str:
        return (
            f"user_artists.dat line {pos + 2} (userID {show(ua['userID'].iloc[pos])}, "
            f"artistID {show(ua['artistID'].iloc[pos])})"
        )

    try:
        merged, n = merge_duplicates(frame, how, line, "(userID, artistID)")
    except ValueError as exc:
        raise DataError(str(exc)) from None
    if not n:
        return ua, {}
    out = merged.rename(columns={"user": "userID", "item": "artistID"})
    return out, {merge_note(how, "(user, artist)"): n}
