"""The dataset-neutral type: interactions (user, item, weight), an items table, the maps back to
raw ids, and the words to show ("artist", "movie", ...).

Everything above the data floor works on a :class:`Dataset`. ``Dataset.from_dataframe`` builds one
from any pandas frame; :class:`~mfwidgets.data.lastfm.LastfmData` is one with the chapter's
column names. Interaction frames may use either the neutral columns ``user, item, weight`` or the
chapter's ``userID, artistID, listenCount``; :func:`interaction_arrays` reads both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..checks import show
from .frames import (
    check_frame,
    check_items,
    ids_of,
    items_table,
    raw_codes,
    row_name,
    users_table,
)
from .merge import check_merge, default_merge, merge_duplicates, merge_note

NEUTRAL_COLUMNS = ("user", "item", "weight")
CHAPTER_COLUMNS = ("userID", "artistID", "listenCount")
#: the tag shown for an item without any tag (the chapter's word)
NO_TAGS = "no_tags"


class Interactions(NamedTuple):
    """An interaction frame as arrays: 0-based user and item ids and float weights."""

    users: np.ndarray
    items: np.ndarray
    weights: np.ndarray


def interaction_columns(df: Any, name: str = "interactions") -> tuple[str, str, str]:
    """The (user, item, weight) column names of a frame in either naming scheme."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    for cols in (CHAPTER_COLUMNS, NEUTRAL_COLUMNS):
        if all(c in df.columns for c in cols):
            return cols
    raise ValueError(
        f"{name} must have columns user, item, weight (or the chapter's userID, artistID, "
        f"listenCount); found {', '.join(map(str, df.columns)) or 'none'}"
    )


def check_interactions(
    df: Any, name: str = "interactions", n_users: int | None = None, n_items: int | None = None
) -> Interactions:
    """Validate a frame of 0-based integer ids and finite weights; return it as arrays."""
    cols = interaction_columns(df, name)
    arrays = []
    for col, bound in zip(cols[:2], (n_users, n_items), strict=True):
        ids = df[col].to_numpy()
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"{name}[{col!r}] must hold integer ids, got dtype {ids.dtype}")
        if len(ids) and (ids.min() < 0 or (bound is not None and ids.max() >= bound)):
            raise ValueError(
                f"{name}[{col!r}] ids must lie in [0, {bound}); found {ids.min()}..{ids.max()}"
            )
        arrays.append(ids.astype(np.int64, copy=False))
    weights = df[cols[2]].to_numpy(dtype=np.float64)
    if not np.isfinite(weights).all():
        raise ValueError(f"{name}[{cols[2]!r}] must be finite numbers")
    return Interactions(arrays[0], arrays[1], weights)


def interaction_arrays(df: pd.DataFrame, name: str = "interactions") -> Interactions:
    """The frame's (users, items, weights) arrays, without range checks (see check_interactions)."""
    u, i, w = interaction_columns(df, name)
    return Interactions(
        df[u].to_numpy(np.int64), df[i].to_numpy(np.int64), df[w].to_numpy(np.float64)
    )


@dataclass(frozen=True, kw_only=True, repr=False)
class Dataset:
    """Interactions between users and items, and the item table.

    Two kinds of id: the *ids* of the user's own data (raw ids, any hashable type, as written in
    the file) and the *indexes*, 0-based consecutive positions that models and arrays use.
    ``user_index(raw)`` / ``item_index(raw)`` map ids to indexes, ``user_id(index)`` /
    ``item_id(index)`` back (both vectorised); ``user_raw_ids[u]`` / ``item_raw_ids[i]`` are the
    tables behind them. ``interactions`` holds indexes (columns ``user, item, weight`` and
    ``timestamp`` when the data has one).

    ``items`` has one row per item index (in order) with at least ``id`` (the index), ``name``,
    ``tags`` (a list of strings, most telling first; empty when unknown) and ``n_users`` (how
    many distinct users interacted with it). ``item_noun``/``user_noun`` are the words widgets
    and charts use. ``notes`` counts what reading changed (rows merged, dropped, replaced).
    ``tag_assignments`` holds who gave which tag to which item (``user, item, tag`` as
    indexes; Last.fm's ``userID, artistID, tag, year``), or None when the tags have no giver
    (see :meth:`with_tag_assignments`): a model on a split then reads only the tags of the
    pairs it trains on (:func:`~mfwidgets.data.item_tags`).
    """

    interactions: pd.DataFrame
    items: pd.DataFrame
    user_raw_ids: np.ndarray
    item_raw_ids: np.ndarray
    users: pd.DataFrame | None = None
    item_noun: str = "item"
    user_noun: str = "user"
    weight_noun: str = "weight"
    name: str = ""
    source: str = ""
    #: what reading changed, by reason (rows dropped, placeholders, duplicates summed)
    notes: dict[str, int] = field(default_factory=dict)
    #: who gave which tag to which item (user, item, tag), or None (tags without a giver)
    tag_assignments: pd.DataFrame | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_raw_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_raw_ids)

    @property
    def item_names(self) -> np.ndarray:
        return self.items["name"].to_numpy()

    @property
    def item_popularity(self) -> np.ndarray:
        """(n_items,) number of distinct users who interacted with each item."""
        return self.items["n_users"].to_numpy()

    def top_tags(self, ids: Any, n: int = 3) -> list[str]:
        """Each item's first ``n`` tags, comma-separated (``no_tags`` when it has none)."""
        tags = self.items["tags"].to_numpy()
        return [", ".join(tags[i][:n]) or NO_TAGS for i in np.asarray(ids, dtype=np.int64)]

    def first_tags(self) -> np.ndarray:
        """(n_items,) each item's most telling tag, or ``no_tags``."""
        return np.array([t[0] if len(t) else NO_TAGS for t in self.items["tags"]], dtype=object)

    def derived(self, key: str, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per dataset and kept with it (a dataset does not change):
        what every widget on the data would otherwise build again, such as its name index."""
        memo = self.__dict__.setdefault("_derived", {})
        if key not in memo:
            memo[key] = make()
        return memo[key]

    # -- ids as the user wrote them <-> indexes ------------------------------------------------
    @cached_property
    def _user_lookup(self) -> pd.Index:
        return pd.Index(self.user_raw_ids)

    @cached_property
    def _item_lookup(self) -> pd.Index:
        return pd.Index(self.item_raw_ids)

    def user_index(self, user_id: Any) -> Any:
        """The index of a user id of the data (or an array of indexes for an array of ids);
        a ValueError names the first id the data does not hold, as it was written."""
        return _to_index(self._user_lookup, user_id, f"{self.user_noun} id")

    def item_index(self, item_id: Any) -> Any:
        """The index of an item id of the data (or an array of them); see :meth:`user_index`."""
        return _to_index(self._item_lookup, item_id, f"{self.item_noun} id")

    def user_id(self, user_index: Any) -> Any:
        """The data's own id of a user index (or an array of ids for an array of indexes)."""
        return _to_id(self.user_raw_ids, user_index, "user_index")

    def item_id(self, item_index: Any) -> Any:
        """The data's own id of an item index (or an array of them)."""
        return _to_id(self.item_raw_ids, item_index, "item_index")

    def to_csr(self, alpha: float | None = None) -> Any:
        """The (n_users, n_items) scipy CSR matrix of the weights, rows and columns by index:
        the ``user_items`` matrix of the implicit library and of scipy users. With ``alpha``,
        the confidence 1 + alpha · weight of each observed pair instead (what implicit's ALS
        reads; its other cells are the implicit 1)."""
        import scipy.sparse as sp

        users, items, weights = interaction_arrays(self.interactions)
        if alpha is not None:
            if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
                raise ValueError(f"alpha must be a number >= 0 or None, got {alpha!r}")
            weights = 1.0 + alpha * weights
        return sp.csr_matrix((weights, (users, items)), shape=(self.n_users, self.n_items))

    def user_items(self, user: int) -> np.ndarray:
        """Ids of the items the user interacted with (anywhere in the interactions)."""
        users, items, _ = interaction_arrays(self.interactions)
        return items[users == user]

    def with_tag_assignments(
        self, frame: pd.DataFrame, *, user: str = "user", item: str = "item", tag: str = "tag"
    ) -> Dataset:
        """This dataset with its tags given as (user, item, tag) rows of the data's own ids.

        Kept as :attr:`tag_assignments` (indexes), so that a model trained on a split reads
        only the tags given on pairs it trains on. Rows naming a user or item the data does
        not hold, or an empty tag, are dropped and counted in ``notes``. Items without tags
        of their own in the items table show the assigned ones, most given first."""
        check_frame(frame, user, item, None, None)
        if tag not in frame.columns:
            raise ValueError(f"tag={tag!r} is not a column of frame")
        users = self._user_lookup.get_indexer(pd.Index(frame[user]))
        items = self._item_lookup.get_indexer(pd.Index(frame[item]))
        tags = frame[tag].astype("string").str.strip().fillna("")
        notes = dict(self.notes)
        empty, known = (tags == "").to_numpy(), users >= 0
        for reason, bad in (
            (f"tag assignments naming {self.user_noun}s not in the data", ~known),
            (f"tag assignments naming {self.item_noun}s not in the data", (items < 0) & known),
            ("tag assignments with an empty tag", empty & known & (items >= 0)),
        ):
            if bad.any():
                notes[reason] = int(bad.sum())
        ok = known & (items >= 0) & ~empty
        if len(frame) and not ok.any():
            raise ValueError(
                f"no row of frame names a {self.user_noun} and an {self.item_noun} of the data "
                f"with a tag (such as {self.user_noun} {show(frame[user].iloc[0])}, "
                f"{self.item_noun} {show(frame[item].iloc[0])}): are they the data's own ids?"
            )
        assigned = pd.DataFrame(
            {"user": users[ok], "item": items[ok], "tag": tags[ok].to_numpy(object)}
        )
        by_count = assigned.groupby(["item", "tag"], sort=False).size().reset_index(name="n")
        by_count = by_count.sort_values(["item", "n"], ascending=[True, False], kind="stable")
        lists = by_count.groupby("item")["tag"].agg(list)
        shown = [t if len(t) else lists.get(i, []) for i, t in enumerate(self.items["tags"])]
        table = self.items.assign(tags=pd.Series(shown, dtype=object).to_numpy())
        return replace(self, tag_assignments=assigned, items=table, notes=notes)

    @property
    def changes(self) -> dict[str, int]:
        """Everything reading changed, by reason: ``notes`` and a loader's ``dropped`` rows."""
        return {**getattr(self, "dropped", {}), **self.notes}

    def __repr__(self) -> str:
        changed = "".join(f"; {n:,} {reason}" for reason, n in self.changes.items() if n)
        return (
            f"{type(self).__name__}({self.n_users:,} {self.user_noun}s, {self.n_items:,} "
            f"{self.item_noun}s, {len(self.interactions):,} interactions, source={self.source!r}"
            f"{changed})"
        )

    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame,
        *,
        user: str,
        item: str,
        weight: str | None = None,
        items: pd.DataFrame | None = None,
        item_name: str | None = None,
        item_tags: str | None = None,
        users: pd.DataFrame | None = None,
        item_noun: str = "item",
        user_noun: str = "user",
        timestamp: str | None = None,
        duplicates: str | None = None,
        name: str = "",
    ) -> Dataset:
        """Build a :class:`Dataset` from a frame with one row per interaction.

        Raw ids of any hashable type are re-indexed to 0..n-1 in sorted order of the raw ids (order
        of first appearance when they cannot be sorted); the ids stay the ones users type (see
        :meth:`user_index`). Items listed only in ``items`` (metadata keyed by raw item id) are
        included, with no interactions. ``weight=None`` gives every row weight 1; ``timestamp``
        names a column kept as ``interactions["timestamp"]`` (for temporal splits).

        ``duplicates`` says how several rows of one (user, item) pair are merged: ``"sum"`` (play
        counts), ``"mean"``, ``"max"``, ``"first"``/``"last"`` (by timestamp when given, else row
        order) or ``"refuse"``. The default (None) is ``"last"`` with a timestamp (the latest
        rating wins) and ``"refuse"`` without: the error names the first duplicate pair, how
        many there are and the choices. What a merge removed is counted in ``notes``.
        ``item_name``/``item_tags`` name columns of ``items`` (tags: a list per item or a
        ``|``-separated string). ``users`` (metadata keyed by raw user id) becomes the ``users``
        table, one row per user. NaN ids, NaN or negative weights raise ValueError naming the
        column and the first bad row. Every argument is checked before any work.
        """
        check_frame(df, user, item, weight, timestamp)
        if users is not None and not isinstance(users, pd.DataFrame):
            raise TypeError(f"users must be a pandas DataFrame or None, got {type(users)}")
        how = check_merge(duplicates) or default_merge(timestamp is not None)
        check_items(items, item_name, item_tags)
        u_codes, user_raw = raw_codes(df[user])
        i_codes, item_raw = raw_codes(df[item], [] if items is None else items.index)
        w = np.ones(len(df)) if weight is None else pd.to_numeric(df[weight]).to_numpy(np.float64)
        frame = pd.DataFrame({"user": u_codes, "item": i_codes, "weight": w})
        if timestamp is not None:
            frame["timestamp"] = df[timestamp].to_numpy()

        def describe(pos: int) -> str:
            return (
                f"{row_name(df, pos)} ({user} {show(df[user].iloc[pos])}, "
                f"{item} {show(df[item].iloc[pos])})"
            )

        frame, merged = merge_duplicates(frame, how, describe, f"({user}, {item})")
        notes = {merge_note(how): merged} if merged else {}
        n_users_per_item = np.bincount(frame["item"].to_numpy(), minlength=len(item_raw))
        table = items_table(item_raw, n_users_per_item, items, item_name, item_tags)
        return cls(
            interactions=frame,
            items=table,
            users=None if users is None else users_table(users, user_raw),
            user_raw_ids=user_raw,
            item_raw_ids=item_raw,
            item_noun=item_noun,
            user_noun=user_noun,
            name=name,
            source="DataFrame",
            notes=notes,
        )

    @classmethod
    def from_csr(
        cls,
        matrix: Any,
        *,
        user_ids: Any = None,
        item_ids: Any = None,
        items: pd.DataFrame | None = None,
        item_name: str | None = None,
        item_tags: str | None = None,
        item_noun: str = "item",
        user_noun: str = "user",
        name: str = "",
    ) -> Dataset:
        """Build a :class:`Dataset` from a users × items scipy sparse matrix (the implicit
        library's ``user_items``): each stored non-zero entry is an interaction of that weight.

        Rows and columns keep their positions as indexes (user ``u`` is row ``u``, empty rows
        and columns included), so code written for the matrix goes on working;
        ``user_ids``/``item_ids`` are their own ids (default: the positions). Stored zeros are
        not interactions: they are dropped and counted in ``notes``. ``items`` (metadata keyed
        by item id), ``item_name``, ``item_tags`` as in :meth:`from_dataframe`. Negative or
        non-finite values raise ValueError naming the first (row, column).
        """
        import scipy.sparse as sp

        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy sparse matrix, got {type(matrix).__name__}")
        check_items(items, item_name, item_tags)
        n_rows, n_cols = matrix.shape
        user_raw = ids_of(user_ids, n_rows, "user_ids", "row")
        item_raw = ids_of(item_ids, n_cols, "item_ids", "column")
        csr = sp.csr_matrix(matrix, dtype=np.float64)  # (scipy sums repeated COO entries)
        csr.sort_indices()
        coo = csr.tocoo()
        bad = ~np.isfinite(coo.data) | (coo.data < 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"matrix must hold finite weights >= 0; (row {coo.row[k]}, column "
                f"{coo.col[k]}) is {coo.data[k]}"
            )
        kept = coo.data != 0
        frame = pd.DataFrame({
            "user": coo.row[kept].astype(np.int64),
            "item": coo.col[kept].astype(np.int64),
            "weight": coo.data[kept],
        })  # fmt: skip
        zeros = int((~kept).sum())
        n_users_per_item = np.bincount(frame["item"].to_numpy(), minlength=n_cols)
        return cls(
            interactions=frame,
            items=items_table(item_raw, n_users_per_item, items, item_name, item_tags),
            user_raw_ids=user_raw,
            item_raw_ids=item_raw,
            item_noun=item_noun,
            user_noun=user_noun,
            name=name,
            source="sparse matrix",
            notes={"stored zeros dropped": zeros} if zeros else {},
        )


def _to_index(lookup: pd.Index, ids: Any, what: str) -> Any:
    scalar = np.ndim(ids) == 0
    values = pd.Index([ids] if scalar else np.asarray(ids).ravel())  # (keeps the ids' dtype)
    found = lookup.get_indexer(values) if len(values) else np.zeros(0, dtype=np.int64)
    if (found < 0).any():
        bad = values[int(np.flatnonzero(found < 0)[0])]
        example = lookup[0] if len(lookup) else None
        other = len(lookup) and _kind(bad) != _kind(example)
        raise ValueError(
            f"{what} {show(bad)} is not in the data ({len(lookup):,} ids, such as "
            f"{show(example)}{f'; its ids are {_kind(example)}s' if other else ''})"
        )
    out = found.astype(np.int64)
    return int(out[0]) if scalar else out.reshape(np.shape(ids))


def _kind(value: Any) -> str:
    """What sort of id: "number", "string" or the type's name (for "ids of another type")."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__


def _to_id(raw: np.ndarray, index: Any, name: str) -> Any:
    arr = np.asarray(index)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer positions, got {show(index)}")
    if arr.size and (arr.min() < 0 or arr.max() >= len(raw)):
        bad = arr.max() if arr.max() >= len(raw) else arr.min()
        raise ValueError(f"{name} must lie in [0, {len(raw)}), got {show(bad)}")
    out = raw[arr]
    return out.item() if np.ndim(out) == 0 and isinstance(out, np.generic) else out
