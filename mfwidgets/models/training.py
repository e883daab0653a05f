"""The training engine, with no TensorFlow in it: callbacks, the metric history, end reasons, and
:class:`TrainingCall`, which schedules compiled calls, keeps the step budget, defers Ctrl-C and
rolls back after divergence. ``CFModel.train`` hands it a :class:`Stepper` and a
:class:`TrainingState`; the engine knows nothing of the model's maths.

A training run reports through :class:`Callback` hooks (the seam the TrainerWidget uses, and any
logger or test can use): ``on_train_begin``, ``on_progress`` after every fused block of steps,
``on_record`` at each recorded iteration with the metrics dict, and ``on_train_end`` with one of
:data:`END_REASONS`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

log = logging.getLogger(__name__)

FINISHED, STOPPED, DIVERGED, INTERRUPTED = "finished", "stopped", "diverged", "interrupted"
END_REASONS = (FINISHED, STOPPED, DIVERGED, INTERRUPTED)


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the embeddings were restored to the last finite record."""

    def __init__(
        self, iteration: int, metric: str, learning_rate: float | None, optimizer: str = "sgd"
    ) -> None:
        if optimizer == "als":
            hint = "try a larger regularization_coeff"
        elif learning_rate:
            hint = f"try a smaller learning rate than {learning_rate:g}"
        else:
            hint = "try a smaller learning rate"
        super().__init__(
            f"training diverged at iteration {iteration}: {metric} is not finite; the embeddings "
            f"were restored to the last finite recorded state ({hint})"
        )
        self.iteration = iteration
        self.metric = metric


@dataclass(frozen=True)
class RunInfo:
    """What a run is about to do (given to ``on_train_begin``) or did (``on_train_end``)."""

    start_iteration: int  #: steps already taken before this run
    num_steps: int  #: gradient steps (or ALS sweeps) this run takes
    optimizer: str
    learning_rate: float | None
    steps_done: int = 0
    seconds: float = 0.0
    error: str = ""  #: the message of the exception that ended the run, if any


class Callback:
    """Base class: override the hooks you need. Hooks run on the training thread."""

    def on_train_begin(self, model: Any, info: RunInfo) -> None:
        """Called once, before the first step."""

    def on_progress(self, model: Any, steps_done: int, num_steps: int, seconds: float) -> None:
        """Called after each fused block of steps (a few per second at most is typical)."""

    def on_record(
        self, model: Any, iteration: int, metrics: dict[str, float], seconds: float
    ) -> None:
        """Called at each recorded iteration with the metrics computed there."""

    def on_train_end(self, model: Any, reason: str, info: RunInfo) -> None:
        """Called once with a reason in END_REASONS, also when training raised."""


class CallbackList(Callback):
    """Fan one call out to many callbacks; a failing callback is logged, never fatal."""

    def __init__(self, callbacks: Iterable[Callback] | Callback | None) -> None:
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be mfwidgets.training.Callback instances, got {type(cb)}"
                )

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            try:
                getattr(cb, hook)(*args)
            except (KeyboardInterrupt, TrainingDiverged):
                raise
            except Exception:
                log.exception("callback %s.%s failed", type(cb).__name__, hook)

    def on_train_begin(self, model, info):
        self._call("on_train_begin", model, info)

    def on_progress(self, model, steps_done, num_steps, seconds):
        self._call("on_progress", model, steps_done, num_steps, seconds)

    def on_record(self, model, iteration, metrics, seconds):
        self._call("on_record", model, iteration, metrics, seconds)

    def on_train_end(self, model, reason, info):
        self._call("on_train_end", model, reason, info)


class History:
    """Recorded metrics, one row per recorded iteration (pure data; renderers live elsewhere)."""

    def __init__(self) -> None:
        self._rows: list[dict[str, float]] = []

    def append(self, iteration: int, metrics: dict[str, float], seconds: float) -> None:
        self._rows.append({"iteration": iteration, **metrics, "seconds": seconds})

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def last(self) -> dict[str, float] | None:
        return dict(self._rows[-1]) if self._rows else None

    def to_frame(self) -> pd.DataFrame:
        """Columns ``iteration``, one per metric, and ``seconds`` (training time so far)."""
        df = pd.DataFrame(self._rows[: len(self._rows)])  # (a copy: training may append)
        if df.empty:
            return pd.DataFrame({"iteration": pd.Series(dtype="int64")})
        df["iteration"] = df["iteration"].astype("int64")
        return df

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> History:
        hist = cls()
        hist._rows = [
            {k: (int(v) if k == "iteration" else float(v)) for k, v in row.items()}
            for row in df.to_dict("records")
        ]
        return hist


class StepBudget:
    """How many steps to fuse into one compiled call.

    A call has a fixed cost of about half a step, so calls should be long; but Stop and progress
    are seen only between calls, so a call should last about ``seconds``. Sized from the last
    call's measured seconds per step (the first call, which traces, makes the next one short).
    """

    def __init__(self, seconds: float = 0.2, first: int = 1, most: int = 1000) -> None:
        self.seconds, self.most, self._steps = seconds, most, first

    def steps(self) -> int:
        return self._steps

    def observe(self, steps: int, seconds: float) -> None:
        if steps > 0:
            fit = self.seconds * steps / max(seconds, 1e-9)
            self._steps = int(min(self.most, max(1.0, fit)))


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) that arrives inside the block until the block has finished.

    A compiled call's steps are then always counted with the embeddings they produced. Only the
    main thread receives signals; elsewhere this does nothing, and so it does where SIGINT is
    ignored (a process started in the background by a non-interactive shell begins so: there
    Ctrl-C is no interrupt, and a held one would be dropped).
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    ):
        yield
        return
    held: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        if callable(previous):
            previous(signal.SIGINT, held[0])
        else:  # SIG_DFL (or None: set outside Python)
            raise KeyboardInterrupt


def first_non_finite(metrics: dict[str, float]) -> str | None:
    """Name of the first metric that is NaN or infinite, or None."""
    return next((k for k, v in metrics.items() if not math.isfinite(v)), None)


# ------------------------------------------------------------------------------------------------
# the engine
# ------------------------------------------------------------------------------------------------
@dataclass
class TrainingState:
    """What training changes besides the factors: the count, the history, the clock, a version.

    ``version`` changes whenever the factors change (caches above the models key on it).
    """

    history: History = field(default_factory=History)
    steps: int = 0
    seconds: float = 0.0
    version: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    budgets: dict[str, StepBudget] = field(default_factory=dict)  #: per optimizer name

    def count(self, k: int) -> None:
        self.steps += k
        self.version += 1


class Stepper(Protocol):
    """What the engine drives: a model's compiled functions for one optimizer
    (:class:`.kernels.Stepper`)."""

    def records(self, ks: list[int]) -> tuple[list[list[float]], list[float]]:
        """For each ks[j]: metrics at the current factors (a row), then ks[j] steps; stops
        after a non-finite row. Returns the rows and each row's wall-clock time."""

    def steps(self, k: int) -> None:
        """``k`` steps, no metrics."""

    def roll_back(self) -> None:
        """Back to the factors of the last finite record."""

    def all_finite(self) -> bool: ...


class TrainingCall:
    """One call to ``train``: records and steps in as few compiled calls as fit the budget.

    The count and history always catch up with the factors before any callback runs, so an
    exception in a callback (or a Ctrl-C, held during each call) leaves them consistent. After a
    non-finite metric or factor, the factors go back to the last finite record and
    :class:`TrainingDiverged` is raised.
    """

    def __init__(
        self,
        model: Any,
        state: TrainingState,
        stepper: Stepper,
        name_metrics: Callable[[list[float]], dict[str, float]],
        info: RunInfo,
        record_every: int,
        callbacks: CallbackList,
        snapshot: tuple[int, Callable[[int], None]] | None = None,
    ) -> None:
        self.model, self.state, self.stepper = model, state, stepper
        # (every, take): take(steps) keeps the factors at every ``every``-th local step and at
        # the end; record_every must divide ``every``, so each such step starts a call
        self.snapshot = snapshot
        self.name_metrics, self.info, self.cbs = name_metrics, info, callbacks
        self.budget = state.budgets.setdefault(info.optimizer, StepBudget())
        n = info.num_steps - 1
        records = sorted({*range(0, n + 1, record_every), n})
        self.records = records
        bounds = [*records[1:], info.num_steps]  # steps run after each record, up to the next
        self.schedule = [stop_at - i for i, stop_at in zip(records, bounds, strict=True)]
        self.start = state.steps
        self.t0 = time.perf_counter()
        self.seconds0 = state.seconds

    def elapsed(self) -> float:
        return self.seconds0 + time.perf_counter() - self.t0

    def run(self) -> dict[str, float] | None:
        """Train; return the last recorded metrics (None if nothing was recorded)."""
        self.state.stop.clear()
        self.cbs.on_train_begin(self.model, self.info)
        reason, last, error = FINISHED, None, ""
        try:
            last, reason = self._run_schedule()
            if not self.stepper.all_finite():
                self._diverged("an embedding")
            if self.snapshot is not None:  # where the call ends
                self.snapshot[1](self.state.steps)
            previous = self.state.history.last
            if reason == STOPPED and (
                previous is None or previous["iteration"] != self.state.steps
            ):
                last = self._records([0])  # the curve ends where the model stands
        except TrainingDiverged as exc:
            reason, error = DIVERGED, str(exc)
            raise
        except KeyboardInterrupt:
            reason = INTERRUPTED
            raise
        finally:
            self.state.seconds = self.elapsed()
            done = max(0, self.state.steps - self.start)
            end = RunInfo(
                self.start, self.info.num_steps, self.info.optimizer, self.info.learning_rate,
                done, time.perf_counter() - self.t0, error,
            )  # fmt: skip
            self.cbs.on_train_end(self.model, reason, end)
        return last

    def _snapshot_at(self, j: int) -> bool:
        return self.snapshot is not None and self.records[j] % self.snapshot[0] == 0

    def _run_schedule(self) -> tuple[dict[str, float] | None, str]:
        schedule, j, last = self.schedule, 0, None
        while j < len(schedule):
            if self.state.stop.is_set():
                return last, STOPPED
            if self._snapshot_at(j):  # the factors now are those of record j
                self.snapshot[1](self.state.steps)
            # as many whole records as fit the budget; a long last one finishes in steps; a
            # snapshot's record starts a call of its own
            room, ks = self.budget.steps(), []
            while j < len(schedule) and (
                not ks or (schedule[j] <= room and not self._snapshot_at(j))
            ):
                ks.append(min(schedule[j], room))
                room -= ks[-1]
                j += 1
            last = self._records(ks)
            if not self._steps(schedule[j - 1] - ks[-1]):
                return last, STOPPED
        return last, FINISHED

    def _steps(self, todo: int) -> bool:
        """Run ``todo`` steps in budget-sized calls; False when a stop came first."""
        while todo > 0 and not self.state.stop.is_set():
            k = min(todo, self.budget.steps())
            t = time.perf_counter()
            with deferred_interrupt():
                self.stepper.steps(k)
                self.state.count(k)
            self.budget.observe(k, time.perf_counter() - t)
            self.cbs.on_progress(
                self.model, self.state.steps - self.start, self.info.num_steps, self.elapsed()
            )
            todo -= k
        return todo <= 0

    def _records(self, ks: list[int]) -> dict[str, float]:
        """Records, each followed by its steps, in one compiled call."""
        state = self.state
        wall, started, t = time.time(), self.elapsed(), time.perf_counter()
        recorded, bad = [], None
        with deferred_interrupt():
            rows, times = self.stepper.records(ks)
            for row, at, k in zip(rows, times, ks[: len(rows)], strict=True):
                metrics = self.name_metrics(row)
                if bad := first_non_finite(metrics):
                    break
                state.history.append(state.steps, metrics, started + max(at - wall, 0))
                recorded.append((state.steps, metrics, k))
                state.count(k)
        self.budget.observe(sum(ks), time.perf_counter() - t)
        for iteration, metrics, k in recorded:
            if k:
                self.cbs.on_progress(
                    self.model, iteration + k - self.start, self.info.num_steps, self.elapsed()
                )
            self.cbs.on_record(self.model, iteration, metrics, self.elapsed())
        if bad:
            self._diverged(bad)
        return recorded[-1][1]

    def _diverged(self, what: str) -> None:
        """Restore the last finite record (count included) and raise TrainingDiverged."""
        at = self.state.steps
        self.stepper.roll_back()
        last = self.state.history.last
        self.state.steps = int(last["iteration"]) if last is not None else 0
        self.state.version += 1
        raise TrainingDiverged(at, what, self.info.learning_rate, self.info.optimizer)
