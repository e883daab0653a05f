"""Training bookkeeping with no TensorFlow in it: callbacks, the metric history, end reasons.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

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
        df = pd.DataFrame(self._rows)
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
    main thread receives signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
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
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


def first_non_finite(metrics: dict[str, float]) -> str | None:
    """Name of the first metric that is NaN or infinite, or None."""
    return next((k for k, v in metrics.items() if not math.isfinite(v)), None)
