"""Runs: the one registry of named models that widgets read and follow.

The TrainerWidget owns one (``trainer.runs``); a dict name -> model, a list of models or a single
model also work wherever runs are expected (:meth:`Runs.of`). Observers hear of each run added,
so a widget made from a trainer shows runs that finish later without re-running its cell.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from ..memory import give_back
from .contract import Recommender, check_model

log = logging.getLogger(__name__)

Observer = Callable[["Runs", str], None]


class Runs:
    """Named models in insertion order; ``observe(fn)`` calls ``fn(runs, name)`` on each add and
    each removal (``name in runs`` tells which), and when a run is pinned or unpinned. Pinned
    runs are those widgets showing a few runs always show (see ``widgets.common.runs_shown``)."""

    def __init__(self, models: dict[str, Any] | None = None) -> None:
        self._models: dict[str, Any] = {}
        self._pinned: set[str] = set()
        # values derived from a run's model that several widgets need (item embeddings): held
        # weakly, so they live as long as a widget showing the run keeps them
        self._shared: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        #: what the change observers are told of was: "added", "removed", "renamed", "pinned"
        self.last_change = ""
        self._observers: list[Observer] = []
        self._lock = threading.Lock()
        for name, model in (models or {}).items():
            self.add(name, model)

    @classmethod
    def of(cls, source: Any, name: str = "models") -> Runs:
        """The runs behind ``source``: a Runs, an owner of one (``.runs``, e.g. a TrainerWidget),
        a dict name -> model, a list or tuple of models, or one model."""
        if isinstance(source, Runs):
            return source
        owned = getattr(source, "runs", None)
        if isinstance(owned, Runs):
            return owned
        if isinstance(source, (dict, list, tuple)) and not source:
            raise ValueError(f"{name} is empty: pass at least one model (or a trainer to follow)")
        if isinstance(source, dict):
            return cls(source)
        if isinstance(source, (list, tuple)):
            return cls({f"model {i}": m for i, m in enumerate(source)})
        if isinstance(source, Recommender):
            return cls({"model": source})
        raise TypeError(
            f"{name} must be a model, a dict name -> model, a list of models, a Runs or a "
            f"TrainerWidget; got {type(source).__name__}"
        )

    def add(self, name: str, model: Any) -> None:
        """Keep ``model`` under ``name`` (replacing a run of that name) and tell the observers."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        check_model(model)
        with self._lock:
            self._models[name] = model
        self._tell(name, "added")

    def remove(self, name: str) -> None:
        """Let go of the run ``name`` (widgets following the registry drop it); a run that is
        training is refused (stop it first)."""
        self._check_name(name)
        if getattr(self._models[name], "is_training", False):
            raise ValueError(f"run {name!r} is training: stop it before removing it")
        self._remove(name)
        give_back()  # what the run and the widgets' work on it held goes back to the system

    def clear(self) -> None:
        """Remove every run (see :meth:`remove`)."""
        training = [n for n, m in self._models.items() if getattr(m, "is_training", False)]
        if training:
            raise ValueError(f"run {training[0]!r} is training: stop it before clearing the runs")
        for name in self.names:
            self._remove(name)
        give_back()

    def _check_name(self, name: str) -> None:
        if name not in self._models:
            raise ValueError(f"no run named {name!r}; runs: {', '.join(self.names) or 'none'}")

    def _remove(self, name: str) -> None:
        with self._lock:
            del self._models[name]
            self._pinned.discard(name)
        self._tell(name, "removed")

    def rename(self, name: str, new: str) -> None:
        """Call run ``name`` ``new`` (its place in the order and its pin kept); widgets see the
        old name go and the new one come."""
        self._check_name(name)
        if not isinstance(new, str) or not new.strip():
            raise ValueError(f"new must be a non-empty string, got {new!r}")
        new = new.strip()
        if new == name:
            return
        if new in self._models:
            raise ValueError(f"a run named {new!r} exists already: remove it or pick another name")
        with self._lock:
            self._models = {new if n == name else n: m for n, m in self._models.items()}
            if name in self._pinned:
                self._pinned.discard(name)
                self._pinned.add(new)
        self._tell(name, "renamed")
        self._tell(new, "renamed")

    def pin(self, name: str, pinned: bool = True) -> None:
        """Pin run ``name`` (``pinned=False``: unpin it): widgets that show a few runs keep it."""
        self._check_name(name)
        with self._lock:
            if (name in self._pinned) == bool(pinned):
                return
            (self._pinned.add if pinned else self._pinned.discard)(name)
        self._tell(name, "pinned")

    def shared(self, name: str, key: str, make: Callable[[Any], Any], model: Any = None) -> Any:
        """``make(model)`` for run ``name``, made once and shared by the widgets following this
        registry while one of them holds it (for example the item embeddings the explorer and
        the board both use). ``make`` must return an object that can be weakly referenced.
        ``model``: the one the caller works on; when the run has gone or holds another model
        since, the value is made for it alone."""
        current = self._models.get(name)
        model = current if model is None else model
        if current is None or current is not model:
            return make(model)
        slot = (name, id(model), key)
        value = self._shared.get(slot)
        if value is None:
            value = make(model)
            self._shared[slot] = value
        return value

    @property
    def pinned(self) -> list[str]:
        """The pinned runs, in the runs' order."""
        return [n for n in self._models if n in self._pinned]

    def _tell(self, name: str, change: str) -> None:
        with self._lock:
            observers = list(self._observers)
            self.last_change = change
        for fn in observers:
            try:
                fn(self, name)
            except Exception:  # an observer's failure must not undo the change
                log.exception("runs observer %r failed", fn)

    def observe(self, fn: Observer) -> Callable[[], None]:
        """Call ``fn(runs, name)`` after each add and removal; returns a function that stops
        it."""
        with self._lock:
            self._observers.append(fn)

        def unobserve() -> None:
            with self._lock:
                if fn in self._observers:
                    self._observers.remove(fn)

        return unobserve

    @property
    def names(self) -> list[str]:
        return list(self._models)

    @property
    def latest(self) -> Any:
        """The model added last, or None."""
        return self._models[self.names[-1]] if self._models else None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._models)

    def get(self, name: str, default: Any = None) -> Any:
        return self._models.get(name, default)

    def __getitem__(self, name: str) -> Any:
        return self._models[name]

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self._models)

    def __repr__(self) -> str:
        return f"Runs({', '.join(self.names)})"
