"""Recommendations for a known user, predictions by the data's own ids, and a new user folded in
from a few liked items (the same system :func:`~mfwidgets.analysis.explain` solves)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_k
from ..data.dataset import interaction_arrays
from ..models.contract import check_model
from .ids import resolve_item, user_position
from .lookup import ItemIndex
from .scoring import check_measure, compute_scores, top_k
from .tables import item_table

DEFAULT_RIDGE = 0.1


def recommend(
    model: Any,
    data: Any,
    user_id: Any = None,
    k: int = 10,
    measure: str = "dot",
    exclude_listened: bool = True,
    *,
    user_index: int | None = None,
) -> pd.DataFrame:
    """The user's top-k items (see :func:`~mfwidgets.analysis.tables.item_table`).

    The user is ``user_id``, an id of the data as written in it (MovieLens user 196 is
    ``user_id=196``), or ``user_index``, the 0-based position models use. ``measure="dot"``
    ranks by the model's own scores (biases included when it has them); ``"cosine"`` by the
    cosine of user and item embeddings. Items the user already interacted with (anywhere in
    ``data``) are never returned unless ``exclude_listened=False``.
    """
    check_measure(measure)
    check_k(k)
    u = user_position(data, user_id, user_index)
    if measure == "dot":
        scores = np.asarray(model.score_users([u]), dtype=np.float64)[0]
    else:
        check_model(model, factors=True, needs="measure='cosine'")
        scores = compute_scores(model.user_factors[u], model.item_factors, "cosine")
    exclude = data.user_items(u) if exclude_listened else None
    best = top_k(scores, k, exclude)
    return item_table(data, best, scores[best])


def predict(model: Any, data: Any, user_ids: Any, item_ids: Any) -> np.ndarray:
    """The model's predictions for paired users and items named by the data's own ids (scalars
    or arrays); ``model.predict`` takes indexes (``data.user_index(...)`` maps them)."""
    users, items = data.user_index(user_ids), data.item_index(item_ids)
    out = np.asarray(model.predict(np.atleast_1d(users), np.atleast_1d(items)))
    return out.reshape(np.shape(users)) if np.ndim(users) else out[0]


def fold_in_terms(model: Any, ridge: float | None = None) -> tuple[bool, float, float]:
    """(implicit?, α, λ) of a fold-in: an implicit CFModel kind's own α and λ (so the fold-in
    is exactly its ALS user step), else a ridge of ``ridge`` (default 0.1)."""
    config = getattr(model, "config", None)
    implicit = not model.predicts_ratings
    if getattr(config, "implicit", False):
        lam = config.regularization_coeff if ridge is None else ridge
        return True, float(config.alpha), float(lam) + 1e-6  # (the ALS solver's own epsilon)
    return implicit, 1.0, DEFAULT_RIDGE if ridge is None else float(ridge)


def fold_in_system(
    model: Any, items: np.ndarray, weights: np.ndarray, ridge: float | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """(A, coefficients c_j, a description) of the user vector fitted to ``items`` with the
    item factors fixed: u = A⁻¹ Σ_j c_j v_j.

    Implicit feedback (``predicts_ratings`` False), as the implicit library's
    ``recalculate_user``: A = VᵀV + Σ_j (c_j − 1) v_j v_jᵀ + λI, c_j = 1 + α·weight_j.
    Ratings: a ridge refit to the weights net of the biases, A = Σ_j v_j v_jᵀ + λI,
    c_j = weight_j − μ − b_j (the user's own bias is not known for a new user: 0).
    """
    V = np.asarray(model.item_factors, dtype=np.float64)
    VJ, d = V[items], V.shape[1]
    implicit, alpha, lam = fold_in_terms(model, ridge)
    if implicit:
        coef = 1.0 + alpha * weights
        A = V.T @ V + (VJ * (coef - 1.0)[:, None]).T @ VJ + lam * np.eye(d)
        how = (
            f"implicit-feedback ALS refit from {len(items)} items (α = {alpha:g}, λ = {lam:g}), "
            "as implicit's recalculate_user: A = VᵀV + Σ (c_j − 1) v_j v_jᵀ + λI, "
            "c_j = 1 + α·weight_j"
        )
    else:
        bias = 0.0 if model.item_bias is None else np.asarray(model.item_bias)[items]
        coef = weights - model.global_mean - bias
        A = VJ.T @ VJ + lam * np.eye(d)
        how = (
            f"ridge refit to {len(items)} weights net of the biases (λ = {lam:g}): "
            "A = Σ v_j v_jᵀ + λI, c_j = r_j − μ − b_j"
        )
    return A, coef, how


def fold_in(model: Any, items: Any, weights: Any = None, ridge: float | None = None) -> np.ndarray:
    """A (d,) user vector for a new user who interacted with ``items`` (indexes) with
    ``weights`` (default 1 each), the item factors fixed: u = A⁻¹ Σ_j c_j v_j (see
    :func:`fold_in_system`)."""
    items = np.asarray(items, dtype=np.int64)
    w = np.ones(len(items)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = np.broadcast_to(w, (len(items),)).astype(np.float64)
    A, coef, _ = fold_in_system(model, items, w, ridge)
    VJ = np.asarray(model.item_factors, dtype=np.float64)[items]
    return np.linalg.solve(A, VJ.T @ coef)


def recommend_for_items(
    model: Any,
    data: Any,
    liked: Any,
    k: int = 10,
    *,
    weights: Any = None,
    ridge: float | None = None,
) -> pd.DataFrame:
    """ "Your taste" without retraining: a new user folded in from a few liked items.

    ``liked`` are names (case- and accent-insensitive, resolved as in item_neighbors) or the
    data's own ids. The user vector solves the system :func:`~mfwidgets.analysis.explain`
    solves (:func:`fold_in_system`): for an implicit model the confidence-weighted one of its
    ALS step (weights default 1, as one play each); for a rating model a ridge refit to the
    weights (default: the largest weight in the data, "liked a lot"). The result ranks every
    other item by the model's scores for that user; ``attrs["liked"]`` names the liked items.
    """
    if isinstance(liked, (str, int, np.integer)):
        liked = [liked]
    if not len(liked):
        raise ValueError("liked is empty: name at least one item")
    check_k(k)
    index = ItemIndex.from_data(data)
    chosen = np.array(sorted({resolve_item(data, a, index)[0] for a in liked}))
    if weights is None and model.predicts_ratings:
        weights = float(interaction_arrays(data.interactions).weights.max())
    user_vector = fold_in(model, chosen, weights, ridge)
    V = np.asarray(model.item_factors, dtype=np.float64)
    scores = V @ user_vector + model.global_mean
    if model.item_bias is not None:
        scores += model.item_bias
    best = top_k(scores, k, chosen)
    out = item_table(data, best, scores[best])
    out.attrs = {"liked": [str(data.item_names[i]) for i in chosen]}
    return out


def recommend_for_artists(
    model: Any,
    data: Any,
    liked_artists: Any,
    k: int = 10,
    *,
    reg: float | None = None,
    target: float | None = None,
) -> pd.DataFrame:
    """The chapter-era name of :func:`recommend_for_items` (``reg`` is its ``ridge``, ``target``
    the liked items' weight)."""
    return recommend_for_items(model, data, liked_artists, k, weights=target, ridge=reg)
