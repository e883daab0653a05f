"""The chapter's cleaning of the Last.fm files: outlier listen counts replaced as the chapter
did, counts scaled onto [1, 5], tag text stripped to letters and digits."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: weights above this are outliers, replaced as the chapter did
OUTLIER_WEIGHT = 3500
#: the cleaned listen counts are scaled linearly onto this range
SCALED_RANGE = (1.0, 5.0)


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
