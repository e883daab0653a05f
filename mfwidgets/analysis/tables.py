"""Item tables: one builder for every ranked list the toolkit shows (neighbours, recommendations,
a user's own items), so every table has the same columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import interaction_arrays

#: the columns of every item table, in order (``norm`` and ``shared`` when known):
#: ``item_index`` is the position models use, ``raw_id`` the data's own id (``item_id=``)
COLUMNS = ("rank", "item_index", "raw_id", "name", "score", "n_users", "tags")


def item_table(
    data: Any, ids: Any, scores: Any = None, *, norms: np.ndarray | None = None
) -> pd.DataFrame:
    """rank (1..), item_index, raw_id, name, score, n_users (users per item), tags [, norm]."""
    ids = np.asarray(ids, dtype=np.int64)
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(ids) + 1),
            "item_index": ids,
            "raw_id": np.asarray(data.item_raw_ids)[ids],
            "name": data.item_names[ids],
            "score": np.full(len(ids), np.nan) if scores is None else np.asarray(scores, float),
            "n_users": data.item_popularity[ids],
            "tags": data.top_tags(ids),
        }
    )
    if norms is not None:
        table["norm"] = np.asarray(norms)[ids]
    return table


def user_top_items(data: Any, user: int, k: int) -> pd.DataFrame:
    """The user's ``k`` heaviest items (score = the interaction's weight), heaviest first."""
    users, items, weights = interaction_arrays(data.interactions)
    mine = np.flatnonzero(users == user)
    order = mine[np.lexsort((items[mine], -weights[mine]))][:k]
    return item_table(data, items[order], weights[order])


def mark_shared(frames: dict[Any, pd.DataFrame]) -> dict[Any, pd.DataFrame]:
    """Add a ``shared`` column: True where an item appears in more than one of the tables."""
    counts = pd.Series(
        np.concatenate([f["item_index"].to_numpy() for f in frames.values()] or [[]])
    ).value_counts()
    return {
        key: f.assign(shared=f["item_index"].map(counts).fillna(0).to_numpy() > 1)
        for key, f in frames.items()
    }
