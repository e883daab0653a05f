"""The Last.fm HetRec 2011 data: find or download it, validate it, and clean it as the chapter did.

``load_lastfm()`` returns a :class:`LastfmData` whose ``listens`` table is the chapter's cleaned
listens table row for row. The dataset's licence is non-commercial, so it is never shipped with the
package: it is read from a folder or zip you point at (``MFWIDGETS_DATA``), from the cache, or
downloaded once from GroupLens into the cache.
"""

from __future__ import annotations

import csv
import http.client
import io
import logging
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from .checks import check_seed

log = logging.getLogger(__name__)

GROUPLENS_URL = "https://files.grouplens.org/datasets/hetrec2011/hetrec2011-lastfm-2k.zip"
DATASET_NAME = "hetrec2011-lastfm-2k"
ENV_DATA = "MFWIDGETS_DATA"
ENV_CACHE = "MFWIDGETS_CACHE"

#: weights above this are outliers, replaced as the chapter did
OUTLIER_WEIGHT = 3500
#: the cleaned listen counts are scaled linearly onto this range
SCALED_RANGE = (1.0, 5.0)
#: peak_year of artists nobody tagged; earlier tagging years are raised to FIRST_YEAR
UNTAGGED_YEAR, FIRST_YEAR = 2004, 2005
NO_TAGS = "no_tags"

# file -> (encoding, required columns, integer columns)
_FILES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
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
REQUIRED_FILES = tuple(_FILES)


class DataError(ValueError):
    """The Last.fm data is missing, incomplete or malformed; the message names file and problem."""


@dataclass(frozen=True)
class LastfmData:
    """The cleaned Last.fm tables, with 0-based consecutive ids.

    Artist ids follow the order of artists.dat; user ids the order of first appearance in
    user_artists.dat. ``user_raw_ids[i]`` / ``artist_raw_ids[j]`` give the GroupLens ids back.
    """

    listens: pd.DataFrame  #: userID, artistID, listenCount (cleaned, scaled to [1, 5])
    raw_weights: np.ndarray  #: the raw listen counts of ``listens``, row for row
    artists: pd.DataFrame  #: id, name, url
    artist_info: pd.DataFrame  #: id, name, tag_1..3, all_tags, peak_year, listen_count
    tag_assignments: pd.DataFrame  #: userID, artistID, tag, year (valid rows, cleaned tags)
    friends: pd.DataFrame  #: userID, friendID: each friendship once, userID < friendID
    user_raw_ids: np.ndarray  #: (n_users,) GroupLens user id of each user id
    artist_raw_ids: np.ndarray  #: (n_artists,) GroupLens artist id of each artist id
    dropped: dict[str, int] = field(default_factory=dict)  #: rows dropped while reading, by reason
    source: str = ""  #: where the files were read from

    @property
    def n_users(self) -> int:
        return len(self.user_raw_ids)

    @property
    def n_artists(self) -> int:
        return len(self.artist_raw_ids)

    def __repr__(self) -> str:
        return (
            f"LastfmData({self.n_users:,} users, {self.n_artists:,} artists, "
            f"{len(self.listens):,} listens, source={self.source!r})"
        )


# ------------------------------------------------------------------------------------------------
# finding the files
# ------------------------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    """``$MFWIDGETS_CACHE``, else the platform's user cache folder plus ``mfwidgets``."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "mfwidgets"
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "mfwidgets" / "Cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mfwidgets"


def _manual_help(cache: Path) -> str:
    return (
        "To provide the data by hand: download hetrec2011-lastfm-2k.zip from "
        f"{GROUPLENS_URL} (or https://grouplens.org/datasets/hetrec-2011/) on a machine with "
        f"internet, then either set {ENV_DATA}=/path/to/hetrec2011-lastfm-2k.zip (or to the "
        "unzipped folder), or call load_lastfm('/path/to/it'), or unzip it into "
        f"{cache / DATASET_NAME}."
    )


Opener = Callable[[str], IO[bytes]]


def _dataset_folder(folder: Path) -> Path:
    """``folder`` itself or its ``hetrec2011-lastfm-2k`` subfolder, whichever holds the files."""
    if not all((folder / f).is_file() for f in REQUIRED_FILES):
        nested = folder / DATASET_NAME
        if nested.is_dir():
            folder = nested
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise DataError(f"{folder}: missing required file(s) {', '.join(missing)}")
    return folder


def _folder_opener(folder: Path) -> Opener:
    folder = _dataset_folder(folder)
    return lambda name: open(folder / name, "rb")


def _zip_opener(path: Path) -> Opener:
    """Read members straight from the zip (by base name; nothing is extracted)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = {Path(i.filename).name: i.filename for i in zf.infolist() if not i.is_dir()}
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{path}: not a readable zip file ({exc})") from exc
    missing = [f for f in REQUIRED_FILES if f not in members]
    if missing:
        raise DataError(f"{path}: zip lacks required file(s) {', '.join(missing)}")

    def open_member(name: str) -> IO[bytes]:
        with zipfile.ZipFile(path) as zf:
            try:
                return io.BytesIO(zf.read(members[name]))
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise DataError(f"{path}: {name} is damaged in the zip ({exc})") from exc

    return open_member


def _opener_for(path: Path) -> Opener:
    path = Path(path).expanduser()
    if path.is_dir():
        return _folder_opener(path)
    if path.is_file():
        return _zip_opener(path)
    raise DataError(f"{path}: no such folder or zip file")


def safe_extract(zip_path: Path, target: Path) -> None:
    """Extract ``zip_path`` into ``target``, refusing any member that would land outside it."""
    target = Path(target).resolve()
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            dest = (target / info.filename).resolve()
            if dest != target and target not in dest.parents:
                raise DataError(f"{zip_path}: member {info.filename!r} escapes the target folder")
            if info.external_attr >> 16 & 0o170000 == 0o120000:
                raise DataError(f"{zip_path}: member {info.filename!r} is a symbolic link")
        zf.extractall(target)


def _download(url: str, dest: Path, timeout: float) -> None:
    """Stream ``url`` to ``dest`` through a temporary file; a short read raises DataError."""
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
            expected = resp.headers.get("Content-Length")
            shutil.copyfileobj(resp, out, length=1 << 20)
            size = out.tell()
        if expected is not None and size != int(expected):
            raise DataError(f"download of {url} was interrupted ({size} of {expected} bytes)")
        os.replace(tmp, dest)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, DataError):
            raise
        raise DataError(f"could not download {url}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def fetch_lastfm(
    cache_dir: str | Path | None = None, *, url: str = GROUPLENS_URL, timeout: float = 60
) -> Path:
    """Return the cached dataset folder, downloading and extracting the zip first if needed.

    Atomic: the zip is downloaded to a ``.part`` file, checked, extracted into a temporary folder
    and only then renamed into place, so an interrupted run never leaves a folder that looks
    complete. Offline, the DataError says how to provide the data by hand.
    """
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    folder = cache / DATASET_NAME
    if folder.is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s into %s", url, cache)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
        zip_path = Path(tmp) / f"{DATASET_NAME}.zip"
        try:
            _download(url, zip_path, timeout)
        except DataError as exc:
            raise DataError(f"{exc}. {_manual_help(cache)}") from exc
        _zip_opener(zip_path)  # validates: a readable zip holding every required file
        staging = Path(tmp) / "extracted"
        safe_extract(zip_path, staging)
        try:
            os.replace(_dataset_folder(staging), folder)
        except OSError:
            if not folder.is_dir():  # another process may have won the race; that is fine
                raise
    return folder


def resolve_source(
    source: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    download_url: str = GROUPLENS_URL,
) -> tuple[Opener, str]:
    """Where to read from: ``source``, else ``$MFWIDGETS_DATA``, else the cache, else download."""
    if source is not None:
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"source must be a path (str or Path) or None, got {type(source)}")
        return _opener_for(Path(source)), str(source)
    if os.environ.get(ENV_DATA):
        path = Path(os.environ[ENV_DATA])
        try:
            return _opener_for(path), str(path)
        except DataError as exc:
            raise DataError(f"{ENV_DATA}={path}: {exc}") from exc
    folder = fetch_lastfm(cache_dir, url=download_url)
    return _folder_opener(folder), str(folder)


# ------------------------------------------------------------------------------------------------
# reading and validating
# ------------------------------------------------------------------------------------------------
def _read_table(opener: Opener, name: str) -> pd.DataFrame:
    encoding, required, integer = _FILES[name]
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


# ------------------------------------------------------------------------------------------------
# the chapter's cleaning
# ------------------------------------------------------------------------------------------------
def clean_weights(users: np.ndarray, artists: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Replace every weight > 3500, row by row in file order, as the chapter did.

    A replaced weight becomes (a) the median of that user's weights below 3500, rounded to an
    integer (half to even), when the user has any; else (b) the median of that artist's weights
    as already replaced so far, if below 3500; else (c) the median of all weights as replaced so
    far. Rule (a) is vectorised for users who have small weights in the raw file: its values are
    medians of those weights, and adding a value equal to the median never moves the median, so
    the sequential result is the same. The other rows (a handful) run the literal loop on the
    table state it would see: earlier rows replaced, later rows not.
    """
    w = weights.astype(np.float64)
    out = w.copy()
    outlier = w > OUTLIER_WEIGHT
    if not outlier.any():
        return out
    small = w < OUTLIER_WEIGHT
    user_median = pd.Series(w[small]).groupby(users[small]).median()
    med = pd.Series(users[outlier]).map(user_median).to_numpy()
    rows = np.flatnonzero(outlier)
    has_user = ~np.isnan(med)
    out[rows[has_user]] = np.round(med[has_user])
    position = np.arange(len(w))
    for i in rows[~has_user]:
        state = np.where(position < i, out, w)
        mine = state[(users == users[i]) & (state < OUTLIER_WEIGHT)]
        if mine.size:  # an earlier row of this user was replaced below 3500: rule (a)
            out[i] = np.round(np.median(mine))
            continue
        artist_median = np.median(state[artists == artists[i]])
        out[i] = artist_median if artist_median < OUTLIER_WEIGHT else np.median(state)
    return out


def scale_to_range(x: np.ndarray, lo: float = SCALED_RANGE[0], hi: float = SCALED_RANGE[1]):
    """Min-max scale ``x`` linearly onto [lo, hi] (all ``lo`` when x is constant)."""
    x = np.asarray(x, dtype=np.float64)
    span = x.max() - x.min()
    if span == 0:
        return np.full_like(x, lo)
    return lo + (hi - lo) * (x - x.min()) / span


def clean_tag(series: pd.Series) -> pd.Series:
    """Remove every non-alphanumeric character ("80's" -> "80s"; accented letters are kept)."""
    return series.astype(str).str.replace(r"[\W_]+", "", regex=True)


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
    return pd.DataFrame(
        {
            "id": np.arange(n_artists),
            "name": artists["name"].to_numpy(),
            **{k: v.to_numpy() for k, v in top_tags.items()},
            "all_tags": pd.Series(all_tags, dtype=object).to_numpy(),
            "peak_year": peak.to_numpy(),
            "listen_count": listen_count.astype(np.int64),
        }
    )


def load_lastfm(
    source: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    download_url: str = GROUPLENS_URL,
) -> LastfmData:
    """Load and clean the Last.fm HetRec 2011 data.

    ``source`` is a folder holding the HetRec files or a path to ``hetrec2011-lastfm-2k.zip``.
    Without it: ``$MFWIDGETS_DATA``, then the cache folder (``cache_dir`` or the platform's user
    cache), then a download of the GroupLens zip into the cache. Raises :class:`DataError`
    naming the file and the problem when the data is missing or malformed.
    """
    opener, where = resolve_source(source, cache_dir=cache_dir, download_url=download_url)
    tables = {name: _read_table(opener, name) for name in REQUIRED_FILES}
    artists_raw, tags_raw = tables["artists.dat"], tables["tags.dat"]
    ua, uta, uf = (
        tables["user_artists.dat"],
        tables["user_taggedartists.dat"],
        tables["user_friends.dat"],
    )
    _check_unique(artists_raw, "id", "artists.dat")
    _check_unique(tags_raw, "tagID", "tags.dat")
    if (ua["weight"] < 0).any():
        line = int(np.flatnonzero(ua["weight"].to_numpy() < 0)[0]) + 2
        raise DataError(f"user_artists.dat: weights must be non-negative; line {line} is negative")

    artist_raw_ids = artists_raw["id"].to_numpy()
    artist_index = pd.Series(np.arange(len(artist_raw_ids)), index=artist_raw_ids)
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
    raw = ua["weight"].to_numpy()
    listens = pd.DataFrame(
        {
            "userID": users,
            "artistID": artist_ids,
            "listenCount": scale_to_range(clean_weights(users, artist_ids, raw)),
        }
    )

    dropped: dict[str, int] = {}
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
    tag_assignments = pd.DataFrame(
        {
            "userID": user_index.loc[uta["userID"].to_numpy()].to_numpy(),
            "artistID": artist_index.loc[uta["artistID"].to_numpy()].to_numpy(),
            "tag": tag_text.loc[uta["tagID"].to_numpy()].to_numpy(),
            "year": uta["year"].to_numpy(),
        }
    )
    empty_tag = tag_assignments["tag"] == ""
    dropped["tag assignments whose tag is empty once cleaned"] = int(empty_tag.sum())
    tag_assignments = tag_assignments[~empty_tag].reset_index(drop=True)

    known = uf["userID"].isin(user_index.index) & uf["friendID"].isin(user_index.index)
    dropped["friend pairs naming users without listens"] = int((~known).sum())
    a = user_index.loc[uf.loc[known, "userID"].to_numpy()].to_numpy()
    b = user_index.loc[uf.loc[known, "friendID"].to_numpy()].to_numpy()
    pairs = pd.DataFrame({"userID": np.minimum(a, b), "friendID": np.maximum(a, b)})
    pairs = pairs[pairs["userID"] != pairs["friendID"]].drop_duplicates().reset_index(drop=True)

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
        listens=listens,
        raw_weights=raw,
        artists=artists,
        artist_info=_artist_info(artists, tag_assignments, listens, len(artist_raw_ids)),
        tag_assignments=tag_assignments,
        friends=pairs,
        user_raw_ids=user_raw_ids,
        artist_raw_ids=artist_raw_ids,
        dropped=dropped,
        source=where,
    )


# ------------------------------------------------------------------------------------------------
# the chapter's split
# ------------------------------------------------------------------------------------------------
def check_holdout_fraction(holdout_fraction: object) -> float:
    """A number strictly between 0 and 1, or a TypeError/ValueError saying so."""
    if isinstance(holdout_fraction, bool) or not isinstance(holdout_fraction, (int, float)):
        raise TypeError(f"holdout_fraction must be a number in (0, 1), got {holdout_fraction!r}")
    if not 0 < holdout_fraction < 1:
        raise ValueError(f"holdout_fraction must be in (0, 1), got {holdout_fraction!r}")
    return float(holdout_fraction)


def split_dataframe(
    df: pd.DataFrame, holdout_fraction: float = 0.1, seed: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into (train, test) as the chapter did.

    The test rows are exactly ``df.sample(frac=holdout_fraction, replace=False,
    random_state=seed)``, so a seeded split matches published figures on the same split.
    ``seed=None`` draws a fresh split each call (the chapter's behaviour).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    check_holdout_fraction(holdout_fraction)
    check_seed(seed)
    test = df.sample(frac=holdout_fraction, replace=False, random_state=seed)
    train = df[~df.index.isin(test.index)]
    return train, test
