"""Runs: the one registry of named models that widgets read and follow.

The TrainerWidget owns one (``trainer.runs``); a dict name -> model, a list of models or a single
model also work wherever runs are expected (:meth:`Runs.of`). Observers hear of each run added,
so a widget made from a trainer shows runs that finish later without re-running its cell.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .contract import FactorModel, check_model

log = logging.getLogger(__name__)

Observer = Callable[["Runs", str], None]


class Runs:
    """Named models in insertion order; ``observe(fn)`` calls ``fn(runs, name)`` on each add and
    each removal (``name in runs`` tells which)."""

    def __init__(self, models: dict[str, Any] | None = None) -> None:
        self._models: dict[str, Any] = {}
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
        if isinstance(source, FactorModel):
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
        self._tell(name)

    def remove(self, name: str) -> None:
        """Let go of the run ``name`` (widgets following the registry drop it); a run that is
        training is refused (stop it first)."""
        if name not in self._models:
            raise ValueError(f"no run named {name!r}; runs: {', '.join(self.names) or 'none'}")
        if getattr(self._models[name], "is_training", False):
            raise ValueError(f"run {name!r} is training: stop it before removing it")
        with self._lock:
            del self._models[name]
        self._tell(name)

    def clear(self) -> None:
        """Remove every run (see :meth:`remove`)."""
        for name in self.names:
            self.remove(name)

    def _tell(self, name: str) -> None:
        with self._lock:
            observers = list(self._observers)
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
