"""What if the regularization, the gravity or the dimension were different? A warm start.

:func:`warm_start` builds a new CFModel on a trained model's own split, with some of its
settings changed, starting from its factors instead of random ones, so a few ALS sweeps of the
chapter's loss reach the new optimum. A new dimension keeps the factorization's strongest
directions: U Vᵀ is re-balanced by a small SVD (of two d × d factors, never the users × items
matrix), then cut, or padded with zeros.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .cfmodel import CFModel, ModelState
from .training import History

#: the settings a what-if may change (the chapter's loss family)
CHANGES = ("regularization_coeff", "gravity_coeff", "embedding_dim")


def resize_factors(U: np.ndarray, V: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Factors of rank ``d`` from (U, V): U Vᵀ's strongest directions, balanced between the
    sides (√σ each), cut to ``d`` or padded with zero columns."""
    U, V = np.asarray(U, dtype=np.float64), np.asarray(V, dtype=np.float64)
    qu, ru = np.linalg.qr(U)
    qv, rv = np.linalg.qr(V)
    a, s, bt = np.linalg.svd(ru @ rv.T)
    root = np.sqrt(s)
    U2, V2 = qu @ (a * root), qv @ (bt.T * root)
    k = min(d, U2.shape[1])
    out_u, out_v = np.zeros((len(U), d)), np.zeros((len(V), d))
    out_u[:, :k], out_v[:, :k] = U2[:, :k], V2[:, :k]
    return out_u.astype(np.float32), out_v.astype(np.float32)


def warm_start(model: CFModel, **changes: Any) -> CFModel:
    """A new CFModel on ``model``'s split, its configuration changed by ``changes`` (any of
    :data:`CHANGES`), starting from ``model``'s factors (resized when the dimension changes).
    A plain model given regularization or gravity becomes the regularized kind."""
    if not isinstance(model, CFModel):
        raise TypeError(f"model must be a CFModel, got {type(model).__name__}")
    unknown = set(changes) - set(CHANGES)
    if unknown:
        raise TypeError(f"unknown change(s) {', '.join(sorted(unknown))}; accepted: {CHANGES}")
    config = model.config
    if config.implicit:
        raise ValueError(
            f"a what-if re-solves the chapter's loss: kind {config.kind!r} is not offered"
        )
    if model.split.train is None:
        raise ValueError("this model was loaded without its split: it cannot be re-solved")
    kind = config.kind
    if kind == "plain" and (changes.get("regularization_coeff") or changes.get("gravity_coeff")):
        kind = "regularized"
    new = dataclasses.replace(config, kind=kind, **changes)
    arrays = {k: v.numpy() for k, v in model.variables.items()}
    if new.embedding_dim != config.embedding_dim:
        # a hybrid's whole item factors go to the free parts, and its tag embeddings restart
        # from 0 (the sweeps learn them again); items without listens keep no free part
        U, V = resize_factors(model.user_factors, model.item_factors, new.embedding_dim)
        free = ~model.from_tags_only
        arrays |= {"U": U, "V": V * free[:, None]}
        if "T" in arrays:  # the tag tower's
            arrays["T"] = np.zeros((len(arrays["T"]), new.embedding_dim), np.float32)
        if "tb" in arrays:
            arrays |= {"bi": model.item_bias * free, "tb": np.zeros_like(arrays["tb"])}
    state = ModelState(arrays, History(), 0, model.global_mean)
    return CFModel(model.split, config=new, n_users=model.n_users,
                   n_items=model.n_items, state=state, dataset=model.dataset,
                   item_tags=model.item_tags)  # fmt: skip
