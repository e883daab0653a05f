"""Rate limiting for UI updates sent from training threads (no UI imports here)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
_NOTHING: Any = object()


class Throttle(Generic[T]):
    """Call ``fn(value)`` at most once per ``interval`` seconds, always with the latest value.

    ``submit`` may be called from any thread and as often as wanted; a value submitted during
    the quiet period is delivered by a timer when it ends, so the last state is never lost.
    ``flush`` delivers a pending value at once (call it when a run ends). With ``cost_factor``,
    the quiet period is also at least that many times what the last call took, so a costly
    redraw slows itself down instead of the work it reports on.
    """

    def __init__(
        self, fn: Callable[[T], Any], interval: float = 0.25, cost_factor: float = 0.0
    ) -> None:
        if interval < 0:
            raise ValueError(f"interval must be >= 0 seconds, got {interval!r}")
        self._fn = fn
        self.interval = interval
        self.cost_factor = cost_factor
        self._cost = 0.0
        self._lock = threading.Lock()  # guards the fields below
        self._call_lock = threading.RLock()  # serialises deliveries, in order
        self._pending: Any = _NOTHING
        self._last = float("-inf")
        self._timer: threading.Timer | None = None
        self.calls = 0

    def submit(self, value: T) -> None:
        with self._lock:
            self._pending = value
            if self._timer is not None:  # a delivery is due: it carries the latest value (a
                return  # timer running late must not let a direct delivery slip in before it)
            gap = max(self.interval, self.cost_factor * self._cost)
            wait = self._last + gap - time.monotonic()
            if wait > 0:
                self._timer = threading.Timer(wait, self._deliver)
                self._timer.daemon = True
                self._timer.start()
                return
            # claim the slot before delivering outside the lock: a submit racing in from
            # another thread now waits for the quiet period instead of delivering too
            self._last = time.monotonic()
        self._deliver()

    def flush(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._deliver()

    def cancel(self) -> None:
        """Drop a pending value and its timer (the widget is closing)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._pending = _NOTHING

    def _deliver(self) -> None:
        with self._call_lock:
            with self._lock:
                self._timer = None
                value, self._pending = self._pending, _NOTHING
                if value is _NOTHING:
                    return
                self._last = time.monotonic()
            self.calls += 1
            t0 = time.monotonic()
            try:
                self._fn(value)
            except Exception:  # a UI refresh must never kill the training thread
                log.exception("throttled update failed")
            self._cost = time.monotonic() - t0
