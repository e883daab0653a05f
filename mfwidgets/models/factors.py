"""Factors: a model made of arrays alone, so factors trained by any library can be explored."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.split import Split
from .contract import FactorScoring, split_of


def _matrix(value: Any, name: str) -> np.ndarray:
    arr = np.array(value, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array (rows, d), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    arr.flags.writeable = False
    return arr


def _vector(value: Any, n: int, name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.array(value, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    arr.flags.writeable = False
    return arr


class Factors(FactorScoring):
    """User and item factors (and optional biases) as a model every widget and analysis accepts.

    ``user_factors`` is (n_users, d) and ``item_factors`` (n_items, d); a score is
    ``global_mean + user_bias[u] + item_bias[i] + U[u]·V[i]``. With ``dataset``, the sizes must
    match it. The arrays are copied and read-only, so ``version`` never changes.
    ``predicts_ratings=False`` marks implicit-feedback factors (no rating error is reported).
    ``split``: the :class:`~mfwidgets.data.Split` they were trained on, when known.
    """

    version = 0

    def __init__(
        self,
        user_factors: Any,
        item_factors: Any,
        *,
        dataset: Any = None,
        user_bias: Any = None,
        item_bias: Any = None,
        global_mean: float = 0.0,
        predicts_ratings: bool = True,
        split: Split | None = None,
    ) -> None:
        U = _matrix(user_factors, "user_factors")
        V = _matrix(item_factors, "item_factors")
        if U.shape[1] != V.shape[1]:
            raise ValueError(
                f"user_factors and item_factors must share d; got {U.shape[1]} and {V.shape[1]}"
            )
        if (user_bias is None) != (item_bias is None):
            raise ValueError("give both user_bias and item_bias, or neither")
        if isinstance(global_mean, bool) or not np.isfinite(float(global_mean)):
            raise ValueError(f"global_mean must be a finite number, got {global_mean!r}")
        if dataset is not None and (dataset.n_users, dataset.n_items) != (len(U), len(V)):
            raise ValueError(
                f"the factors cover {len(U)} users × {len(V)} items but the dataset has "
                f"{dataset.n_users} × {dataset.n_items}"
            )
        self._U, self._V = U, V
        self._bu = _vector(user_bias, len(U), "user_bias")
        self._bi = _vector(item_bias, len(V), "item_bias")
        self.global_mean = float(global_mean)
        self.predicts_ratings = bool(predicts_ratings)
        self.n_users, self.n_items = len(U), len(V)
        self._dataset = dataset
        self.split = split

    @property
    def user_factors(self) -> np.ndarray:
        return self._U

    def _items64(self) -> np.ndarray:
        if "_V64" not in vars(self):  # (the factors never change: converted once)
            self._V64 = self._V.astype(np.float64)
        return self._V64

    @property
    def item_factors(self) -> np.ndarray:
        return self._V

    @property
    def user_bias(self) -> np.ndarray | None:
        return self._bu

    @property
    def item_bias(self) -> np.ndarray | None:
        return self._bi

    @property
    def dataset(self) -> Any:
        return self._dataset

    @property
    def embedding_dim(self) -> int:
        return self._U.shape[1]

    @classmethod
    def of(cls, model: Any) -> Factors:
        """A frozen copy of any model's current factors (for example a CFModel mid-training)."""
        return cls(
            model.user_factors, model.item_factors, dataset=model.dataset,
            user_bias=model.user_bias, item_bias=model.item_bias,
            global_mean=model.global_mean, predicts_ratings=model.predicts_ratings,
            split=split_of(model),
        )  # fmt: skip

    def __repr__(self) -> str:
        bias = ", biased" if self._bu is not None else ""
        return f"Factors({self.n_users} users × {self.n_items} items, d={self.embedding_dim}{bias})"
