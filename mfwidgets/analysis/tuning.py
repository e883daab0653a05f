"""Picking hyper-parameters for the data in hand, on a validation split carved from train.

The chapter's L2 term divides by the number of users and items, so the effective ridge per row
grows with the interactions per row: values tuned on one dataset do not carry to another.
:func:`tune` fits one model per point of a grid on part of the training interactions and
measures it on the rest; the test rows are never seen.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..data.dataset import Dataset, check_interactions
from ..data.split import Split, split_dataframe
from ..models.cfmodel import CFModel
from ..models.config import ModelConfig, TrainConfig
from ..models.training import Callback
from .evaluation import check_metric, higher_is_better, metric_value

log = logging.getLogger(__name__)

#: (points done, points in the grid, the point's settings) after each fitted point
Progress = Callable[[int, int, dict[str, Any]], None]


@dataclass(frozen=True)
class TuneResult:
    """``table``: one row per fitted grid point (its settings, the validation metric, seconds),
    best first; ``best``: the full configuration of the first row; ``stopped``: True when a
    stop came before the grid was done (the table holds the points fitted so far); ``names``:
    the fields the grid varied; ``metric``: what ranked them; ``edges``: for each numeric field
    whose best value is the smallest or largest of its grid (with more than one value), the
    direction to widen the grid ("larger" or "smaller") — the best may lie beyond it."""

    table: pd.DataFrame
    best: ModelConfig | None
    stopped: bool
    names: tuple[str, ...]
    metric: str = "rmse"
    edges: dict[str, str] = field(default_factory=dict)

    @property
    def warning(self) -> str:
        """A sentence saying where the best point lies on the grid's edge ("" when inside)."""
        if not self.edges:
            return ""
        where = ", ".join(
            f"{name}={getattr(self.best, name)!r} (try {way} values)"
            for name, way in self.edges.items()
        )
        return f"the best point lies on the edge of the grid: {where}"


def grid_edges(grid: dict[str, list], best: ModelConfig | None) -> dict[str, str]:
    """Fields whose best value is the grid's smallest or largest (see TuneResult.edges)."""
    edges = {}
    for name, values in grid.items():
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if best is None or len(set(numbers)) < 2 or len(numbers) != len(values):
            continue
        value = getattr(best, name)
        if value == max(numbers):
            edges[name] = "larger"
        elif value == min(numbers):
            edges[name] = "smaller"
    return edges


class _StopWhenAsked(Callback):
    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def on_progress(self, model, steps_done, num_steps, seconds) -> None:
        if self.stop.is_set():
            model.request_stop()


def _grid_configs(grid: dict[str, list], base: dict[str, Any]) -> list[ModelConfig]:
    if not isinstance(grid, dict) or not grid:
        raise TypeError("grid must be a non-empty dict: field name -> list of values")
    fields = dict(ModelConfig.params())
    for name, values in grid.items():
        if name not in fields:
            raise ValueError(f"grid names unknown field {name!r}; fields: {', '.join(fields)}")
        if isinstance(values, (str, bytes)) or not len(values):
            raise ValueError(f"grid[{name!r}] must be a non-empty list of values")
    points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
    return [ModelConfig(**(base | point)) for point in points]  # every point validated up front


def tuning_grid(config: ModelConfig) -> dict[str, list]:
    """A small grid around a configuration: ``embedding_dim`` halved, kept and doubled, and
    ``regularization_coeff`` halved, kept and doubled when the kind has one (0.1 when it is 0)."""
    d = config.embedding_dim
    grid: dict[str, list] = {"embedding_dim": sorted({max(1, d // 2), d, 2 * d})}
    if ModelConfig.uses("regularization_coeff", config.kind):
        r = config.regularization_coeff or 0.1
        grid["regularization_coeff"] = [r / 2, r, 2 * r]
    return grid


def tune(
    data: Dataset | Split | pd.DataFrame,
    grid: dict[str, list],
    *,
    base: dict[str, Any] | None = None,
    train: TrainConfig | None = None,
    metric: str | None = None,
    validation_fraction: float = 0.1,
    seed: int = 0,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    dataset: Dataset | None = None,
) -> TuneResult:
    """Fit one model per point of ``grid`` (ModelConfig field -> values, all combinations) on
    ``data`` less a seeded validation share, and rank the points by ``metric`` on it.

    Pass the *training* interactions (a Dataset, a frame, or a :class:`Split`, whose train rows
    are used and test rows never seen): the validation rows are carved from them. ``base``
    holds the fixed fields (default: the biased kind), ``train`` how each point trains
    (default: 19 ALS sweeps). ``metric``: ``"rmse"`` (the default for rating kinds) or
    ``"mae"``; ``"recall@k"`` / ``"ndcg@k"`` (the default for ranking kinds is ``"recall@10"``); a
    rating metric for a ranking kind is refused. When the best point lies on the grid's edge,
    ``result.edges`` says which way to widen it (and a warning is logged). Every point is
    validated before any fitting. The hybrid kinds read their tags from ``data`` when it is a
    Dataset, else from ``dataset``: each point only those given on its fitting pairs (neither
    the validation rows' nor a split's test rows').
    """
    base = {"kind": "biased", "seed": seed} | (base or {})
    configs = _grid_configs(grid, base)
    implicit = configs[0].implicit
    metric = check_metric(metric or ("recall@10" if implicit else "rmse"), not implicit)
    train = train or TrainConfig(num_iterations=19, optimizer="als")
    configs[0].spec.check_optimizer(train.optimizer)
    dataset = data if isinstance(data, Dataset) else dataset
    if dataset is not None and not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a Dataset or None, got {type(dataset).__name__}")
    if any(c.tagged for c in configs) and dataset is None:
        raise ValueError(
            f"kind={configs[0].kind!r} reads the items' tags from a dataset: pass a Dataset as "
            "data, or dataset= beside a Split or frame"
        )
    frame = data.train if isinstance(data, Split) else getattr(data, "interactions", data)
    checked = check_interactions(frame, "data")
    n_users = dataset.n_users if dataset is not None else int(checked.users.max()) + 1
    n_items = dataset.n_items if dataset is not None else int(checked.items.max()) + 1
    fit, val = split_dataframe(frame, validation_fraction, seed)
    stop = stop or threading.Event()
    rows, fitted, stopped = [], [], False
    column = f"val_{metric}"
    for done, config in enumerate(configs, 1):
        if stop.is_set():
            stopped = True
            break
        t0 = time.perf_counter()
        model = CFModel(fit, val, config=config, n_users=n_users, n_items=n_items, dataset=dataset)
        model.train(config=train, callbacks=_StopWhenAsked(stop))
        if stop.is_set():
            stopped = True
            break
        point = {name: getattr(config, name) for name in grid}
        value = metric_value(model, fit, val, metric)
        rows.append(point | {column: value, "seconds": time.perf_counter() - t0})
        fitted.append(config)
        if progress is not None:
            progress(done, len(configs), point)
    table = pd.DataFrame(rows, columns=[*grid, column, "seconds"])
    values = table[column].to_numpy()
    order = (-values if higher_is_better(metric) else values).argsort(kind="stable")
    best = fitted[order[0]] if len(order) else None
    edges = grid_edges(grid, best) if not stopped else {}
    result = TuneResult(
        table.iloc[order].reset_index(drop=True), best, stopped, tuple(grid), metric, edges
    )
    if edges:
        log.info("tune: %s", result.warning)
    return result
