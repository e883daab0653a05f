"""The widgets' one kind of background worker: the latest request wins (no UI imports here).

A widget submits jobs as its controls move; only the newest matters. ``submit`` replaces any
job still waiting (coalescing), and by default sets the running job's cancel flag so it can
stop at its next check; a job that fails is reported and the worker lives on; ``close`` cancels
what runs, drops what waits and refuses new jobs. The thread exists only while there is work,
and is a daemon: it never keeps a finished kernel alive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ..memory import share_arenas

log = logging.getLogger(__name__)


class Cancel(threading.Event):
    """A job's cancel flag (a ``threading.Event``): set when a newer job arrives, on ``cancel()``
    or ``close()``. ``on_set(fn)`` calls ``fn`` once when it is set (at once if it already is),
    to stop work that does not poll, such as a training run."""

    def __init__(self) -> None:
        super().__init__()
        self._hooks: list[Callable[[], Any]] = []
        self._hooks_lock = threading.Lock()

    def on_set(self, fn: Callable[[], Any]) -> None:
        with self._hooks_lock:
            if not self.is_set():
                self._hooks.append(fn)
                return
        fn()

    def set(self) -> None:
        with self._hooks_lock:
            super().set()
            hooks, self._hooks = self._hooks, []
        for fn in hooks:
            try:
                fn()
            except Exception:  # a hook's failure must not stop the cancel
                log.exception("cancel hook %r failed", fn)


Job = Callable[[Cancel], Any]


class LatestWorker:
    """Runs submitted jobs one at a time in a background thread; the latest request wins.

    ``job(cancel)`` gets its :class:`Cancel`. ``cancel_running=False`` lets a running job
    finish when another is submitted (the trainer: a run is stopped only by Stop). ``on_error``
    receives a job's exception (the widget shows it); ``failures`` counts them.
    """

    def __init__(
        self,
        on_error: Callable[[Exception], Any] | None = None,
        *,
        cancel_running: bool = True,
        name: str = "mfwidgets-worker",
    ) -> None:
        share_arenas()  # its threads reuse the process's arenas (see mfwidgets.memory)
        self.on_error = on_error
        self.cancel_running = cancel_running
        self.name = name
        self.failures = 0
        self._cond = threading.Condition()
        self._pending: Job | None = None
        self._running: Cancel | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        """True while a job runs or waits."""
        return self._thread is not None

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, job: Job) -> None:
        """Run ``job`` when the worker is free, replacing any job still waiting."""
        if not callable(job):
            raise TypeError(f"job must be callable, got {type(job).__name__}")
        with self._cond:
            if self._closed:
                raise RuntimeError(f"{self.name} is closed: it takes no more work")
            self._pending = job
            running = self._running if self.cancel_running else None
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
        if running is not None:
            running.set()  # (outside the lock: its hooks may take their own locks)

    def cancel(self) -> None:
        """Drop the waiting job and ask the running one to stop."""
        with self._cond:
            self._pending = None
            running = self._running
        if running is not None:
            running.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job runs or waits (at most ``timeout`` seconds); True when idle."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("a job cannot wait for its own worker")
        with self._cond:
            return self._cond.wait_for(lambda: self._thread is None, timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Cancel the running job, drop the waiting one, refuse new ones; True once the thread
        has ended (within ``timeout`` seconds)."""
        with self._cond:
            self._closed = True
        self.cancel()
        if threading.current_thread() is self._thread:
            return False
        return self.wait(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                job, self._pending = self._pending, None
                if job is None:
                    self._running = self._thread = None
                    self._cond.notify_all()
                    return
                cancel = self._running = Cancel()
                if self._closed:
                    cancel.set()
            try:
                job(cancel)
            except Exception as exc:  # reported; the worker lives on
                self.failures += 1
                log.debug("%s: job failed", self.name, exc_info=True)
                if self.on_error is not None:
                    try:
                        self.on_error(exc)
                    except Exception:
                        log.exception("%s: on_error failed", self.name)
            with self._cond:
                self._running = None
