"""The trainer's runs, without widgets: what a run is, its default name, the callback that
reports a training run, and a tuning run."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..analysis.tuning import TuneResult, tune, tuning_grid
from ..data.dataset import Dataset
from ..data.split import split_dataframe
from ..models.config import ModelConfig, SplitConfig, TrainConfig
from ..models.training import FINISHED, Callback, RunInfo


@dataclass(frozen=True)
class RunSpec:
    """A validated run: model configuration, split and training arguments, and its name."""

    config: ModelConfig
    split: SplitConfig
    train: TrainConfig
    name: str


def default_name(kind: str, init_stddev: float, taken: set[str]) -> str:
    """The chapter's run names: model, model_lowinit, reg_model (then biased_model, ...)."""
    base = {
        "plain": "model_lowinit" if init_stddev <= 0.1 else "model",
        "regularized": "reg_model",
        "biased": "biased_model",
        "implicit": "implicit_model",
    }.get(kind, f"{kind}_model")
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


class Reporter(Callback):
    """Core callbacks -> widget updates (runs on the training thread): ``progress`` gets
    (steps done, steps, seconds, running), ``record`` the model at each record."""

    def __init__(self, progress: Callable[[tuple], None], record: Callable[[Any], None]) -> None:
        self.progress, self.record = progress, record
        self.t0 = time.perf_counter()
        self.reason = FINISHED

    def on_train_begin(self, model, info: RunInfo) -> None:
        self.t0 = time.perf_counter()
        self.progress((0, info.num_steps, 0.0, True))

    def on_progress(self, model, steps_done, num_steps, seconds) -> None:
        self.progress((steps_done, num_steps, time.perf_counter() - self.t0, True))

    def on_record(self, model, iteration, metrics, seconds) -> None:
        self.record(model)

    def on_train_end(self, model, reason, info: RunInfo) -> None:
        self.reason = reason
        self.progress((info.steps_done, info.num_steps, info.seconds, False))


def run_tuning(data: Dataset, spec: RunSpec, stop: threading.Event, progress) -> TuneResult:
    """Tune around ``spec`` on validation ratings carved from its training split (ALS fits);
    ``progress`` gets (fits done, fits, seconds, running, "fit")."""
    t0 = time.perf_counter()
    grid = tuning_grid(spec.config)
    total = math.prod(len(values) for values in grid.values())
    progress((0, total, 0.0, True, "fit"))
    train, _ = split_dataframe(data.interactions, spec.split.holdout_fraction, spec.config.seed)
    fixed = {n: getattr(spec.config, n) for n, _ in type(spec.config).params() if n not in grid}
    return tune(
        train, grid, base=fixed, train=TrainConfig(num_iterations=18, optimizer="als"),
        seed=spec.config.seed or 0, stop=stop,
        progress=lambda done, n, point: progress((done, n, time.perf_counter() - t0, True, "fit")),
    )  # fmt: skip
