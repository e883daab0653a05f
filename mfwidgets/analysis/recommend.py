"""Recommendations for a known user, and for a new one described by a few liked items."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_k
from ..data.dataset import interaction_arrays
from .lookup import ItemIndex
from .scoring import check_measure, compute_scores, top_k
from .tables import item_table


def recommend(
    model: Any,
    data: Any,
    user_id: int,
    k: int = 10,
    measure: str = "dot",
    exclude_listened: bool = True,
) -> pd.DataFrame:
    """The user's top-k items (see :func:`~mfwidgets.analysis.tables.item_table`).

    ``measure="dot"`` ranks by the model's own scores (biases included when it has them);
    ``"cosine"`` by the cosine of user and item embeddings. Items the user already interacted
    with (anywhere in ``data``) are never returned unless ``exclude_listened=False``.
    """
    check_measure(measure)
    if isinstance(user_id, bool) or not isinstance(user_id, (int, np.integer)):
        raise TypeError(f"user_id must be an integer, got {user_id!r}")
    if not 0 <= user_id < data.n_users:
        raise ValueError(f"user_id must lie in [0, {data.n_users}), got {user_id}")
    check_k(k)
    if measure == "dot":
        scores = np.asarray(model.score_users([user_id]), dtype=np.float64)[0]
    else:
        scores = compute_scores(model.user_factors[user_id], model.item_factors, "cosine")
    exclude = data.user_items(user_id) if exclude_listened else None
    best = top_k(scores, k, exclude)
    return item_table(data, best, scores[best])


def fold_in_user(
    item_embeddings: np.ndarray,
    liked: np.ndarray,
    targets: np.ndarray | float = 1.0,
    reg: float = 0.1,
    item_bias: np.ndarray | None = None,
) -> np.ndarray:
    """A (d,) user vector fitted to liked items, the item embeddings fixed: the ridge
    regression argmin ‖Vx − t‖² + reg‖x‖².

    Closed form x = (VᵀV + reg·I)⁻¹ Vᵀ t over the liked rows only; with item biases the
    targets are taken net of them.
    """
    V = np.asarray(item_embeddings, dtype=np.float64)[liked]
    t = np.broadcast_to(np.asarray(targets, dtype=np.float64), (len(liked),)).copy()
    if item_bias is not None:
        t = t - item_bias[liked]
    d = V.shape[1]
    return np.linalg.solve(V.T @ V + reg * np.eye(d), V.T @ t)


def recommend_for_artists(
    model: Any,
    data: Any,
    liked_artists: Any,
    k: int = 10,
    *,
    reg: float = 0.1,
    target: float | None = None,
) -> pd.DataFrame:
    """ "Your taste" without retraining: fold a new user in from a few liked items.

    ``liked_artists`` are names (case- and accent-insensitive, resolved as in artist_neighbors)
    or ids. A user vector is fitted in closed form (ridge regression, item embeddings fixed)
    to score the liked items at ``target`` (default: the largest weight, or 1 for an implicit
    model's preferences); the result ranks all other items by the model's scores.
    """
    if isinstance(liked_artists, (str, int, np.integer)):
        liked_artists = [liked_artists]
    if not len(liked_artists):
        raise ValueError("liked_artists is empty: name at least one item")
    index = ItemIndex.from_data(data)
    liked = np.array(sorted({index.resolve(a)[0] for a in liked_artists}))
    emb = model.item_factors
    item_bias = model.item_bias
    offset = model.global_mean
    if target is None:  # "listened a lot": the top score of the model's own scale
        weights = interaction_arrays(data.interactions).weights
        target = float(weights.max()) if model.predicts_ratings else 1.0
    user_vector = fold_in_user(emb, liked, target - offset, reg, item_bias)
    scores = np.asarray(emb, dtype=np.float64) @ user_vector
    scores += offset + (0.0 if item_bias is None else item_bias)
    best = top_k(scores, k, liked)
    out = item_table(data, best, scores[best])
    out.attrs = {"liked": [str(data.item_names[i]) for i in liked]}
    return out
