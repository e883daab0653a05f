"""The trainer's runs panel: the runs list (pick, pin, rename, remove), the files (save, load)
and what happens when the registry changes. A part of :class:`~.trainer.TrainerWidget`, which it
is mixed into; it holds no maths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as W

from ..analysis.evaluation import global_mean_mse
from ..models.cfmodel import CFModel
from ..models.contract import has_factors
from ..models.exchange import save_factors
from .controls import STYLE


class RunsPanel:
    """The runs list and the file row of a trainer (its ``runs``, ``model``, ``status``,
    ``curves``, ``busy`` and ``_sync_enabled`` are the trainer's)."""

    def _build_runs(self, guard) -> None:
        """The runs list, its buttons and the file row, wired to their actions."""
        self.runs_pick = W.Dropdown(options=[], description="runs", style=STYLE)
        self.runs_pick.add_class("mf-runs")
        self.runs_pick.observe(guard(self._on_pick_run), names="value")
        self.path = W.Text("", description="file", placeholder="run.mfmodel", style=STYLE)
        self.save_button = W.Button(description="Save", icon="save")
        self.load_button = W.Button(description="Load", icon="folder-open")
        tip = "let go of the picked run (and its memory)"
        self.remove_button = W.Button(description="Remove", icon="trash", tooltip=tip)
        self.remove_button.add_class("mf-remove")
        tip = "pinned runs stay shown in the widgets that follow this trainer"
        self.pin_button = W.ToggleButton(description="Pin", icon="thumb-tack", tooltip=tip)
        self.pin_button.add_class("mf-pin")
        self.new_name = W.Text("", placeholder="new name", layout=W.Layout(width="140px"))
        self.rename_button = W.Button(description="Rename", icon="pencil")
        self.rename_button.add_class("mf-rename")
        self.pin_button.observe(
            guard(lambda c: self._quiet or self.pin(pinned=c["new"])), names="value"
        )
        self.rename_button.on_click(guard(lambda _: self.rename(self.new_name.value)))
        self.save_button.on_click(guard(lambda _: self.save()))
        self.load_button.on_click(guard(lambda _: self.load()))
        self.remove_button.on_click(guard(lambda _: self.remove()))

    def _runs_row(self) -> list[W.Widget]:
        return [self.runs_pick, self.pin_button, self.new_name, self.rename_button,
                self.remove_button]  # fmt: skip

    def remove(self, name: str | None = None) -> None:
        """Let go of run ``name`` (default: the picked one): the registry drops it, and so do
        the widgets that follow it. Refused while a run trains."""
        if self.busy:
            raise ValueError("a run is training: stop it before removing a run")
        name = name or self.runs_pick.value
        if name is None:
            raise ValueError("no run to remove")
        self.runs.remove(name)
        self.status.show(f"removed run {name!r}", "ok")

    def rename(self, new: str, name: str | None = None) -> None:
        """Call run ``name`` (default: the picked one) ``new``; refused while a run trains."""
        if self.busy:
            raise ValueError("a run is training: rename runs when it has ended")
        name = name or self.runs_pick.value
        if name is None:
            raise ValueError("no run to rename")
        self.runs.rename(name, new)
        self.new_name.value = ""
        self.status.show(f"renamed run {name!r} to {new.strip()!r}", "ok")

    def pin(self, name: str | None = None, pinned: bool = True) -> None:
        """Pin run ``name`` (default: the picked one; ``pinned=False`` unpins it): the explorer,
        board and map following this trainer keep showing it as newer runs come."""
        name = name or self.runs_pick.value
        if name is None:
            raise ValueError("no run to pin")
        self.runs.pin(name, pinned)
        self.status.show(f"{'pinned' if pinned else 'unpinned'} run {name!r}", "ok")

    def add_run(self, name: str, model: CFModel) -> None:
        """Keep a model trained in code as a run (widgets following this trainer see it); an
        existing run of that name is replaced."""
        if not isinstance(model, CFModel):
            raise TypeError(f"model must be a CFModel, got {type(model).__name__}")
        if self.busy:
            raise RuntimeError("a run is in progress: add the model when it has finished")
        self.runs.add(name.strip() if isinstance(name, str) else name, model)

    def save(self, path: str | None = None) -> Path | None:
        if self.model is None:
            self.status.show("nothing to save yet: train a model first", "warn")
            return None
        name = self.runs_pick.value or "model"
        if not has_factors(self.model):
            self.status.show(f"{name} has no factors to save: fit it again (seconds)", "warn")
            return None
        if isinstance(self.model, CFModel):
            written = self.model.save(Path(path or self.path.value or f"{name}.mfmodel"))
        else:  # factors from another engine: ids, names and factors (load_factors reads them)
            written = save_factors(self.model, path or self.path.value or f"{name}.npz", self.data)
        self.status.show(f"saved {name} to {written}", "ok")
        return written

    def load(self, path: str | None = None) -> CFModel:
        source = Path(path or self.path.value)
        if not str(source) or source == Path():
            raise ValueError("type the path of a saved model in the file box first")
        model = CFModel.load(source, listens=self.data)
        name = source.stem
        while name in self.runs:
            name += "_loaded"
        self.runs.add(name, model)
        self.status.show(f"loaded {source} as {name!r}", "ok")
        return model

    def _announce(self, name: str, model: CFModel) -> None:
        """Tell the registry (and so every widget following it) that ``name`` has trained."""
        try:
            self.runs.add(name, model)
        except Exception as exc:  # (a registry observer's failure is logged by the registry)
            self._failed(exc)

    def _release_others(self, model: CFModel) -> None:
        """Only the run being trained keeps its compiled machinery: the others keep their
        factors and history (Continue on one of them compiles again), so memory follows what
        is kept."""
        for other in self.runs.as_dict().values():
            if other is not model and isinstance(other, CFModel) and not other.is_training:
                other.release()

    def _on_new_run(self, name: str) -> None:
        """A run was added to the registry (by Train, Load or add_run): show it. A removed run
        leaves the list; when it was the one shown, the latest is shown instead. A rename or a
        pin only relabels the list."""
        if self.runs.last_change in ("renamed", "pinned"):
            self._list_runs(self._name_of(self.model))
            return
        if name not in self.runs:
            if self.busy:  # (the run in progress stays the trainer's model)
                self._list_runs(self._name_of(self.model))
                return
            kept = self.model if self._name_of(self.model) is not None else None
            self.model = kept or self.runs.latest
            self._list_runs(self._name_of(self.model))
            if self.model is not None:
                self.curves.draw_now(self.model)
            self._sync_enabled()
            return
        self.model = self.runs[name]
        self.curves.baseline = global_mean_mse(self.model)
        self._list_runs(name)
        self.w["name"].value = ""
        suffix = ".mfmodel" if isinstance(self.model, CFModel) else ".npz"
        self.path.placeholder = f"{name}{suffix}"
        if not self.busy:  # (a run in progress draws and writes its image when it ends)
            self.curves.draw_now(self.model)
            self._sync_enabled()
            self.curves.write_static_image(self.model)

    def _name_of(self, model: Any) -> str | None:
        return next((n for n in self.runs if self.runs[n] is model), None)

    def _list_runs(self, pick: str | None) -> None:
        """The runs list (pinned runs marked) with ``pick`` chosen, and the Pin button showing
        whether it is pinned; nothing is redrawn."""
        pinned = set(self.runs.pinned)
        self._quiet = True
        try:
            self.runs_pick.options = [(f"📌 {n}" if n in pinned else n, n) for n in self.runs]
            self.runs_pick.value = pick if pick in self.runs else None
            self.pin_button.value = pick in pinned
        finally:
            self._quiet = False

    def _on_pick_run(self, change) -> None:
        if self._quiet:
            return
        self._quiet = True  # the Pin button follows the pick
        self.pin_button.value = change["new"] in self.runs.pinned
        self._quiet = False
        if change["new"] and change["new"] in self.runs and not self.busy:
            self.model = self.runs[change["new"]]
            self.curves.baseline = global_mean_mse(self.model)
            self.curves.draw_now(self.model)
            self._sync_enabled()
