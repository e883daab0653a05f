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
from ..data.split import Split, random_split
from ..models.config import ModelConfig, SplitConfig, TrainConfig
from ..models.itemitem import ItemItemModel, reference
from ..models.kinds import KIND_SPECS, kinds_on
from ..models.spark import SparkFactors, train_als
from ..models.training import FINISHED, Callback, RunInfo

#: the kinds Spark's ALS trains: explicit ALS with a ridge (regParam), and implicit feedback
SPARK_KINDS = kinds_on("spark")
#: the settings Spark's ALS uses (rank, regParam, alpha, seed, maxIter, and the split)
SPARK_FIELDS = (
    "kind", "embedding_dim", "regularization_coeff", "alpha", "seed", "num_iterations",
    "holdout_fraction",
)  # fmt: skip


@dataclass(frozen=True)
class RunSpec:
    """A validated run: model configuration, split and training arguments, and its name."""

    config: ModelConfig
    split: SplitConfig
    train: TrainConfig
    name: str
    given: Split | None = None  #: a split fixed by the user, else the chapter's is drawn


def spec_split(data: Dataset, spec: RunSpec) -> Split:
    """The split a run trains on: the one given, else the chapter's random split of ``data``
    from the run's seed and holdout fraction (what ``CFModel.from_listens`` draws)."""
    if spec.given is not None:
        return spec.given
    return random_split(data, spec.split.holdout_fraction, spec.config.seed)


def default_name(kind: str, init_stddev: float, taken: set[str], engine: str = "") -> str:
    """The chapter's run names: model, model_lowinit, reg_model (then each kind's own,
    :mod:`~mfwidgets.models.kinds`); ``engine="spark"`` prefixes them (spark_reg_model)."""
    base = KIND_SPECS[kind].run_name
    if kind == "plain" and init_stddev <= 0.1:  # (the chapter's second run)
        base = "model_lowinit"
    if engine == "spark":
        base = f"spark_{base}"
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


def run_spark(
    data: Dataset, spec: RunSpec, stop: threading.Event, reporter: Reporter
) -> SparkFactors:
    """Train Spark's ALS on ``spec``'s training split (the split CFModel would make) with the
    test error recorded: ``embedding_dim`` is the rank, ``regularization_coeff`` regParam,
    ``num_iterations`` maxIter. Raises SparkStopped on Stop."""
    config = spec.config
    if config.kind not in SPARK_KINDS:
        raise ValueError(
            f"Spark's ALS trains kind 'regularized' (explicit) or 'implicit', not {config.kind!r}"
        )
    return train_als(
        spec_split(data, spec), dataset=data, rank=config.embedding_dim,
        reg_param=config.regularization_coeff, max_iter=spec.train.num_iterations,
        implicit_prefs=config.kind == "implicit", alpha=config.alpha, seed=config.seed,
        callbacks=reporter, stop=stop,
    )  # fmt: skip


def fit_reference(data: Dataset, spec: RunSpec) -> ItemItemModel:
    """The item–item reference ``spec`` describes (EASE, item-kNN), fitted on its training
    split (the split a CFModel of the same seed would train on)."""
    return reference(data, spec_split(data, spec), spec.config)


def run_tuning(data: Dataset, spec: RunSpec, stop: threading.Event, progress) -> TuneResult:
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
