"""The strong simple references beside matrix factorization: EASE and item-kNN (numpy/scipy).

Both score a user's items through an item–item matrix ``W`` learned from who interacted with
what: ``score(u) = x_u W``, ``x_u`` the user's training items (1 per item, however heavy).

- :class:`EASE` (Steck 2019): ``W`` minimises ‖X − XW‖² + λ‖W‖² with a zero diagonal, in closed
  form: P = (XᵀX + λI)⁻¹, W = I − P·diag(1/diag P). Dense n_items × n_items in float32; the
  inverse through the users when they are fewer than the items (Woodbury), else by Cholesky.
- :class:`ItemKNN`: ``W[j, i]`` is the cosine of items j and i over users, shrunk by
  ``|j ∩ i| / (‖j‖‖i‖ + shrink)``, keeping each item's ``k`` most similar items (the
  implicit library's ItemItemRecommender and the "are we really making progress" ItemKNN).

They have no factors: the map and the norm charts say so; the explorer shows their item–item
similarities beside MF's dot and cosine. Their scores rank, they do not estimate ratings.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.linalg import lapack

from ..checks import check_number
from ..data.dataset import interaction_arrays
from ..data.split import Split
from .contract import check_ids

#: the largest item–item matrix EASE builds unless told otherwise (its dense float32 bytes)
EASE_MAX_GIB = 8.0
#: the elements of ItemKNN's dense similarity buffer (items per block × n_items: 128 MiB)
KNN_BUFFER = 2**24


def presence_matrix(train: Any, n_users: int, n_items: int) -> sp.csr_matrix:
    """(n_users, n_items) CSR of 1.0 where the user interacted with the item in ``train``
    (duplicates count once, weights are not used)."""
    users, items, _ = interaction_arrays(train, "train")
    X = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=(n_users, n_items))
    X.sum_duplicates()
    X.data[:] = 1.0
    return X


class ItemItemModel:
    """What EASE and ItemKNN share: the training matrix X of ``split.train`` (or all of
    ``data`` without a split), scores ``x_u W``, and the model contract (``predict``,
    ``score_users``, ``version``, ``dataset``, ``split``) without factors."""

    predicts_ratings = False
    version = 0  # fitted once, at construction: the scores never change
    #: what the explorer calls this model's item–item measure
    similarity_name = "item–item"

    def __init__(self, data: Any, split: Split | pd.DataFrame | None) -> None:
        if isinstance(split, pd.DataFrame):
            split = Split(split)
        if split is not None and not isinstance(split, Split):
            raise TypeError(
                f"split must be a mfwidgets Split (e.g. a trained model's .split), a train "
                f"interactions frame, or None; got {type(split).__name__}"
            )
        if split is not None and split.train is None:
            raise ValueError("split holds no rows (it was not loaded): pass one with its frames")
        self._t0 = time.perf_counter()
        self._dataset = data
        self.split = split
        #: its settings and ``fit_seconds`` (what the board reports as training time)
        self.params: dict[str, Any] = {}
        #: no iterations, so no learning curve (the trainer and board say so)
        self.history = pd.DataFrame({"iteration": pd.Series(dtype=np.int64)})
        self.n_users, self.n_items = int(data.n_users), int(data.n_items)
        train = split.train if split is not None else data.interactions
        self.X = presence_matrix(train, self.n_users, self.n_items)

    def _fitted(self, **params: Any) -> None:
        self.params = params | {"fit_seconds": time.perf_counter() - self._t0}

    @property
    def dataset(self) -> Any:
        return self._dataset

    @property
    def weights(self) -> Any:
        """The item–item matrix W (n_items × n_items; dense for EASE, CSR for ItemKNN)."""
        return self._W

    def score_users(self, user_ids: Any) -> np.ndarray:
        """(len(user_ids), n_items) scores ``x_u W`` (a user's own items included)."""
        u = np.atleast_1d(check_ids(user_ids, self.n_users, "user_ids"))
        scores = self.X[u] @ self._W
        return np.asarray(scores.toarray() if sp.issparse(scores) else scores, dtype=np.float64)

    def predict(self, user_ids: Any, item_ids: Any) -> np.ndarray:
        """The ranking scores of paired ids (not ratings: see ``predicts_ratings``)."""
        u = check_ids(user_ids, self.n_users, "user_ids")
        i = check_ids(item_ids, self.n_items, "item_ids")
        if u.shape != i.shape:
            raise ValueError(f"user_ids and item_ids must have one shape; got {u.shape}, {i.shape}")
        out = np.empty(u.size, dtype=np.float64)
        flat_u, flat_i = u.ravel(), i.ravel()
        users, where = np.unique(flat_u, return_inverse=True)
        for start in range(0, len(users), 256):  # (256 users' scores at a time)
            chunk = users[start : start + 256]
            rows = (where >= start) & (where < start + len(chunk))
            scores = self.score_users(chunk)
            out[rows] = scores[where[rows] - start, flat_i[rows]]
        return out.reshape(u.shape)

    def item_similarities(self, item: int) -> np.ndarray:
        """(n_items,) how much interacting with ``item`` adds to each item's score (row of W)."""
        row = self._W[item]
        return np.asarray(row.toarray()[0] if sp.issparse(row) else row, dtype=np.float64)

    def contributions(self, user: int, item: int) -> tuple[np.ndarray, np.ndarray]:
        """(the user's training items J, W[J, item]): the score of ``item`` is their sum."""
        J = self.X.indices[self.X.indptr[user] : self.X.indptr[user + 1]].astype(np.int64)
        col = self._W[J][:, [item]]
        return J, np.asarray(col.toarray() if sp.issparse(col) else col, np.float64).ravel()


class EASE(ItemItemModel):
    """Embarrassingly Shallow Autoencoder (Steck 2019), fitted at construction on
    ``split.train`` (a Split, or a train interactions frame; without one, every interaction
    of ``data``).

    ``l2`` is λ (larger: smoother weights; pick it on validation, it grows with the number of
    users). ``max_gib`` bounds the dense n_items² float32 matrix: beyond it a ValueError says
    how much it would take, before any work.
    """

    similarity_name = "EASE weight"

    def __init__(
        self, data: Any, split: Split | None = None, *, l2: float = 200.0,
        max_gib: float = EASE_MAX_GIB,
    ) -> None:  # fmt: skip
        check_number("l2", l2, minimum=0, strict=True)
        check_number("max_gib", max_gib, minimum=0, strict=True)
        need = 4 * float(data.n_items) ** 2 / 2**30
        if need > max_gib:
            raise ValueError(
                f"EASE needs a dense {data.n_items:,} × {data.n_items:,} matrix ({need:.1f} GiB "
                f"in float32), above max_gib={max_gib:g}: raise max_gib, or use ItemKNN"
            )
        super().__init__(data, split)
        self.l2 = float(l2)
        self._W = ease_weights(self.X, self.l2)
        self._fitted(l2=self.l2)

    @classmethod
    def from_config(cls, data: Any, split: Any, config: Any) -> EASE:
        """The EASE a configuration describes (its ``ease_l2``)."""
        return cls(data, split, l2=config.ease_l2)

    def __repr__(self) -> str:
        return f"EASE({self.n_users} users × {self.n_items} items, l2={self.l2:g})"


def ease_weights(X: sp.csr_matrix, l2: float) -> np.ndarray:
    """EASE's W for the presence matrix X (m users × n items) and ridge ``l2``, in one float32
    n × n buffer: W[j, i] = −P[j, i] / P[i, i], W[i, i] = 0, for P = (XᵀX + λI)⁻¹.

    With fewer users than items (Last.fm: 1,892 × 17,632), Woodbury's identity gives
    λP = I − Xᵀ(λI + XXᵀ)⁻¹X from an m × m inverse: seconds instead of an n³ factorisation.
    Otherwise XᵀX + λI is factored and inverted in place (LAPACK potrf/potri). The scale of P
    cancels in W, so λP serves as well as P.
    """
    m, n = X.shape
    if m < n:
        K = np.linalg.inv((X @ X.T).toarray().astype(np.float64) + l2 * np.eye(m))
        KX = (X.T @ K.astype(np.float32)).T  # (m, n) = K X, dense
        P = np.asarray(X.T @ np.ascontiguousarray(KX), dtype=np.float32)  # XᵀKX, (n, n)
        np.negative(P, out=P)
        P[np.diag_indices(n)] += np.float32(1.0)  # λP = I − XᵀKX
    else:
        G = (X.T @ X).toarray(order="F").astype(np.float32, copy=False)  # (symmetric)
        G[np.diag_indices(n)] += np.float32(l2)
        chol, info = lapack.spotrf(G, lower=1, overwrite_a=1, clean=0)
        if info != 0:
            raise np.linalg.LinAlgError(f"EASE: XᵀX + λI is not positive definite (info {info})")
        inv, info = lapack.spotri(chol, lower=1, overwrite_c=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"EASE: the inverse failed (info {info})")
        symmetrize_lower(inv)  # (potri fills the lower triangle only)
        P = inv.T  # the same numbers (P is symmetric), C-ordered: rows of W are contiguous
    diag = np.diag(P).copy()
    P /= -diag[None, :]
    P[np.diag_indices(n)] = 0.0
    return P


def symmetrize_lower(A: np.ndarray, block: int = 1024) -> None:
    """Copy the lower triangle of square ``A`` onto its upper one, in place, a block of rows
    at a time (no n × n temporary)."""
    n = len(A)
    for s in range(0, n, block):
        e = min(s + block, n)
        A[s:e, e:] = A[e:, s:e].T
        diag = A[s:e, s:e]
        diag[...] = np.tril(diag) + np.tril(diag, -1).T


class ItemKNN(ItemItemModel):
    """Item-based k nearest neighbours, fitted at construction on ``split.train`` (a Split, or
    a train interactions frame; without one, every interaction of ``data``).

    Similarity of items j and i: ``|users of j ∩ users of i| / (‖j‖‖i‖ + shrink)`` (the cosine,
    shrunk toward 0 when few users support it); each item keeps its ``k`` most similar other
    items. A user's score for item i sums the similarities of their items to i.
    """

    similarity_name = "kNN cosine"

    def __init__(
        self, data: Any, split: Split | None = None, *, k: int = 100, shrink: float = 10.0
    ) -> None:
        check_number("k", k, minimum=1, strict=False, integer=True)
        check_number("shrink", shrink, minimum=0, strict=False)
        super().__init__(data, split)
        self.k, self.shrink = int(k), float(shrink)
        self._norms = np.sqrt(np.asarray(self.X.sum(axis=0), dtype=np.float64).ravel())
        self._XT = self.X.T.tocsr()
        self._W = self._neighbourhoods()
        self._fitted(k=self.k, shrink=self.shrink)

    def _similar(self, items: np.ndarray) -> np.ndarray:
        """(len(items), n_items) shrunk cosines of ``items`` to every item, self excluded."""
        overlap = (self._XT[items] @ self.X).toarray().astype(np.float64)
        sims = overlap / (self._norms[items, None] * self._norms[None, :] + self.shrink + 1e-12)
        sims[np.arange(len(items)), items] = 0.0
        return sims

    def _neighbourhoods(self) -> sp.csr_matrix:
        """W: each item's row keeps its k largest positive similarities (blocks of items, so
        memory stays at KNN_BUFFER similarities)."""
        n, k = self.n_items, min(self.k, self.n_items - 1)
        block = max(16, KNN_BUFFER // n)
        rows, cols, vals = [], [], []
        for start in range(0, n, block):
            items = np.arange(start, min(start + block, n))
            sims = self._similar(items)
            if k < n - 1:
                top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            else:
                top = np.tile(np.arange(n), (len(items), 1))
            v = np.take_along_axis(sims, top, axis=1)
            keep = v > 0
            rows.append(np.repeat(items, keep.sum(1)))
            cols.append(top[keep])
            vals.append(v[keep])
        W = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        )
        W.sort_indices()
        return W

    def item_similarities(self, item: int) -> np.ndarray:
        """(n_items,) the shrunk cosine of ``item`` to every item (all of them, not only its k
        neighbours: what the explorer ranks)."""
        return self._similar(np.array([item]))[0]

    @classmethod
    def from_config(cls, data: Any, split: Any, config: Any) -> ItemKNN:
        """The item-kNN a configuration describes (``knn_neighbors``, ``knn_shrink``)."""
        return cls(data, split, k=config.knn_neighbors, shrink=config.knn_shrink)

    def __repr__(self) -> str:
        return (
            f"ItemKNN({self.n_users} users × {self.n_items} items, k={self.k}, "
            f"shrink={self.shrink:g})"
        )


def reference(data: Any, split: Split | pd.DataFrame | None, config: Any) -> ItemItemModel:
    """The reference a :class:`~mfwidgets.models.config.ModelConfig` of a reference kind
    (``"ease"``, ``"itemknn"``) describes, fitted on ``split`` (what the TrainerWidget trains)."""
    if not config.reference:
        raise ValueError(f"kind must be a reference kind for a reference, got {config.kind!r}")
    return config.spec.family_class().from_config(data, split, config)
