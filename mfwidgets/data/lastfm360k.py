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
from .merge import check_merge, merge_duplicates, merge_note
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
    """String keys -> consecutive ids in order of first appearance, across chunks (C-level
    hash lookups: one ``get_indexer`` per chunk, no Python loop over keys)."""

    def __init__(self) -> None:
        self.known = pd.Index([], dtype=object)

    def codes(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(global id per row, positions of the rows that introduced a new key)."""
        local, uniques = pd.factorize(keys)
        lookup = self.known.get_indexer(uniques)
        new = np.flatnonzero(lookup < 0)
        lookup[new] = len(self.known) + np.arange(len(new))
        self.known = self.known.append(pd.Index(uniques[new], dtype=object))
        first_row = np.full(len(uniques), len(local))
        np.minimum.at(first_row, local, np.arange(len(local)))
        return lookup[local], first_row[new]

    def __len__(self) -> int:
        return len(self.known)


def _first_bad_play(opener: Opener) -> int:
    """1-based row of the first play count that is not an integer (the slow, error-only path)."""
    with opener(PLAYS) as fh:
        for start, chunk in enumerate(pd.read_csv(fh, dtype=str, chunksize=CHUNK_ROWS, **_READ)):
            bad = ~chunk[3].str.fullmatch(r"\d+").fillna(False).to_numpy(bool)
            if bad.any():
                return start * CHUNK_ROWS + int(np.flatnonzero(bad)[0]) + 1
    return 0


def _read_plays(opener: Opener, chunk_rows: int):
    """Rows as (user, artist, plays) codes; artists keyed by MusicBrainz id, else by name."""
    users, by_mbid, by_name = _Index(), _Index(), _Index()
    names: dict[str, list] = {"mbid": [], "name": []}
    parts, missing, rows = [], 0, 0
    dtypes = {0: object, 1: object, 2: object, 3: np.int64}  # object: no Arrow round trip
    try:
        with opener(PLAYS) as fh:
            for chunk in pd.read_csv(fh, dtype=dtypes, chunksize=chunk_rows, **_READ):
                if chunk.shape[1] != 4:
                    raise DataError(
                        f"{PLAYS}: expected 4 tab-separated columns near row {rows + 1}"
                    )
                name = chunk[2].to_numpy(object)
                mbid = chunk[1].to_numpy(object)
                has_mbid = mbid != ""
                missing += int((name == "").sum())
                u, _ = users.codes(chunk[0].to_numpy(object))
                a = np.empty(len(chunk), np.int64)
                codes, new = by_mbid.codes(mbid[has_mbid])
                a[has_mbid] = codes
                names["mbid"] += list(name[has_mbid][new])
                codes, new = by_name.codes(name[~has_mbid])
                a[~has_mbid] = -1 - codes  # name-only artists: ids given after the last chunk
                names["name"] += list(name[~has_mbid][new])
                parts.append((u.astype(np.int32), a, chunk[3].to_numpy(np.float32)))
                rows += len(chunk)
    except ValueError as exc:  # an unparsable play count (or a short line)
        if isinstance(exc, DataError):
            raise
        raise DataError(
            f"{PLAYS}: row {_first_bad_play(opener)} has no integer play count"
        ) from exc
    items = np.concatenate([p[1] for p in parts])
    items = np.where(items >= 0, items, len(by_mbid) - 1 - items)  # name-only artists last
    frame = pd.DataFrame({"user": np.concatenate([p[0] for p in parts]),
                          "item": items.astype(np.int32),
                          "weight": np.concatenate([p[2] for p in parts])})  # fmt: skip
    item_keys = np.concatenate([by_mbid.known.to_numpy(), by_name.known.to_numpy()])
    item_names = [n or NO_NAME for n in names["mbid"] + names["name"]]
    mbids = np.concatenate([by_mbid.known.to_numpy(), np.full(len(by_name), "", dtype=object)])
    notes = {"rows read": rows, "rows whose artist name is missing (kept as '(no name)')": missing}
    return frame, users.known.to_numpy(), (item_keys, item_names, mbids), notes


def load_lastfm_360k(
    source: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
    duplicates: str = "sum",
) -> Dataset:
    """Last.fm-360K as a Dataset: artists tagged with nothing, weights the raw play counts.

    ``source``: the unpacked folder or ``lastfm-dataset-360K.tar.gz`` (read as a stream); else
    ``$MFWIDGETS_DATA_LASTFM_360K``, the cache, or a download (543 MB). Duplicate (user, artist)
    rows appear when one artist (one MusicBrainz id) is listed under two spellings: each row is
    part of the user's plays of that artist, so they are summed by default (the total is the
    play count the user had), and counted in ``notes``; ``duplicates`` picks another merge.
    """
    how = check_merge(duplicates) or "refuse"
    opener, where = resolve_source(ARCHIVE, source, cache_dir=cache_dir)
    frame, user_keys, (item_keys, names, mbids), notes = _read_plays(opener, chunk_rows)
    frame, merged = merge_duplicates(frame, how, what="(user, artist)")
    if merged:
        notes[merge_note(how, "(user, artist)")] = merged
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
