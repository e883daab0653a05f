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
product. An item–item model (EASE, ItemKNN) needs no refit: its score is exactly the sum of
``W[j, i]`` over the user's training items j (norms and cosine are NaN: it has no factors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import interaction_arrays
from ..models.contract import check_model, has_factors, split_of
from .ids import item_position, user_position
from .recommend import fold_in_system


@dataclass(frozen=True)
class Explanation:
    """A score's parts, its geometry and the user's items behind it (see the module notes)."""

    user_id: Any  #: the data's own id of the user
    item_id: Any  #: the data's own id of the item
    user_index: int
    item_index: int
    score: float  #: the model's own score (``model.predict``)
    parts: pd.Series  #: global mean, user bias, item bias, dot product: they sum to ``score``
    user_norm: float
    item_norm: float
    cosine: float  #: dot product = user_norm · item_norm · cosine
    contributions: pd.DataFrame  #: item_index, raw_id, name, weight, contribution (largest first)
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


def explain(
    model: Any,
    data: Any,
    user_id: Any = None,
    item_id: Any = None,
    *,
    user_index: int | None = None,
    item_index: int | None = None,
    ridge: float | None = None,
) -> Explanation:
    """Why ``model`` scores an item as it does for a user (see the module notes).

    The user and item are named by the data's own ids (``user_id``, ``item_id``) or by their
    indexes (``user_index``, ``item_index``). ``ridge``: λ of the refit (default: the model's
    own for an implicit CFModel, else 0.1). The user's items are those of the model's training
    split when it has one, else the data's.
    """
    check_model(model)
    if ridge is not None and (isinstance(ridge, bool) or not ridge >= 0):
        raise ValueError(f"ridge must be a number >= 0, got {ridge!r}")
    u = user_position(data, user_id, user_index)
    i = item_position(data, item_id, item_index)
    if not has_factors(model):
        return explain_item_item(model, data, u, i)
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

    split = split_of(model)
    users, items, weights = interaction_arrays(
        split.train if split is not None else data.interactions
    )
    mine = users == u
    J, w = items[mine], weights[mine]
    A, coef, how = fold_in_system(model, J, w, ridge)
    if model.predicts_ratings:
        coef = coef - bu  # a known user: the ratings net of their own bias too
    contribution = coef * (V[J] @ np.linalg.solve(A, V[i])) if len(J) else np.zeros(0)
    table = contribution_table(data, J, w, contribution)
    return Explanation(
        user_id=data.user_id(u),
        item_id=data.item_id(i),
        user_index=u,
        item_index=i,
        score=float(np.asarray(model.predict([u], [i]))[0]),
        parts=parts,
        user_norm=nu,
        item_norm=nv,
        cosine=cosine,
        contributions=table,
        rest=dot - float(contribution.sum()),
        method=f"{how}: item j adds c_j · vᵀ A⁻¹ v_j",
    )


def contribution_table(
    data: Any, items: np.ndarray, weights: np.ndarray, contribution: np.ndarray
) -> pd.DataFrame:
    """The user's items behind a score: item_index, raw_id, name, weight, contribution, the
    largest contributions (in size) first."""
    table = pd.DataFrame(
        {
            "item_index": items,
            "raw_id": np.asarray(data.item_raw_ids)[items],
            "name": np.asarray(data.item_names)[items],
            "weight": weights,
            "contribution": contribution,
        }
    )
    return table.iloc[np.argsort(-np.abs(contribution), kind="stable")].reset_index(drop=True)


def explain_item_item(model: Any, data: Any, u: int, i: int) -> Explanation:
    """An item–item model's score taken apart exactly: each of the user's training items j
    adds W[j, i] (no factors: the norms and cosine are NaN)."""
    J, contribution = model.contributions(u, i)
    table = contribution_table(data, J, np.ones(len(J)), contribution)
    score = float(np.asarray(model.predict([u], [i]))[0])
    return Explanation(
        user_id=data.user_id(u), item_id=data.item_id(i), user_index=u, item_index=i,
        score=score, parts=pd.Series({model.similarity_name + "s, summed": score}),
        user_norm=np.nan, item_norm=np.nan, cosine=np.nan, contributions=table,
        rest=score - float(contribution.sum()),
        method=f"{type(model).__name__}: item j adds W[j, i], its {model.similarity_name}",
    )  # fmt: skip
