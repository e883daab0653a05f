"""The trainer's runs, without widgets: what a run is, its default name, the callbacks that
report a training run, and a tuning run (the engines that run them: :mod:`.engines`)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..analysis.tuning import TuneResult, tune, tuning_grid
from ..data.dataset import Dataset
from ..data.split import Split, random_split
from ..models.config import ModelConfig, SplitConfig, TrainConfig
from ..models.kinds import kind_spec
from ..models.training import FINISHED, Callback, RunInfo


@dataclass(frozen=True)
class JobSpec:
    """A validated run: model configuration, split and training arguments, and its name."""

    config: ModelConfig
    split: SplitConfig
    train: TrainConfig
    name: str
    given: Split | None = None  #: a split fixed by the user, else the chapter's is drawn


def spec_split(data: Dataset, spec: JobSpec) -> Split:
    """The split a run trains on: the one given, else the chapter's random split of ``data``
    from the run's seed and holdout fraction (what ``CFModel.from_listens`` draws)."""
    if spec.given is not None:
        return spec.given
    return random_split(data, spec.split.holdout_fraction, spec.config.seed)


def default_name(kind: str, init_stddev: float, taken: set[str], prefix: str = "") -> str:
    """The chapter's run names: model, model_lowinit, reg_model (then each kind's own,
    :mod:`~mfwidgets.models.kinds`); an engine's ``prefix`` goes first (spark_reg_model)."""
    base = kind_spec(kind).run_name
    if kind == "plain" and init_stddev <= 0.1:  # (the chapter's second run)
        base = "model_lowinit"
    if prefix:
        base = f"{prefix}_{base}"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


class Reporter(Callback):
    """Core callbacks -> widget updates (runs on the training thread): ``progress`` gets
    (steps done, steps, seconds, running), ``record`` the model at each record. ``stop``: a
    Stop that came before the run began (while the model was being built) stops it at once."""

    def __init__(
        self,
        progress: Callable[[tuple], None],
        record: Callable[[Any], None],
        stop: threading.Event | None = None,
    ) -> None:
        self.progress, self.record, self.stop = progress, record, stop
        self.t0 = time.perf_counter()
        self.reason = FINISHED

    def on_train_begin(self, model, info: RunInfo) -> None:
        self.t0 = time.perf_counter()
        if self.stop is not None and self.stop.is_set() and model is not None:
            model.request_stop()
        self.progress((0, info.num_steps, 0.0, True))

    def on_progress(self, model, steps_done, num_steps, seconds) -> None:
        self.progress((steps_done, num_steps, time.perf_counter() - self.t0, True))

    def on_record(self, model, iteration, metrics, seconds) -> None:
        self.record(model)

    def on_train_end(self, model, reason, info: RunInfo) -> None:
        self.reason = reason
        self.progress((info.steps_done, info.num_steps, info.seconds, False))


class StageReporter(Reporter):
    """Spark reports stages (done, known so far), not iterations: the bar counts stages."""

    stages = (0, 0)

    def on_train_begin(self, model, info: RunInfo) -> None:
        self.t0 = time.perf_counter()
        self.progress((0, 0, 0.0, True, "stage"))

    def on_progress(self, model, steps_done, num_steps, seconds) -> None:
        self.stages = (steps_done, num_steps)
        self.progress((steps_done, num_steps, time.perf_counter() - self.t0, True, "stage"))

    def on_train_end(self, model, reason, info: RunInfo) -> None:
        self.reason = reason
        done, total = self.stages
        done = total if reason == FINISHED else done
        self.progress((done, total, time.perf_counter() - self.t0, False, "stage"))


def run_tuning(data: Dataset, spec: JobSpec, stop: threading.Event, progress) -> TuneResult:
    """Tune around ``spec`` on validation rows carved from its training split (ALS fits);
    ``progress`` gets (fits done, fits, seconds, running, "fit")."""
    t0 = time.perf_counter()
    grid = tuning_grid(spec.config)
    total = math.prod(len(values) for values in grid.values())
    progress((0, total, 0.0, True, "fit"))
    split = spec_split(data, spec)
    fixed = {n: getattr(spec.config, n) for n, _ in type(spec.config).params() if n not in grid}
    return tune(
        split, grid, base=fixed, train=TrainConfig(num_iterations=19, optimizer="als"),
        seed=spec.config.seed or 0, stop=stop,
        progress=lambda done, n, point: progress((done, n, time.perf_counter() - t0, True, "fit")),
    )  # fmt: skip
