"""Last.fm-360K (Òscar Celma, 2010): 17.5 million (user, artist, plays) rows of 359,347 users,
read in chunks with fixed dtypes so memory stays bounded.

Artists are identified by their MusicBrainz id when the row has one, else by their name; rows
with no name keep a ``(no name)`` placeholder and are counted in ``dataset.notes``. Users and
artists are re-indexed in order of first appearance. The weight is the raw play count.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import Dataset
from .sources import Archive, DataError, Opener, resolve_source

PLAYS = "usersha1-artmbid-artname-plays.tsv"
PROFILES = "usersha1-profile.tsv"
ARCHIVE = Archive(
    folder="lastfm-dataset-360K",
    url="http://mtg.upf.edu/static/datasets/last.fm/lastfm-dataset-360K.tar.gz",
    required=(PLAYS, PROFILES),
    env="MFWIDGETS_DATA_LASTFM_360K",
    homepage="http://ocelma.net/MusicRecommendationDataset/lastfm-360K.html",
)
NO_NAME = "(no name)"
CHUNK_ROWS = 2_000_000
_READ = {"sep": "\t", "header": None, "quoting": csv.QUOTE_NONE, "na_filter": False}


class _Index:
    """String keys -> consecutive ids, in order of first appearance, across chunks."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def codes(self, keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(global id per row, positions of the rows that introduced a new key)."""
        local, uniques = pd.factorize(keys)
        before = len(self.ids)
        lookup = np.fromiter(
            (self.ids.setdefault(k, len(self.ids)) for k in uniques), np.int64, len(uniques)
        )
        first_rows = pd.Series(np.arange(len(local))).groupby(local).first().to_numpy()
        return lookup[local], first_rows[lookup >= before]

    def keys(self) -> np.ndarray:
        return np.array(list(self.ids), dtype=object)


def _read_plays(opener: Opener, chunk_rows: int) -> tuple[pd.DataFrame, list, list, dict]:
    users, artists = _Index(), _Index()
    names: list[str] = []
    mbids: list[str] = []
    parts, missing, rows = [], 0, 0
    dtypes = {0: str, 1: str, 2: str, 3: str}
    with opener(PLAYS) as fh:
        for chunk in pd.read_csv(fh, dtype=dtypes, chunksize=chunk_rows, **_READ):
            if chunk.shape[1] != 4:
                raise DataError(f"{PLAYS}: expected 4 tab-separated columns near row {rows + 1}")
            user, mbid, name, plays_text = (chunk[c] for c in range(4))
            plays = pd.to_numeric(plays_text, errors="coerce")
            if plays.isna().any():
                row = rows + int(np.flatnonzero(plays.isna().to_numpy())[0]) + 1
                raise DataError(f"{PLAYS}: row {row} has no integer play count")
            no_name = (name == "").to_numpy()
            missing += int(no_name.sum())
            key = mbid.where(mbid != "", "name:" + name)
            u, _ = users.codes(user)
            a, new = artists.codes(key)
            names += [n or NO_NAME for n in name.to_numpy()[new]]
            mbids += list(mbid.to_numpy()[new])
            parts.append((u.astype(np.int32), a.astype(np.int32), plays.to_numpy(np.float32)))
            rows += len(chunk)
    frame = pd.DataFrame(
        {k: np.concatenate([p[i] for p in parts]) for i, k in enumerate(("user", "item", "weight"))}
    )
    notes = {"rows read": rows, "rows whose artist name is missing (kept as '(no name)')": missing}
    return frame, (users, artists), (names, mbids), notes


def load_lastfm_360k(
    source: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Dataset:
    """Last.fm-360K as a Dataset: artists tagged with nothing, weights the raw play counts.

    ``source``: the unpacked folder or ``lastfm-dataset-360K.tar.gz`` (read as a stream); else
    ``$MFWIDGETS_DATA_LASTFM_360K``, the cache, or a download (543 MB). Duplicate (user, artist)
    rows, which appear when one artist is listed under two names, are summed and counted.
    """
    opener, where = resolve_source(ARCHIVE, source, cache_dir=cache_dir)
    frame, (users, artists), (names, mbids), notes = _read_plays(opener, chunk_rows)
    n_before = len(frame)
    frame = frame.groupby(["user", "item"], as_index=False, sort=False)["weight"].sum()
    notes["duplicate (user, artist) rows summed"] = n_before - len(frame)
    user_keys, item_keys = users.keys(), artists.keys()
    with opener(PROFILES) as fh:
        profiles = pd.read_csv(
            fh, names=["raw_id", "gender", "age", "country", "signup"], dtype=str, **_READ
        )
    profiles = profiles.drop_duplicates("raw_id").set_index("raw_id")
    user_table = profiles.reindex(pd.Index(user_keys)).reset_index(names="raw_id")
    user_table["age"] = pd.to_numeric(user_table["age"], errors="coerce").astype("Int64")
    items = pd.DataFrame(
        {
            "id": np.arange(len(item_keys)),
            "name": pd.Series(names, dtype=object),
            "tags": pd.Series([[] for _ in names], dtype=object),
            "n_users": np.bincount(frame["item"].to_numpy(), minlength=len(item_keys)),
            "raw_id": item_keys,
            "mbid": mbids,
        }
    )
    return Dataset(
        interactions=frame,
        items=items,
        users=user_table,
        user_raw_ids=user_keys,
        item_raw_ids=item_keys,
        item_noun="artist",
        user_noun="listener",
        weight_noun="plays",
        name="lastfm-360k",
        source=where,
        notes={k: v for k, v in notes.items() if v},
    )
