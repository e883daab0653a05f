"""The tag tower, a piece any family can wear: each item's factor (and bias) is a free part plus
the pooled embeddings of its tags, x = v + A·T (b = b_free + A·tb), A the row-normalised
items × tags matrix (LightFM-style side information).

The family computes its loss and gradients at the whole factors; the tower maps the free parts
and tag embeddings to them (:meth:`TagTower.effective`), pulls the gradients back by the chain
rule (T gets Aᵀ of the whole factors' gradient), sets the L2 terms (the free parts' ridge is
κ = free_reg_scale times the tags') and, after a family's ALS sweep, re-solves T
(:meth:`TagTower.sweep`). Items without training pairs keep a free part of 0: their factor
comes from their tags alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .als import conjugate_gradient
from .config import ModelConfig
from .family import Family
from .tensors import Pairs, sparse_tensor, spmm, tf

#: conjugate-gradient steps on the tag embeddings per sweep (either solver)
TAG_CG_STEPS = 5


def tower_variables(family: type[Family]) -> tuple[str, ...]:
    """The variables of ``family`` wearing the tower: + T (+ tb for a family with item biases)."""
    return family.variables + ("T", "tb")[: len(family.item_slots)]


def tower_arrays(
    arrays: dict[str, np.ndarray],
    config: ModelConfig,
    n_tags: int,
    has_pairs: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """``arrays`` (a family's initial ones) with no free part for the items without training
    pairs, and N(0, init_stddev²) tag embeddings (0 tag biases)."""
    arrays["V"][~has_pairs] = 0.0
    arrays["T"] = rng.normal(0.0, config.init_stddev, (n_tags, config.embedding_dim))
    if "bi" in arrays:
        arrays["tb"] = np.zeros(n_tags)
    return arrays


class TagTower:
    """``family``'s items built from their tags (``tags``: items × tags, scipy sparse)."""

    def __init__(self, family: Family, tags: Any, train: Pairs) -> None:
        self.family = family
        self.slots = family.item_slots
        self.n = len(family.variables)
        self.A = sparse_tensor(tags)
        self.free_scale = family.config.free_reg_scale
        has_pairs = np.bincount(train.items, minlength=family.n_items) > 0
        self.item_mask = tf.constant(has_pairs.astype(np.float32))

    @property
    def variables(self) -> tuple[str, ...]:
        return tower_variables(type(self.family))

    def tag_part(self, X: Any, adjoint: bool = False) -> Any:
        """A·X (or Aᵀ·X); X (rows, d) or a vector (rows,)."""
        if len(X.shape) == 1:
            return tf.sparse.sparse_dense_matmul(self.A, X[:, None], adjoint_a=adjoint)[:, 0]
        return spmm(self.A, X, adjoint)

    def offsets(self, params: list) -> list:
        """The tag part of each item slot: [A·T] (+ [A·tb])."""
        return [self.tag_part(extra) for extra in params[self.n :]]

    def effective(self, params: list) -> list:
        """The family's parameters as the loss sees them: each item slot plus its tag part."""
        E = list(params[: self.n])
        for slot, part in zip(self.slots, self.offsets(params), strict=True):
            E[slot] = E[slot] + part
        return E

    def ridges(self, base: list[float]) -> list[float]:
        """The family's ridges with the free item factors' scaled by κ, then the tags' own."""
        out = list(base)
        out[self.slots[0]] *= self.free_scale
        return out + [base[slot] for slot in self.slots]

    def pull_back(self, grads: list) -> list:
        """Gradients at the whole factors → at (free parts, tag embeddings)."""
        return list(grads) + [self.tag_part(grads[slot], adjoint=True) for slot in self.slots]

    def mask(self, grads: list) -> list:
        """Items without training pairs keep a free part of 0 (no gradient there)."""
        out = list(grads)
        for slot in self.slots:
            m = self.item_mask if len(out[slot].shape) == 1 else self.item_mask[:, None]
            out[slot] = out[slot] * m
        return out

    def sweep(self, new: list, params: list, shared: Any, ridge: Any, tag_ridge: Any) -> list:
        """``new`` (whole factors from the family's sweep) as free parts, with T re-solved.

        In the coordinates (x, T) — x an item's whole factor — the loss depends on T only
        through the ridges λ‖x − A·T‖² of the items with training pairs, the cold items' terms
        (their x is A·T: xᵀ·shared·x, from gravity or the implicit unobserved cells) and T's
        own ridge. With x fixed, T solves that regression of the factors on the tags,
        (Aᵀ(M·κλ + (1 − M)·shared)A + λ)·T = Aᵀ M·κλ·x (M: has pairs; κλ the free parts'
        ridge ``ridge``, λ the tags' ``tag_ridge``), by :data:`TAG_CG_STEPS` conjugate-gradient
        steps from the current T: an exact block step, so the loss never rises and T follows the
        items at once (updating v and T in turn crept: v took it all).
        """
        mask = self.item_mask[:, None]
        X = self._columns([new[slot] for slot in self.slots])
        T = self._columns(params[self.n :])

        def times(P):
            AP = self._a_times(P)
            return self._a_times(mask * AP * ridge + (1.0 - mask) * tf.matmul(AP, shared), True) + (
                P * tag_ridge
            )

        T = conjugate_gradient(times, self._a_times(mask * X * ridge, True), T, TAG_CG_STEPS, None)
        free = (X - self._a_times(T)) * mask
        out = list(new)
        for slot, value in zip(self.slots, self._split(free), strict=True):
            out[slot] = value
        return out + self._split(T)

    def _columns(self, values: list) -> Any:
        """A factor (and a bias) as one array: the bias as a last column."""
        return tf.concat([values[0], values[1][:, None]], 1) if len(values) == 2 else values[0]

    def _split(self, X: Any) -> list:
        """:meth:`_columns` undone."""
        d = X.shape[1] - 1
        return [X[:, :d], X[:, d]] if len(self.slots) == 2 else [X]

    def _a_times(self, Z: Any, adjoint: bool = False) -> Any:
        """A·Z (or Aᵀ·Z), the factor and bias columns apart."""
        if len(self.slots) == 1:
            return self.tag_part(Z, adjoint)
        d = Z.shape[1] - 1
        return tf.concat([self.tag_part(Z[:, :d], adjoint), self.tag_part(Z[:, d:], adjoint)], 1)
