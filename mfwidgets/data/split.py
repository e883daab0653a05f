"""Train/test splits: the chapter's seeded random rows, and :class:`Split` values made by the
protocols practitioners use (random rows, per-user leave-k-out and fraction, temporal cut-offs,
k folds). Every random step takes a seed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_number, check_seed, show
from .dataset import check_interactions, interaction_arrays


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


# ------------------------------------------------------------------------------------------------
# splits as values: the protocols practitioners use
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False, eq=False)
class Split:
    """Train and test interactions, and how they were made (a value outside any model).

    ``train``/``test`` are interaction frames whose index labels are the rows of the frame they
    were drawn from; ``method`` names the protocol and ``params`` its arguments (the seed among
    them), so a split can be named, stored and drawn again. Make one with :func:`random_split`
    (the chapter's), :func:`leave_k_out`, :func:`user_fraction_split`, :func:`temporal_split`,
    :func:`last_n_split` or :func:`kfold`; ``Split(train, test)`` wraps frames you made.
    """

    train: pd.DataFrame
    test: pd.DataFrame | None = None
    method: str = "given"
    params: dict[str, Any] = field(default_factory=dict)
    #: sha256 of the test (user, item) pairs: the split's identity (computed from ``test``;
    #: given only for a split whose frames were not loaded)
    test_hash: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self.test_hash:
            object.__setattr__(self, "test_hash", pairs_hash(self.test))

    @property
    def seed(self) -> int | None:
        return self.params.get("seed")

    @property
    def holdout_fraction(self) -> float | None:
        return self.params.get("holdout_fraction")

    @cached_property
    def test_index(self) -> tuple[int, ...]:
        """Index labels of the test rows (what a saved model stores to rebuild the split; empty
        when the labels are not integers)."""
        if self.test is None or not pd.api.types.is_integer_dtype(self.test.index):
            return ()
        return tuple(int(x) for x in self.test.index)

    @property
    def description(self) -> str:
        """One line: the protocol, its arguments and the sizes."""
        args = ", ".join(f"{k}={show(v)}" for k, v in self.params.items())
        if self.train is None:
            return f"{self.method}({args}): rows not loaded"
        n_test = 0 if self.test is None else len(self.test)
        return f"{self.method}({args}): {len(self.train):,} train / {n_test:,} test rows"

    def __repr__(self) -> str:
        return f"Split({self.description})"


def pairs_hash(df: pd.DataFrame | None) -> str:
    """sha256 of a frame's (user, item) pairs in row order ("" for none)."""
    if df is None or df.empty:
        return ""
    users, items, _ = interaction_arrays(df)
    pairs = np.ascontiguousarray(np.stack([users, items], 1).astype(np.int64))
    return hashlib.sha256(pairs.tobytes()).hexdigest()


def _frame(data: Any) -> pd.DataFrame:
    """The interactions of a Dataset, or a frame itself (checked)."""
    frame = getattr(data, "interactions", data)
    check_interactions(frame, "data")
    return frame


def _by_rows(frame: pd.DataFrame, test_rows: np.ndarray, method: str, params: dict) -> Split:
    """A Split whose test set is the rows at positions ``test_rows`` (in frame order)."""
    mask = np.zeros(len(frame), dtype=bool)
    mask[test_rows] = True
    return Split(frame[~mask], frame[mask], method, params)


def random_split(data: Any, holdout_fraction: float = 0.1, seed: int | None = None) -> Split:
    """The chapter's split: a seeded random share of all rows held out (see split_dataframe)."""
    frame = _frame(data)
    train, test = split_dataframe(frame, holdout_fraction, seed)
    return Split(train, test, "random", {"holdout_fraction": holdout_fraction, "seed": seed})


def _per_user(frame: pd.DataFrame, order: np.ndarray) -> tuple[np.ndarray, ...]:
    """Row positions grouped by user (in ``order`` within a user); for each, its rank counted
    from its user's last row (0 = last), and how many rows its user has."""
    users = interaction_arrays(frame).users
    grouped = order[np.argsort(users[order], kind="stable")]
    g = users[grouped]
    from_end = np.searchsorted(g, g, side="right") - 1 - np.arange(len(grouped))
    return grouped, from_end, np.bincount(users)[g]


def _count(name: str, value: Any) -> int:
    check_number(name, value, minimum=1, strict=False, integer=True)
    return int(value)


def leave_k_out(data: Any, k: int = 1, seed: int | None = None) -> Split:
    """Per user, ``k`` interactions drawn at random held out; users with ``k`` or fewer keep all
    theirs in train (nothing to learn them from otherwise). Seeded."""
    k, frame = _count("k", k), _frame(data)
    check_seed(seed)
    order = np.random.default_rng(seed).permutation(len(frame))
    grouped, from_end, size = _per_user(frame, order)
    test = grouped[(from_end < k) & (size > k)]
    return _by_rows(frame, test, "leave_k_out", {"k": k, "seed": seed})


def user_fraction_split(data: Any, holdout_fraction: float = 0.2, seed: int | None = None) -> Split:
    """Per user, a random share of their interactions held out (rounded down; every user keeps
    at least one in train), so every user is both trained and tested. Seeded."""
    check_holdout_fraction(holdout_fraction)
    check_seed(seed)
    frame = _frame(data)
    order = np.random.default_rng(seed).permutation(len(frame))
    grouped, from_end, size = _per_user(frame, order)
    n_test = np.minimum(np.floor(size * holdout_fraction), size - 1)
    test = grouped[from_end < n_test]
    params = {"holdout_fraction": holdout_fraction, "seed": seed}
    return _by_rows(frame, test, "user_fraction", params)


def _timestamps(frame: pd.DataFrame) -> np.ndarray:
    if "timestamp" not in frame:
        raise ValueError(
            "a temporal split needs a 'timestamp' column in the interactions (loaders keep one "
            "when the data has it; Dataset.from_dataframe(..., timestamp='column'))"
        )
    return frame["timestamp"].to_numpy()


def temporal_split(
    data: Any, cutoff: Any = None, *, holdout_fraction: float | None = None
) -> Split:
    """A global time cut-off: interactions at or after ``cutoff`` are the test set (the future
    a model trained on the past must predict). Give the ``cutoff`` (a timestamp of the data's
    own type) or ``holdout_fraction``, the share of the latest interactions to hold out."""
    frame = _frame(data)
    stamps = _timestamps(frame)
    if (cutoff is None) == (holdout_fraction is None):
        raise ValueError("temporal_split takes either cutoff= or holdout_fraction=, not both")
    if holdout_fraction is not None:
        check_holdout_fraction(holdout_fraction)
        ordered = np.sort(stamps, kind="stable")
        cutoff = ordered[min(int(len(ordered) * (1 - holdout_fraction)), len(ordered) - 1)]
        if isinstance(cutoff, np.datetime64):
            cutoff = pd.Timestamp(cutoff)
        elif isinstance(cutoff, np.generic):
            cutoff = cutoff.item()
    test = np.flatnonzero(stamps >= cutoff)
    if len(test) in (0, len(frame)):
        raise ValueError(
            f"cutoff={show(cutoff)} leaves {'no' if not len(test) else 'every'} interaction in "
            f"test (timestamps run {show(stamps.min())}..{show(stamps.max())})"
        )
    params = {"cutoff": cutoff} | (
        {"holdout_fraction": holdout_fraction} if holdout_fraction else {}
    )
    return _by_rows(frame, test, "temporal", params)


def last_n_split(data: Any, n: int = 1) -> Split:
    """Per user, their last ``n`` interactions by timestamp held out (ties: later rows last);
    users with ``n`` or fewer keep all theirs in train."""
    n, frame = _count("n", n), _frame(data)
    order = np.argsort(_timestamps(frame), kind="stable")
    grouped, from_end, size = _per_user(frame, order)
    return _by_rows(frame, grouped[(from_end < n) & (size > n)], "last_n", {"n": n})


def kfold(data: Any, n_folds: int = 5, seed: int | None = 0) -> list[Split]:
    """``n_folds`` splits whose test sets are disjoint random shares of the rows covering them
    all (seeded), as Surprise's KFold: fold f's train is every other fold."""
    n_folds, frame = _count("n_folds", n_folds), _frame(data)
    if n_folds < 2 or n_folds > len(frame):
        raise ValueError(f"n_folds must lie in [2, {len(frame)}] (the rows), got {n_folds}")
    check_seed(seed)
    parts = np.array_split(np.random.default_rng(seed).permutation(len(frame)), n_folds)
    return [
        _by_rows(frame, np.sort(rows), "kfold", {"fold": f, "n_folds": n_folds, "seed": seed})
        for f, rows in enumerate(parts)
    ]
