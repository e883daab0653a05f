"""Where the trainer's runs train: TensorFlow here, Spark's ALS, or a closed-form fit.

Each engine says which kinds it trains (the kinds' own ``engines``, :mod:`~mfwidgets.models.kinds`),
which settings it reads, whether its runs continue and tune, and runs one job on the training
thread, reporting through a :class:`RunContext`. The trainer holds no engine's particulars: a
further engine is one more class here, listed in :data:`ENGINES`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..data.dataset import Dataset
from ..memory import give_back
from ..models.cfmodel import CFModel
from ..models.itemitem import reference
from ..models.kinds import Kind, kinds_on
from ..models.spark import SparkStopped, spark_unavailable, train_als
from ..models.training import FINISHED, TrainingDiverged
from .jobs import JobSpec, Reporter, StageReporter, spec_split


@dataclass
class RunContext:
    """What an engine's job sees of the trainer: the data, the run, and where to report."""

    data: Dataset
    spec: JobSpec
    new: bool  #: a new run (else the current ``model`` trains further)
    model: Any
    name: str
    stop: threading.Event  #: set by Stop (a CFModel also gets ``request_stop``)
    show: Callable[[str, str], None]  #: the status line: (text, level)
    progress: Callable[[tuple], None]  #: the bar: (done, total, seconds, running[, unit])
    record: Callable[[Any], None]  #: the live curves: a model at a record
    begin: Callable[[Any], None]  #: a new model is now the trainer's (before it trains)
    keep: Callable[[str, Any], None]  #: the run joins the registry
    report: Callable[[str, Any, str, float], None]  #: (name, model, reason, seconds) → status
    failed: Callable[[str, str], None]  #: (error, shown): the run ended in an error


class Engine:
    """An engine as the trainer sees it (the base: no kinds, nothing to run)."""

    name = ""  #: as the kinds name it (:data:`~mfwidgets.models.kinds.ENGINES`)
    label = ""  #: the engine dropdown's words ("": never chosen; the kind's own engine)
    continues = False  #: Continue trains its runs further
    tunes = False  #: Tune is offered
    sweeps = False  #: its iterations are ALS sweeps (tens, not the chapter's 1,000 steps)
    prefix = ""  #: the default run names' prefix (spark_reg_model)
    #: the settings it reads (None: those the kind and the optimizer read)
    fields: tuple[str, ...] | None = None

    def unavailable(self) -> str | None:
        """Why it is not offered on this machine, or None."""
        return None

    def kinds(self) -> tuple[str, ...]:
        """The kinds it trains."""
        return kinds_on(self.name)

    def run(self, ctx: RunContext) -> None:
        """Train ``ctx.spec`` (on the training thread); an exception is shown by the trainer."""
        raise NotImplementedError

    def describe(self, model: Any) -> str:
        """Where a finished run stands, for the status line."""
        return ""


class TensorFlowEngine(Engine):
    """A CFModel trained here, by gradient descent or ALS; Stop keeps what was done."""

    name, label, continues, tunes = "tensorflow", "TensorFlow (this machine)", True, True

    def run(self, ctx: RunContext) -> None:
        t0 = time.perf_counter()
        spec, model = ctx.spec, ctx.model
        try:
            if ctx.new:
                ctx.show(f"building {ctx.name} (the first model also loads TensorFlow)…",
                         "running")  # fmt: skip
                model = CFModel(spec_split(ctx.data, spec), config=spec.config, dataset=ctx.data)
                ctx.begin(model)
            ctx.show(f"running {ctx.name}: {spec.train.num_steps} steps", "running")
            reporter = Reporter(ctx.progress, ctx.record, ctx.stop)
            model.train(config=spec.train, callbacks=reporter)
            ctx.report(ctx.name, model, reporter.reason, time.perf_counter() - t0)
        except TrainingDiverged as exc:
            ctx.failed(str(exc), f"diverged: {exc}")
        finally:
            give_back()  # the run's temporary buffers go back to the system, not to the heap
            if model is not None:  # the run joins (or, continued, is announced again) once
                ctx.keep(ctx.name, model)  # trained: followers never work on a half-run

    def describe(self, model: Any) -> str:
        return f"at iteration {model.iterations_done}"


#: the settings Spark's ALS uses (rank, regParam, alpha, seed, maxIter, and the split)
SPARK_FIELDS = (
    "kind", "embedding_dim", "regularization_coeff", "alpha", "seed", "num_iterations",
    "holdout_fraction",
)  # fmt: skip


class SparkEngine(Engine):
    """Spark's ALS on the same split: ``embedding_dim`` is the rank, ``regularization_coeff``
    regParam, ``num_iterations`` maxIter; a Stop keeps nothing (Spark has no partial
    factors)."""

    name, label, sweeps, prefix = "spark", "Spark ALS (local or cluster)", True, "spark"
    fields = SPARK_FIELDS

    def unavailable(self) -> str | None:
        return spark_unavailable()

    def run(self, ctx: RunContext) -> None:
        t0, spec, config = time.perf_counter(), ctx.spec, ctx.spec.config
        if config.kind not in self.kinds():
            raise ValueError(
                f"Spark's ALS trains kind {' or '.join(map(repr, self.kinds()))}, not "
                f"{config.kind!r}"
            )
        ctx.show(f"running {spec.name} on Spark (the first run also starts a local Spark)…",
                 "running")  # fmt: skip
        try:
            model = train_als(
                spec_split(ctx.data, spec), dataset=ctx.data, rank=config.embedding_dim,
                reg_param=config.regularization_coeff, max_iter=spec.train.num_iterations,
                implicit_prefs=config.implicit, alpha=config.alpha, seed=config.seed,
                callbacks=StageReporter(ctx.progress, ctx.record), stop=ctx.stop,
            )  # fmt: skip
        except SparkStopped:
            ctx.show("stopped: Spark keeps no partial factors, so no run was added", "warn")
            return
        ctx.keep(spec.name, model)
        ctx.report(spec.name, model, FINISHED, time.perf_counter() - t0)

    def describe(self, model: Any) -> str:
        sweeps = int(model.history.iloc[-1]["iteration"])
        return (
            f"on Spark ALS ({sweeps} sweeps, Spark start-up "
            f"{model.params['startup_seconds']:.1f} s)"
        )


class ClosedFormEngine(Engine):
    """The item–item references (EASE, item-kNN): one fit, no steps; a Stop during the fit
    discards it."""

    name = "closed form"

    def run(self, ctx: RunContext) -> None:
        t0, name = time.perf_counter(), ctx.spec.name
        ctx.show(f"fitting {name} (closed form: no steps to show)…", "running")
        ctx.progress((0, 1, 0.0, True, "fit"))
        model = reference(ctx.data, spec_split(ctx.data, ctx.spec), ctx.spec.config)
        ctx.progress((1, 1, time.perf_counter() - t0, False, "fit"))
        if ctx.stop.is_set():
            ctx.show(f"stopped: the fit of {name} was discarded", "warn")
            return
        ctx.keep(name, model)
        ctx.show(
            f"fitted {name}: {model!r} in {time.perf_counter() - t0:.1f} s; it has no factors "
            "(no curves, no map): its neighbours are in the explorer, its rankings in the board",
            "ok",
        )


#: every engine by name; the trainer's dropdown offers those with a label
ENGINES: dict[str, Engine] = {
    e.name: e for e in (TensorFlowEngine(), SparkEngine(), ClosedFormEngine())
}


def engine_for(kind: Kind, chosen: str) -> Engine:
    """The engine a run of ``kind`` trains on: the one chosen when the kind trains there, else
    the kind's own (a reference's closed form)."""
    return ENGINES[chosen if chosen in kind.engines else kind.engines[0]]
