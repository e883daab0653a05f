"""Kernel interrupts for work running in a widget's thread (no UI imports here).

Python turns SIGINT into a KeyboardInterrupt in the main thread only, so a run training in a
widget's worker never sees Ctrl-C or JupyterLab's interrupt button. And ipykernel ignores SIGINT
while idle: it installs Python's default handler only while it handles a message (a cell, a
click) and puts its idle handler back afterwards. :func:`stop_on_interrupt` therefore installs
the stop as the handler of the moment and, inside ipykernel, as its idle handler too; each
chains to the handler it replaced.
"""

from __future__ import annotations

import signal
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any


def _kernel() -> Any:
    """The running ipykernel, when there is one (the IPython module is only looked up)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None)


def _chained(stop: weakref.WeakMethod, previous: Any) -> Callable:
    def handler(signum: int, frame: Any) -> None:
        fn = stop()
        if fn is not None:
            fn()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            raise KeyboardInterrupt

    handler.stops = stop  # (to recognise a handler already installed for this owner)
    handler.previous = previous
    return handler


def _installed(handler: Any, stop: weakref.WeakMethod) -> bool:
    while handler is not None:
        if getattr(handler, "stops", None) == stop:
            return True
        handler = getattr(handler, "previous", None)
    return False


def stop_on_interrupt(stop: Callable[[], Any]) -> bool:
    """From now on a SIGINT first calls ``stop`` (a bound method, held weakly: a closed widget
    is not kept alive), then the handler it replaced. Call it from the main thread; elsewhere,
    and when already installed for ``stop``, it does nothing. True when installed now."""
    if threading.current_thread() is not threading.main_thread():
        return False
    ref = weakref.WeakMethod(stop)
    current = signal.getsignal(signal.SIGINT)
    if _installed(current, ref):
        return False
    kernel = _kernel()
    idle = getattr(kernel, "saved_sigint_handler", None) if kernel is not None else None
    if idle is not None and not _installed(idle, ref):
        kernel.saved_sigint_handler = _chained(ref, idle)  # what ipykernel restores when idle
    signal.signal(signal.SIGINT, _chained(ref, current))
    return True
