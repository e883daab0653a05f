"""Small pieces shared by the widgets: escaping, status lines, handlers that never raise."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ..data.dataset import Dataset

log = logging.getLogger("mfwidgets.widgets")

_COLORS = {
    "info": "#555",
    "running": "#1565c0",
    "ok": "#2e7d32",
    "warn": "#ef6c00",
    "error": "#c62828",
}


def escape(value: Any) -> str:
    """HTML-escape any user-supplied value (artist names, tags, messages)."""
    return html.escape(str(value), quote=True)


class StatusLine(W.HTML):
    """A one-line status message; text is always escaped."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("mf-status")
        self.text = ""
        self.level = "info"

    def show(self, text: str, level: str = "info") -> None:
        self.text, self.level = text, level
        color = _COLORS.get(level, _COLORS["info"])
        self.value = f'<span style="color:{color}">{escape(text)}</span>'


def safe(status: StatusLine) -> Callable:
    """Decorator: an exception in a widget handler becomes a short message in ``status``.

    The traceback goes to the log (debug level), never into the notebook; the widget stays
    usable.
    """

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # shown to the user instead of raised
                log.debug("widget handler failed", exc_info=True)
                status.show(f"{type(exc).__name__}: {exc}", "error")
                return None

        return handler

    return wrap


def check_dataset(data: Any) -> Dataset:
    if not isinstance(data, Dataset):
        raise TypeError(
            f"data must be a Dataset (load_lastfm(), Dataset.from_dataframe()); got "
            f"{type(data).__name__}"
        )
    return data


#: runs shown side by side at most (explorer tables, board columns): a new run joins the shown,
#: the oldest shown drops out, so a widget keeps up in the same time at fifty runs as at five
MAX_SHOWN = 8


def runs_shown(
    names: list[str], offered: tuple[str, ...], picked: tuple[str, ...], pinned: list[str] = ()
) -> list[str]:
    """The runs to show once the registry holds ``names``: the ``pinned`` ones, then those the
    user ``picked`` among the runs ``offered`` so far and every new one, the latest of them, up
    to MAX_SHOWN in all (pinned runs are always shown)."""
    rest = [n for n in names if (n in picked or n not in offered) and n not in pinned]
    room = max(MAX_SHOWN - len(pinned), 0)
    keep = set(pinned) | set(rest[max(len(rest) - room, 0) :] if room else [])
    return [n for n in names if n in keep]


class Following:
    """What the widgets that follow runs and work in the background share (a mixin before
    ``W.VBox``): ``wait()`` for their worker, ``close()`` that stops it and the following."""

    _worker: Any = None  # a LatestWorker, when the widget has one
    _unobserve: Callable[[], None] | None = None  # stops following the registry

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the background work is done; True when it is."""
        return self._worker.wait(timeout) if self._worker is not None else True

    def close(self) -> None:
        """Stop the background work and stop following the runs (then the widget closes)."""
        if self._worker is None and self._unobserve is None:  # (a constructor that raised)
            return super().close()
        if self._unobserve is not None:
            self._unobserve()
        if self._worker is not None:
            self._worker.close()
        self._closing()
        super().close()

    def _closing(self) -> None:
        """Anything else the widget lets go of when closed."""
