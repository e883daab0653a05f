"""k-fold cross-validation: the same folds for every model, a row per fold and model, and the
mean over folds (what Surprise's ``cross_validate`` reports)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import Dataset
from ..data.split import Split, kfold
from ..models.config import ModelConfig
from .evaluation import RATING_METRICS, check_metric, metric_value

#: a fold's model maker: the fold's Split -> a trained model
Fit = Callable[[Split], Any]


def config_fit(config: ModelConfig, data: Any) -> Fit:
    """A fold's maker for ``config``: its kind trained as ``CFModel(data, split).train()``
    does (a reference kind fitted in closed form)."""
    dataset = data if isinstance(data, Dataset) else None

    def make(split: Split) -> Any:
        if config.reference:
            from ..models.itemitem import reference

            return reference(dataset, split, config)
        from ..models.cfmodel import CFModel

        model = CFModel(split, config=config, dataset=dataset)
        model.train()
        return model

    if config.reference and dataset is None:
        raise TypeError(f"kind={config.kind!r} is fitted on a Dataset: pass one as data")
    return make


@dataclass(frozen=True)
class CrossValidation:
    """``folds``: one row per (fold, model) with each metric and ``seconds`` (fit + measure);
    ``mean`` and ``std``: over the folds, one row per model; ``splits``: the folds used."""

    folds: pd.DataFrame
    mean: pd.DataFrame
    std: pd.DataFrame
    splits: list[Split]

    def __repr__(self) -> str:
        return f"CrossValidation({len(self.splits)} folds; mean:\n{self.mean.round(4)})"


def cross_validate(
    fit: Fit | ModelConfig | dict[str, Fit | ModelConfig],
    data: Any,
    folds: int = 5,
    *,
    seed: int | None = 0,
    metrics: tuple[str, ...] = ("rmse", "mae"),
    progress: Callable[[int, int], None] | None = None,
) -> CrossValidation:
    """Train and measure on ``folds`` seeded folds of ``data`` (a Dataset or frame; see
    :func:`~mfwidgets.data.kfold`).

    ``fit`` makes a trained model from a fold's :class:`Split` (train on ``split.train``; the
    test rows are for measuring only), or is a :class:`~mfwidgets.models.ModelConfig` (its kind
    trained as ``CFModel(data, split).train()`` does, as Surprise's ``cross_validate(SVD(),
    data)``), or a dict name -> either; every model sees the same folds. ``metrics`` are
    names as in :func:`~mfwidgets.analysis.tune` (``rmse``, ``mae``, ``recall@10``, ...);
    rating errors are NaN for models whose scores only rank.
    ``progress(done, folds)`` after each fold.
    """
    makers = fit if isinstance(fit, dict) else {"model": fit}
    makers = {
        name: config_fit(f, data) if isinstance(f, ModelConfig) else f for name, f in makers.items()
    }
    if not makers or not all(callable(f) for f in makers.values()):
        raise TypeError(
            "fit must be a callable (Split -> model), a ModelConfig, or a dict name -> either"
        )
    if isinstance(metrics, str) or not len(metrics):
        raise TypeError("metrics must be a non-empty tuple of metric names")
    metrics = tuple(check_metric(m) for m in metrics)
    splits = kfold(data, folds, seed)
    rows = []
    for f, split in enumerate(splits):
        for name, make in makers.items():
            t0 = time.perf_counter()
            model = make(split)
            rates = getattr(model, "predicts_ratings", True)
            row = {"fold": f, "model": name}
            for m in metrics:
                unmeasured = m in RATING_METRICS and not rates
                row[m] = np.nan if unmeasured else metric_value(model, split.train, split.test, m)
            rows.append(row | {"seconds": time.perf_counter() - t0})
        if progress is not None:
            progress(f + 1, len(splits))
    table = pd.DataFrame(rows).set_index(["fold", "model"])
    grouped = table.groupby(level="model", sort=False)
    return CrossValidation(table, grouped.mean(), grouped.std(ddof=1), splits)
