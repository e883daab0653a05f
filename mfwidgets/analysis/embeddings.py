"""What the embedding views show, as data: norms against popularity, their rank correlation, and
the table behind a 2-D map of all items."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..models.contract import check_model

OTHER = "other"


def spearman(x: Any, y: Any) -> float:
    """Rank correlation (average ranks for ties), without scipy."""
    return float(pd.Series(np.asarray(x)).rank().corr(pd.Series(np.asarray(y)).rank()))


def item_norms(model: Any) -> np.ndarray:
    """(n_items,) Euclidean norms of a model's item embeddings (a TypeError for a model without
    factors)."""
    check_model(model, factors=True, needs="an embedding norm")
    return np.linalg.norm(np.asarray(model.item_factors, dtype=np.float64), axis=1)


def norm_popularity(models: dict[str, Any], data: Any) -> tuple[pd.DataFrame, dict[str, float]]:
    """The chapter's norm-versus-popularity data for several models.

    Returns a frame (name, tag, n_users, one ``norm{i}`` column per model, in order) and each
    model's Spearman ρ between norm and popularity.
    """
    df = pd.DataFrame(
        {"name": data.item_names, "tag": data.first_tags(), "n_users": data.item_popularity}
    )
    rhos = {}
    for i, (name, model) in enumerate(models.items()):
        norms = item_norms(model)
        rhos[name] = spearman(data.item_popularity, norms)
        df[f"norm{i}"] = norms.round(4)
    return df, rhos


def map_points(data: Any, coords: np.ndarray, norms: np.ndarray, n_tags: int) -> pd.DataFrame:
    """The map's table: coordinates, names, top tag (the n_tags commonest, else "other")."""
    tag = pd.Series(data.first_tags()).astype(str)
    common = set(tag.value_counts().index[:n_tags])
    ids = np.arange(data.n_items)
    return pd.DataFrame(
        {
            "x": np.round(coords[:, 0], 3),
            "y": np.round(coords[:, 1], 3),
            "item_index": ids,
            "name": data.item_names,
            "tag": np.where(tag.isin(common), tag, OTHER),
            "tags": data.top_tags(ids),
            "n_users": data.item_popularity,
            "norm": np.round(norms, 3),
        }
    )
