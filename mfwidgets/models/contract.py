"""The contract between models and everything above them (analysis, charts, widgets).

A model (:class:`Recommender`) has sizes, ``predict`` and ``score_users``, a ``version`` that
changes whenever its scores change (caches key on it), and the dataset it belongs to. A factor
model (:class:`FactorModel`) also has user and item factors, optional biases and a global mean:
:class:`~mfwidgets.models.cfmodel.CFModel` by training,
:class:`~mfwidgets.models.factors.Factors` from plain arrays. The item–item references (EASE,
ItemKNN) are models without factors: what needs factors (a map, norms) checks
:func:`has_factors` and says so. No TensorFlow here.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Recommender(Protocol):
    """What every floor above the models reads: sizes, scores, a version and the dataset.
    ``score_users`` ranks every item for some users; ``predict`` scores paired ids (ratings
    only when ``predicts_ratings``)."""

    n_users: int
    n_items: int
    predicts_ratings: bool

    @property
    def version(self) -> int: ...

    @property
    def dataset(self) -> Any: ...

    def predict(self, user_ids: Any, item_ids: Any) -> np.ndarray: ...

    def score_users(self, user_ids: Any) -> np.ndarray: ...


@runtime_checkable
class FactorModel(Recommender, Protocol):
    """A model with factors: what the map, the norm charts and cosine rankings read.

    Shapes: ``user_factors`` (n_users, d), ``item_factors`` (n_items, d), ``user_bias``
    (n_users,) or None, ``item_bias`` (n_items,) or None. A score is
    ``global_mean + user_bias[u] + item_bias[i] + user_factors[u] · item_factors[i]``.
    ``predicts_ratings`` is False for models whose scores rank but do not estimate the weights
    (implicit feedback): rating errors are not reported for them. A model may also hold the
    ``split`` it was trained on (see :func:`split_of`).
    """

    global_mean: float

    @property
    def user_factors(self) -> np.ndarray: ...

    @property
    def item_factors(self) -> np.ndarray: ...

    @property
    def user_bias(self) -> np.ndarray | None: ...

    @property
    def item_bias(self) -> np.ndarray | None: ...


def split_of(model: Any) -> Any:
    """The :class:`~mfwidgets.data.Split` a model was trained on (``model.split``: CFModel,
    Factors, Spark factors), or None when it has none or does not say."""
    split = getattr(model, "split", None)
    return split if split is not None and split.train is not None else None


_MISSING = object()


def has_factors(model: Any) -> bool:
    """True when ``model`` is a model with user and item factors (a :class:`FactorModel`),
    found without reading them (a CFModel's are computed from its variables on each read)."""
    return isinstance(model, Recommender) and all(
        inspect.getattr_static(model, name, _MISSING) is not _MISSING
        for name in ("user_factors", "item_factors", "user_bias", "item_bias", "global_mean")
    )


def check_model(model: Any, name: str = "model", *, factors: bool = False, needs: str = "") -> Any:
    """``model`` if it is a model (with ``factors``: a factor model), else a TypeError naming
    what is missing (``needs``: what wants the factors, for the message)."""
    if factors and isinstance(model, Recommender) and not has_factors(model):
        raise TypeError(
            f"{name} ({type(model).__name__}) has no user and item factors"
            f"{': ' + needs + ' needs them' if needs else ''}; pick a factor model (a CFModel "
            "or a Factors)"
        )
    if not (has_factors(model) if factors else isinstance(model, Recommender)):
        wanted = ("user_factors", "item_factors") if factors else ()
        missing = [
            a
            for a in (*wanted, "predict", "score_users", "version", "dataset")
            if not hasattr(model, a)
        ]
        raise TypeError(
            f"{name} must be a model (a CFModel, a Factors, an EASE or ItemKNN, or anything "
            f"with predict, score_users, version and dataset); {type(model).__name__} lacks "
            f"{', '.join(missing) or 'part of that'}"
        )
    return model


def check_ids(ids: Any, n: int, name: str) -> np.ndarray:
    """Integer ids in [0, n) as an int64 array, or a TypeError/ValueError naming ``name``."""
    arr = np.asarray(ids)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer ids, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} must lie in [0, {n}); got {arr.min()}..{arr.max()}")
    return arr


class FactorScoring:
    """``predict`` and ``score_users`` written once from the factor properties."""

    def predict(self, user_ids: Any, item_ids: Any) -> np.ndarray:
        """Predicted weights for paired ids (biases included when the model has them)."""
        u = check_ids(user_ids, self.n_users, "user_ids")
        i = check_ids(item_ids, self.n_items, "item_ids")
        if u.shape != i.shape:
            raise ValueError(f"user_ids and item_ids must have one shape; got {u.shape}, {i.shape}")
        U, V = self.user_factors, self.item_factors
        pred = np.einsum("nd,nd->n", U[u.ravel()], V[i.ravel()]).astype(np.float64)
        pred += self.global_mean
        bu, bi = self.user_bias, self.item_bias
        if bu is not None and bi is not None:
            pred += bu[u.ravel()] + bi[i.ravel()]
        return pred.reshape(u.shape)

    def _items64(self) -> np.ndarray:
        """The item factors in float64, as scores are computed (a model whose factors never
        change keeps them)."""
        return np.asarray(self.item_factors, dtype=np.float64)

    def score_users(self, user_ids: Any) -> np.ndarray:
        """(len(user_ids), n_items) ranking scores: the predictions for every item."""
        u = np.atleast_1d(check_ids(user_ids, self.n_users, "user_ids"))
        scores = self.user_factors[u].astype(np.float64) @ self._items64().T + self.global_mean
        bu, bi = self.user_bias, self.item_bias
        if bu is not None and bi is not None:
            scores += bu[u][:, None] + bi[None, :]
        return scores
