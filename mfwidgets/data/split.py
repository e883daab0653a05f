"""The chapter's train/test split: a seeded random sample of rows."""

from __future__ import annotations

import pandas as pd

from ..checks import check_seed


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
