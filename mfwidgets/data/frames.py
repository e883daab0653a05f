"""Reading a user's own frame into a :class:`~.dataset.Dataset`: the checks that name the column
and the first bad row, raw ids re-indexed to 0..n-1, and the items and users tables."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd

from ..checks import show


def check_items(items: Any, item_name: str | None, item_tags: str | None) -> None:
    """``items`` is a frame keyed by unique raw item ids holding the columns named."""
    if items is None:
        if item_name is not None or item_tags is not None:
            raise ValueError("item_name and item_tags name columns of items: pass items too")
        return
    if not isinstance(items, pd.DataFrame):
        raise TypeError(f"items must be a pandas DataFrame or None, got {type(items)}")
    if items.index.has_duplicates:
        raise ValueError("items must be keyed by unique raw item ids (its index)")
    for arg, col in (("item_name", item_name), ("item_tags", item_tags)):
        if col is not None and col not in items.columns:
            raise ValueError(f"{arg}={col!r} is not a column of items")


def ids_of(ids: Any, n: int, name: str, what: str) -> np.ndarray:
    """``ids``, one unique id per row (or column) of a matrix, or the positions 0..n-1."""
    if ids is None:
        return np.arange(n)
    out = np.asarray(ids)
    if out.ndim != 1 or len(out) != n:
        raise ValueError(f"{name} must hold one id per {what} ({n:,}), got shape {out.shape}")
    index = pd.Index(out)
    if index.has_duplicates:
        raise ValueError(f"{name} must be unique; {show(index[index.duplicated()][0])} repeats")
    return out


def users_table(users: pd.DataFrame, user_raw: np.ndarray) -> pd.DataFrame:
    """One row per user id, in id order: ``raw_id`` then the metadata (NaN where unknown)."""
    table = users.reindex(pd.Index(user_raw)).reset_index(drop=True)
    return pd.concat([pd.DataFrame({"raw_id": user_raw}), table], axis=1)


def row_name(df: pd.DataFrame, pos: int) -> str:
    """A row as a message names it: by its label, or by its place where labels repeat (a
    frame concatenated without ignore_index)."""
    return f"row {show(df.index[pos])}" if df.index.is_unique else f"row at position {pos}"


def first_bad_row(df: pd.DataFrame, bad: np.ndarray) -> int:
    """The position of the first True in ``bad``."""
    return int(np.flatnonzero(bad)[0])


def check_frame(df: Any, user: str, item: str, weight: str | None, timestamp: str | None) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    for arg, col in (("user", user), ("item", item), ("weight", weight), ("timestamp", timestamp)):
        if col is not None and col not in df.columns:
            raise ValueError(
                f"{arg}={col!r} is not a column of df (columns: {', '.join(map(str, df.columns))})"
            )
    if df.empty:
        raise ValueError("df is empty: a dataset needs at least one interaction")
    for col in (user, item):
        bad = df[col].isna().to_numpy()
        if bad.any():
            raise ValueError(
                f"column {col!r} has a missing id at {row_name(df, first_bad_row(df, bad))}"
            )
    if weight is not None:
        values = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            pos = first_bad_row(df, bad)
            raise ValueError(
                f"column {weight!r} must hold finite numbers; {row_name(df, pos)} has "
                f"{show(df[weight].iloc[pos])}"
            )
        if (values < 0).any():
            pos = first_bad_row(df, values < 0)
            raise ValueError(
                f"column {weight!r} must be >= 0; {row_name(df, pos)} is {values[pos]}"
            )


def raw_codes(values: pd.Series | pd.Index, extra: Any = ()) -> tuple[np.ndarray, np.ndarray]:
    """(codes of ``values``, raw ids): raw ids sorted when they can be, else by first appearance."""
    raw = pd.Index(pd.unique(pd.Series(values)))
    if len(extra):  # (appended only when there is some: an empty list would make ids objects)
        raw = raw.append(pd.Index(list(extra))).unique()
    with contextlib.suppress(TypeError):  # mixed types cannot be ordered: first appearance
        raw = raw.sort_values()
    return raw.get_indexer(values), raw.to_numpy()


def tag_lists(column: pd.Series) -> list[list[str]]:
    def as_list(value: Any) -> list[str]:
        if isinstance(value, str):
            return [t.strip() for t in value.split("|") if t.strip()]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return []
        return [str(t) for t in value]

    return [as_list(v) for v in column]


def items_table(
    item_raw: np.ndarray,
    n_users: np.ndarray,
    items: pd.DataFrame | None,
    item_name: str | None,
    item_tags: str | None,
) -> pd.DataFrame:
    """id, name (the raw id when unnamed), tags, n_users, raw_id, then the other metadata."""
    meta = (
        items.reindex(pd.Index(item_raw)).reset_index(drop=True)
        if items is not None
        else pd.DataFrame(index=range(len(item_raw)))
    )
    raw_names = meta[item_name] if item_name is not None else pd.Series([None] * len(item_raw))
    names = [
        str(r) if n is None or (isinstance(n, float) and np.isnan(n)) else str(n)
        for n, r in zip(raw_names, item_raw, strict=True)
    ]
    tags = tag_lists(meta[item_tags]) if item_tags is not None else [[] for _ in item_raw]
    extra = meta.drop(columns=[c for c in (item_name, item_tags) if c is not None])
    extra = extra.drop(columns=[c for c in ("id", "name", "tags", "n_users") if c in extra])
    first = pd.DataFrame(
        {
            "id": np.arange(len(item_raw)),
            "name": pd.Series(names, dtype=object),
            "tags": pd.Series(tags, dtype=object),
            "n_users": n_users.astype(np.int64),
            "raw_id": item_raw,
        }
    )
    return pd.concat([first, extra], axis=1)
