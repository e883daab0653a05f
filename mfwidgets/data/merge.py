"""Duplicate (user, item) rows: the merges people need, and the message when none was chosen.

Several rows for one pair mean different things in different data: play counts add up, a
re-rating replaces the earlier rating, two exports of one log repeat a row. No merge is right for
all of them, so the default is chosen from what the frame holds (``"last"`` when it has
timestamps: the latest rating wins; otherwise the merge is refused with a message naming the
first duplicate pair and the choices), and whatever a merge removed is counted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: how duplicate (user, item) rows are merged; "first"/"last" by timestamp when there is one
MERGES = ("sum", "mean", "max", "first", "last", "refuse")
CHOICES = (
    "'sum' (play counts), 'mean', 'max', 'first' or 'last' (by timestamp when given, else "
    "row order), or 'refuse'"
)


def check_merge(duplicates: Any) -> str | None:
    if duplicates is not None and duplicates not in MERGES:
        raise ValueError(
            f"duplicates must be one of {CHOICES} (or None: choose), got {duplicates!r}"
        )
    return duplicates


def default_merge(has_timestamp: bool) -> str:
    """The merge a user expects when none was named: the latest row with timestamps, else none."""
    return "last" if has_timestamp else "refuse"


def merge_duplicates(
    frame: pd.DataFrame, how: str, describe: Any = None, what: str = "(user, item)"
) -> tuple[pd.DataFrame, int]:
    """``frame`` (columns user, item, weight [, timestamp]) with one row per pair, and how many
    rows the merge removed. ``describe(position)`` names a row of the caller's own data for the
    refusal message (default: its position)."""
    repeats = frame.duplicated(["user", "item"]).to_numpy()  # every row after a pair's first
    n_extra = int(repeats.sum())
    if not n_extra:
        return frame, 0
    if how == "refuse":
        users, items = frame["user"].to_numpy(), frame["item"].to_numpy()
        later = int(np.flatnonzero(repeats)[0])
        first = int(np.flatnonzero((users == users[later]) & (items == items[later]))[0])
        name = describe or (lambda pos: f"row {pos}")
        raise ValueError(
            f"{n_extra:,} duplicate {what} row(s): the first, {name(later)}, repeats "
            f"{name(first)}. Choose how to merge them with duplicates= {CHOICES}"
        )
    if how in ("first", "last"):
        order = (
            np.argsort(frame["timestamp"].to_numpy(), kind="stable")
            if "timestamp" in frame
            else np.arange(len(frame))
        )
        kept = frame.iloc[order].drop_duplicates(["user", "item"], keep=how)
        out = kept.sort_index(kind="stable")
    else:
        agg = {"weight": how} | ({"timestamp": "max"} if "timestamp" in frame else {})
        out = frame.groupby(["user", "item"], as_index=False, sort=False).agg(agg)
    return out.reset_index(drop=True), n_extra


def merge_note(how: str, what: str = "(user, item)") -> str:
    """The ``Dataset.notes`` key counting the rows a merge removed."""
    verb = {
        "sum": "summed",
        "mean": "averaged",
        "max": "merged keeping the largest weight",
        "first": "merged keeping the first",
        "last": "merged keeping the last",
    }[how]
    return f"duplicate {what} rows {verb}"
