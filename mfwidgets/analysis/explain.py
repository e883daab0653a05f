"""Why this item for this user? A score taken apart, and the user's items that drive it.

The parts: ``score = global mean + user bias + item bias + u·v``, with the dot product also as
``‖u‖·‖v‖·cos``. The items: the user's vector is refitted from the user's own training items,
the item vectors fixed, so the dot product becomes a sum over those items:

- implicit feedback (``predicts_ratings`` False), as the implicit library's ``explain``:
  ``u = A⁻¹ Σ_j c_j v_j`` with ``A = VᵀV + Σ_j (c_j − 1) v_j v_jᵀ + λI`` and confidence
  ``c_j = 1 + α·weight_j``, so item j adds ``c_j · vᵀ A⁻¹ v_j``. For a CFModel of kind
  implicit, α and λ are the model's own, and this is exactly its last ALS step;
- ratings: a ridge refit to the ratings net of the biases, ``A = Σ_j v_j v_jᵀ + λI``, so item j
  adds ``(r_j − μ − b_u − b_j) · vᵀ A⁻¹ v_j``.

What the refit does not reproduce of the model's own ``u·v`` (regularization the refit does not
share, unfinished training) is reported as ``rest``, so the items and the rest sum to the dot
product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import interaction_arrays
from ..models.contract import check_model

DEFAULT_RIDGE = 0.1


@dataclass(frozen=True)
class Explanation:
    """A score's parts, its geometry and the user's items behind it (see the module notes)."""

    user_id: int
    item_id: int
    score: float  #: the model's own score (``model.predict``)
    parts: pd.Series  #: global mean, user bias, item bias, dot product: they sum to ``score``
    user_norm: float
    item_norm: float
    cosine: float  #: dot product = user_norm · item_norm · cosine
    contributions: pd.DataFrame  #: item_id, name, weight, contribution (largest first)
    rest: float  #: dot product − Σ contributions
    method: str

    def __repr__(self) -> str:
        top = self.contributions.head(3)
        items = ", ".join(
            f"{n} {c:+.3f}" for n, c in zip(top["name"], top["contribution"], strict=True)
        )
        return (
            f"Explanation(score {self.score:.4f} = "
            + " + ".join(f"{k} {v:.4f}" for k, v in self.parts.items())
            + f"; top items: {items})"
        )


def _check_id(value: Any, n: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not 0 <= value < n:
        raise ValueError(f"{name} must lie in [0, {n}), got {value}")
    return int(value)


def _fold_in_terms(model: Any, ridge: float | None) -> tuple[float, float]:
    """(α, λ) of the refit: the model's own for an implicit CFModel kind, else defaults."""
    config = getattr(model, "config", None)
    if getattr(config, "implicit", False):
        lam = config.regularization_coeff if ridge is None else ridge
        return float(config.alpha), float(lam) + 1e-6  # (the ALS solver's own epsilon)
    return 1.0, DEFAULT_RIDGE if ridge is None else float(ridge)


def explain(
    model: Any, data: Any, user_id: int, item_id: int, *, ridge: float | None = None
) -> Explanation:
    """Why ``model`` scores ``item_id`` as it does for ``user_id`` (see the module notes).

    ``ridge``: λ of the refit (default: the model's own for an implicit CFModel, else 0.1).
    The user's items are those of the model's training split when it has one, else the data's.
    """
    check_model(model)
    u = _check_id(user_id, model.n_users, "user_id")
    i = _check_id(item_id, model.n_items, "item_id")
    if ridge is not None and (isinstance(ridge, bool) or not ridge >= 0):
        raise ValueError(f"ridge must be a number >= 0, got {ridge!r}")
    U = np.asarray(model.user_factors, dtype=np.float64)
    V = np.asarray(model.item_factors, dtype=np.float64)
    bu = 0.0 if model.user_bias is None else float(model.user_bias[u])
    bi = 0.0 if model.item_bias is None else float(model.item_bias[i])
    dot = float(U[u] @ V[i])
    parts = pd.Series(
        {
            "global mean": float(model.global_mean),
            "user bias": bu,
            "item bias": bi,
            "dot product": dot,
        }
    )
    nu, nv = float(np.linalg.norm(U[u])), float(np.linalg.norm(V[i]))
    cosine = dot / (nu * nv) if nu > 0 and nv > 0 else 0.0

    train = getattr(model, "train_listens", None)
    users, items, weights = interaction_arrays(train if train is not None else data.interactions)
    mine = users == u
    J, w = items[mine], weights[mine]
    alpha, lam = _fold_in_terms(model, ridge)
    VJ = V[J]
    if model.predicts_ratings:
        item_bias = 0.0 if model.item_bias is None else np.asarray(model.item_bias)[J]
        coef = w - model.global_mean - bu - item_bias
        A = VJ.T @ VJ + lam * np.eye(V.shape[1])
        method = (
            f"ridge refit of the user's vector to their {len(J)} ratings net of the biases "
            f"(λ = {lam:g}): item j adds (r_j − μ − b_u − b_j) · vᵀ(Σ v_j v_jᵀ + λI)⁻¹ v_j"
        )
    else:
        coef = 1.0 + alpha * w
        A = V.T @ V + (VJ * (coef - 1.0)[:, None]).T @ VJ + lam * np.eye(V.shape[1])
        method = (
            f"implicit-feedback ALS refit from the user's {len(J)} items (α = {alpha:g}, "
            f"λ = {lam:g}), as implicit's explain: item j adds c_j · vᵀ A⁻¹ v_j, "
            "A = VᵀV + Σ (c_j − 1) v_j v_jᵀ + λI, c_j = 1 + α·weight_j"
        )
    contribution = coef * (VJ @ np.linalg.solve(A, V[i])) if len(J) else np.zeros(0)
    table = pd.DataFrame(
        {
            "item_id": J,
            "name": np.asarray(data.item_names)[J],
            "weight": w,
            "contribution": contribution,
        }
    )
    table = table.iloc[np.argsort(-np.abs(contribution), kind="stable")].reset_index(drop=True)
    return Explanation(
        user_id=u,
        item_id=i,
        score=float(np.asarray(model.predict([u], [i]))[0]),
        parts=parts,
        user_norm=nu,
        item_norm=nv,
        cosine=cosine,
        contributions=table,
        rest=dot - float(contribution.sum()),
        method=method,
    )
