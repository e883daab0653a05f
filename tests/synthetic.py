"""Small synthetic datasets for unit tests (the real data never enters the repository)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mfwidgets.data import Dataset


def dataset(
    listens: pd.DataFrame,
    n_users: int,
    n_items: int,
    *,
    names: list[str] | None = None,
    tags: list[list[str]] | None = None,
    popularity: np.ndarray | None = None,
    item_noun: str = "artist",
) -> Dataset:
    """A Dataset over ``listens`` (chapter columns, 0-based ids) with made-up item metadata."""
    counts = np.bincount(listens["artistID"].to_numpy(), minlength=n_items)
    items = pd.DataFrame(
        {
            "id": np.arange(n_items),
            "name": names or [f"artist {i}" for i in range(n_items)],
            "tags": pd.Series(tags or [["rock", "pop"]] * n_items, dtype=object),
            "n_users": counts if popularity is None else popularity,
        }
    )
    return Dataset(
        interactions=listens,
        items=items,
        user_raw_ids=np.arange(n_users),
        item_raw_ids=np.arange(n_items),
        item_noun=item_noun,
    )


def random_listens(
    n_users: int = 13, n_items: int = 17, n: int = 70, seed: int = 0
) -> pd.DataFrame:
    """``n`` distinct random (user, item) pairs with weights in [1, 5] (chapter columns)."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(n_users * n_items, n, replace=False)
    return pd.DataFrame(
        {"userID": cells // n_items, "artistID": cells % n_items,
         "listenCount": rng.uniform(1, 5, n)}
    )  # fmt: skip
