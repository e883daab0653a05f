"""TrainerWidget: train models by clicking, with a live progress bar and live plots.

Training runs in a background thread (the kernel stays free, Stop works within a fraction of a
second), reports through the core's callbacks, and redraws one offline chart per metric panel
in place, at most once a second while a run is in progress. The widget holds no maths: its
controls are built from the configuration classes (:class:`~mfwidgets.models.ModelConfig`,
``TrainConfig``, ``SplitConfig``), models come from the core, baselines from the analysis floor.
The runs themselves live in :mod:`.jobs`, the curves in :mod:`.curves`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd

from .. import charts
from ..analysis.evaluation import global_mean_mse
from ..analysis.tuning import TuneResult
from ..data.dataset import Dataset
from ..data.split import Split, random_split
from ..models.cfmodel import CFModel
from ..models.config import ModelConfig, SplitConfig, TrainConfig
from ..models.contract import has_factors
from ..models.exchange import save_factors
from ..models.kinds import KIND_SPECS, Kind, kind_spec
from ..models.registry import Runs
from ..models.training import STOPPED
from .common import StatusLine, check_dataset, escape, safe
from .controls import STYLE, ConfigForm
from .curves import TrainingCurves
from .engines import ENGINES, Engine, RunContext, engine_for
from .interrupts import stop_on_interrupt
from .jobs import RunSpec, default_name, run_tuning
from .static import StaticView
from .throttle import Throttle
from .worker import LatestWorker

#: the engines a user picks from (the others follow their kinds: a reference's closed form)
CHOICES = {name: e for name, e in ENGINES.items() if e.label}


#: the sweeps an ALS run starts with when no iteration count was given
ALS_SWEEPS = 10


def own_optimizer(kind: Kind, optimizer: str) -> str:
    """``optimizer`` when ``kind`` trains by it, else the kind's own (the trainer's dropdown
    follows the kind: ALS for the implicit kinds)."""
    if not kind.optimizers or optimizer in kind.optimizers:
        return optimizer
    return kind.default_optimizer


class TrainerWidget(StaticView, W.VBox):
    """Train CFModels by clicking: hyper-parameters, Train/Stop/Continue, progress, live curves.

    ``TrainerWidget(data, **initial_values)`` takes a :class:`~mfwidgets.data.Dataset` (Last.fm
    or any other) and the configuration's field names (``embedding_dim=``, ``init_stddev=``,
    ``learning_rate=``, ``num_iterations=``, ``kind=``, ``optimizer=``, ...); first values are
    the chapter's first run. ``config_class`` may be a ModelConfig subclass: its extra fields get
    controls too. ``engine="spark"`` trains with Spark's ALS instead (offered when pyspark and
    Java are there; :mod:`mfwidgets.spark`): rank ``embedding_dim``, regParam
    ``regularization_coeff``, maxIter ``num_iterations``, the same split. ``split`` (a
    :class:`~mfwidgets.data.Split`) fixes the split of every run; without it each run draws the
    chapter's random split from its seed and ``holdout_fraction``. Finished runs are
    kept in ``trainer.runs`` (a :class:`~mfwidgets.models.Runs` other widgets follow);
    ``trainer.model`` is the latest (or the one picked in the runs list) and
    ``trainer.history`` its metrics. ``trainer.train(block=True)`` runs exactly what the Train
    button runs.
    """

    def __init__(
        self,
        data: Dataset,
        *,
        config_class: type[ModelConfig] = ModelConfig,
        split: Split | None = None,
        **initial_values: Any,
    ) -> None:
        check_dataset(data)
        if split is not None and not isinstance(split, Split):
            raise TypeError(f"split must be a mfwidgets.data.Split or None, got {type(split)}")
        if not (isinstance(config_class, type) and issubclass(config_class, ModelConfig)):
            raise TypeError(f"config_class must be a ModelConfig subclass, got {config_class!r}")
        self.classes = [config_class, TrainConfig, SplitConfig]
        values = ConfigForm.initial_values(self.classes) | {"name": "", "engine": "tensorflow"}
        unknown = set(initial_values) - set(values)
        if unknown:
            raise TypeError(
                f"unknown argument(s) {', '.join(sorted(unknown))}; accepted: {', '.join(values)}"
            )
        #: why an engine is not offered on this machine, by name
        self.unavailable = {n: why for n, e in CHOICES.items() if (why := e.unavailable())}
        chosen = initial_values.get("engine", "tensorflow")
        if chosen not in CHOICES:
            raise ValueError(
                f"engine must be one of {', '.join(map(repr, CHOICES))}, got {chosen!r}"
            )
        if chosen in self.unavailable:
            raise ValueError(f"engine={chosen!r} is not available: {self.unavailable[chosen]}")
        self.data = data
        self.split = split  #: the Split every run trains on (None: the chapter's, per seed)
        self._splits: dict[tuple, Split] = {}
        self.config_class = config_class
        self.runs = Runs()
        self.model: CFModel | None = None
        self.last_error: str = ""
        self.last_tune: TuneResult | None = None  #: the last Tune's table and best settings
        self._stop = threading.Event()  # Stop for tuning and Spark runs (CFModel has its own)
        # one job at a time (Train, Continue, Tune); a second is refused while one runs, and
        # only Stop (or an interrupt) ends a run early
        self._worker = LatestWorker(self._failed, cancel_running=False, name="mfwidgets-trainer")
        self._active = False
        self._quiet = False  # (the runs list is being refilled: its observers wait)
        first = values | initial_values
        als = kind_spec(first["kind"]).default_optimizer == "als" or first["optimizer"] == "als"
        if (als or CHOICES[chosen].sweeps) and "num_iterations" not in initial_values:
            first["num_iterations"] = ALS_SWEEPS  # the chapter's 1,000 steps are not sweeps
        self._build_controls(first)
        super().__init__(children=self._layout())
        self.add_class("mf-trainer")
        self._unobserve = self.runs.observe(lambda runs, name: self._on_new_run(name))
        self._collect()  # invalid initial values raise here, before anything runs
        self._sync_enabled()

    # -- construction ----------------------------------------------------------------------------
    def _build_controls(self, v: dict[str, Any]) -> None:
        for cls in self.classes:  # a dropdown refuses unknown choices with a traitlets error
            for name, p in cls.params():
                if p.choices is not None:
                    p.check(name, v[name])
        v = v | {"optimizer": own_optimizer(kind_spec(v["kind"]), v["optimizer"])}
        labels = {"kind": {k.name: k.label for k in KIND_SPECS.values()}}
        self.form = ConfigForm(self.classes, v, labels=labels)
        self.w = dict(self.form.widgets)
        self.w["kind"].layout = W.Layout(width="460px")
        self.w["name"] = W.Text(v["name"], description="run name", placeholder="automatic",
                                style=STYLE)  # fmt: skip
        self.w["name"].add_class("mf-name")
        self.w["kind"].observe(self._on_kind, names="value")
        self.w["optimizer"].observe(self._on_optimizer, names="value")
        offered = [(e.label, n) for n, e in CHOICES.items() if n not in self.unavailable]
        reason = "; ".join(self.unavailable.values()) or None
        self.w["engine"] = W.Dropdown(options=offered, value=v["engine"], description="engine",
                                      style=STYLE, disabled=len(offered) < 2,
                                      tooltip=reason or "where the model trains")  # fmt: skip
        self.w["engine"].add_class("mf-engine")
        self.w["engine"].observe(self._on_engine, names="value")
        self.engine_note = W.HTML(f"<small>{escape(reason)}</small>" if reason else "")
        self.engine_note.add_class("mf-engine-note")
        self.w["optimizer"].observe(lambda _: self._sync_enabled(), names="value")
        self.status = StatusLine()
        guard = safe(self.status)
        self.train_button = W.Button(description="Train", button_style="primary", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="warning", icon="stop",
                                    disabled=True)  # fmt: skip
        self.continue_button = W.Button(description="Continue", icon="forward", disabled=True)
        self.tune_button = W.Button(description="Tune", icon="sliders",
                                    tooltip="pick regularization and dimension on validation "
                                    "rows carved from the training split")  # fmt: skip
        for b, cls in ((self.train_button, "mf-train"), (self.stop_button, "mf-stop"),
                       (self.continue_button, "mf-continue"),
                       (self.tune_button, "mf-tune")):  # fmt: skip
            b.add_class(cls)
        self.train_button.on_click(guard(lambda _: self.train()))
        self.stop_button.on_click(guard(lambda _: self.stop()))
        self.continue_button.on_click(guard(lambda _: self.continue_training()))
        self.tune_button.on_click(guard(lambda _: self.tune()))
        self.progress = W.IntProgress(value=0, min=0, max=1, description="progress",
                                      style=STYLE, layout=W.Layout(width="460px"))  # fmt: skip
        self.progress.add_class("mf-progress")
        self.progress_label = W.Label("")
        self.progress_label.add_class("mf-progress-label")
        self.curves = TrainingCurves()
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
        # progress costs the kernel too: four updates a second at most, and no more than ~5 % of
        # the time
        self._progress = Throttle(self._show_progress, 0.25, cost_factor=20.0)

    def _layout(self) -> list[W.Widget]:
        model_fields = {name for name, _ in self.config_class.params()}
        left = [w for n, w in self.form.widgets.items() if n in model_fields]
        right = [self.w["engine"], self.engine_note]
        right += [w for n, w in self.form.widgets.items() if n not in model_fields]
        buttons = W.HBox([self.w["name"], self.train_button, self.stop_button,
                          self.continue_button, self.tune_button])  # fmt: skip
        return [
            W.HBox([W.VBox(left), W.VBox(right)]),  # the model's fields | how it trains
            buttons,
            W.HBox([self.progress, self.progress_label]),
            self.status,
            self.curves.widget,
            W.HBox(self._runs_row()),
            W.HBox([self.path, self.save_button, self.load_button]),
        ]

    def _runs_row(self) -> list[W.Widget]:
        return [self.runs_pick, self.pin_button, self.new_name, self.rename_button,
                self.remove_button]  # fmt: skip

    def _ipython_display_(self) -> None:
        """Show the widget, plus a static image of the final curves, so a saved notebook
        opened without a kernel still shows them (hidden while the widget is live)."""
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
        self.curves.display_static()

    # -- public API ------------------------------------------------------------------------------
    @property
    def models(self) -> dict[str, CFModel]:
        """The runs as a dict name -> model (a copy; ``trainer.runs`` is the registry)."""
        return self.runs.as_dict()

    @property
    def busy(self) -> bool:
        """True while a run (or a tuning) is in progress."""
        return self._active

    @property
    def history(self) -> pd.DataFrame:
        """Metrics of ``trainer.model``, one row per recorded iteration."""
        if self.model is None:
            return pd.DataFrame({"iteration": pd.Series(dtype="int64")})
        return self.model.history

    def train(self, block: bool = False) -> CFModel | None:
        """Build a new model from the current settings and train it (what Train does)."""
        return self._launch(new=True, block=block)

    def continue_training(self, block: bool = False) -> CFModel | None:
        """Train the current model further with the current iterations and learning rate."""
        if self.model is None:
            self.status.show("nothing to continue yet: click Train first", "warn")
            return None
        return self._launch(new=False, block=block)

    def tune(self, block: bool = False) -> TuneResult | None:
        """What Tune does: pick ``embedding_dim`` (and ``regularization_coeff`` when the kind
        has one) around the current values, on validation interactions carved from the
        training split (``mfwidgets.analysis.tune``, ALS), by RMSE for rating kinds and
        recall@10 for ranking kinds; the best values fill the controls."""
        spec = self._checked_spec()
        if spec is None:
            return None
        if spec.config.tagged or spec.config.reference:
            self.status.show(
                "Tune does not offer the hybrid kinds or the references: choose a chapter, "
                "biased or implicit kind", "warn",
            )  # fmt: skip
            return None
        self._stop.clear()
        self._start(self._tune_job, spec)
        if block:
            self.wait()
            return self.last_tune
        return None

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

    def stop(self) -> None:
        """Ask the running training (or tuning) to stop at the next step boundary; what was
        done is kept."""
        if self.busy:
            self._interrupt()
            self.status.show("stopping…", "running")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run ends; True when nothing is running any more. Ctrl-C
        while waiting stops the run (its steps counted), then raises KeyboardInterrupt."""
        try:
            self._worker.wait(timeout)
        except KeyboardInterrupt:
            self._interrupt()
            self._worker.wait(60)
            raise
        return not self.busy

    def _interrupt(self) -> None:
        """Stop, as a signal handler may: no widget update here (the run's end reports it)."""
        if self.busy:
            self._stop.set()
            if isinstance(self.model, CFModel):
                self.model.request_stop()

    def close(self) -> None:
        """Stop a run in progress (what it did is kept) and the worker, stop following the
        registry (then the widget closes)."""
        if "_unobserve" not in vars(self):  # (a constructor that raised: nothing to stop)
            return super().close()
        self.stop()
        self._worker.close(30)
        self._unobserve()
        self.curves.close()
        self._progress.cancel()
        super().close()

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

    # -- settings --------------------------------------------------------------------------------
    def _collect(self) -> RunSpec:
        """The current settings, validated once by the configuration classes."""
        fields = self.form.fields(self.config_class)
        config = self.config_class(**self.config_class.for_kind(fields))
        train_values = self.form.fields(TrainConfig)
        train_values["optimizer"] = own_optimizer(config.spec, train_values["optimizer"])
        if train_values["optimizer"] == "als":
            train_values["learning_rate"] = TrainConfig.defaults()["learning_rate"]
        train = TrainConfig(**train_values)
        split = SplitConfig(**self.form.fields(SplitConfig))
        taken = set(self.runs)
        engine = engine_for(config.spec, self.w["engine"].value)
        name = self.w["name"].value.strip() or default_name(
            config.kind, config.init_stddev, taken, engine.prefix
        )
        return RunSpec(config, split, train, name, self.split or self._drawn(split, config.seed))

    def _drawn(self, split: SplitConfig, seed: int | None) -> Split | None:
        """The chapter's split for a holdout fraction and seed, drawn once and shared by every
        run that uses them (a run holds its split's frames: one copy, not one per run)."""
        if seed is None:
            return None  # a fresh draw per run
        key = (split.holdout_fraction, seed)
        if key not in self._splits:
            self._splits[key] = random_split(self.data, split.holdout_fraction, seed)
        return self._splits[key]

    def _on_kind(self, change) -> None:
        optimizer = self.w["optimizer"].value
        self.w["optimizer"].value = own_optimizer(kind_spec(change["new"]), optimizer)
        self._sync_enabled()

    def _on_optimizer(self, change) -> None:
        """ALS counts sweeps, tens of them: a gradient-descent step count moves there, said."""
        if change["new"] == "als" and self.w["num_iterations"].value > 100:
            self.w["num_iterations"].value = ALS_SWEEPS
            self.status.show(f"ALS: {ALS_SWEEPS} iterations (sweeps)", "ok")

    def _on_engine(self, change) -> None:
        """An engine that trains some kinds only, in tens of sweeps: move the settings there,
        and say so."""
        engine, notes = CHOICES[change["new"]], []
        kind = kind_spec(self.w["kind"].value)  # (a kind with an engine of its own keeps it)
        if kind.name not in engine.kinds() and set(kind.engines) & set(CHOICES):
            self.w["kind"].value = engine.kinds()[0]
            notes.append(f"kind {self.w['kind'].value}")
        if engine.sweeps and self.w["num_iterations"].value > 100:
            self.w["num_iterations"].value = ALS_SWEEPS
            notes.append(f"{ALS_SWEEPS} iterations (ALS sweeps)")
        if notes:
            self.status.show(f"{engine.label}: {', '.join(notes)}", "ok")
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        """Grey out what the chosen kind, optimizer and engine do not use; lock buttons during
        a run."""
        kind = kind_spec(self.w["kind"].value)
        engine = engine_for(kind, self.w["engine"].value)
        self.form.sync(kind.name, self.w["optimizer"].value)
        self.w["optimizer"].disabled = len(kind.optimizers) < 2
        if not kind.optimizers:  # a closed-form fit: no steps, no optimizer
            for name, _ in TrainConfig.params():
                self.form.widgets[name].disabled = True
        if engine.fields is not None:
            for name, widget in self.form.widgets.items():
                widget.disabled = widget.disabled or name not in engine.fields
        running = self.busy
        self.train_button.disabled = running
        self.continue_button.disabled = running or not isinstance(self.model, CFModel)
        self.stop_button.disabled = not running
        self.load_button.disabled = running
        self.remove_button.disabled = running or not len(self.runs)
        self.rename_button.disabled = running or not len(self.runs)
        self.pin_button.disabled = not len(self.runs)
        self.tune_button.disabled = running or not engine.tunes
        self.w["engine"].disabled = running or len(self.w["engine"].options) < 2

    # -- running ---------------------------------------------------------------------------------
    def _launch(self, new: bool, block: bool) -> Any:
        spec = self._checked_spec()
        if spec is None:
            return None
        if not new and not isinstance(self.model, CFModel):
            self.status.show("only a TensorFlow run can continue: click Train", "warn")
            return None
        if not new and self.model.split.train is None:
            self.status.show("this model was loaded without its split; it cannot train", "error")
            return None
        self.curves.busy(True)
        self._stop.clear()
        kind = spec.config.spec
        engine = engine_for(kind, self.w["engine"].value) if new else self._continuing()
        self._start(self._job, engine, self._context(engine, spec, new))
        if block:
            self.wait()
            return self.model
        return None

    def _continuing(self) -> Engine:
        """The engine whose runs continue (the current model's)."""
        return next(e for e in ENGINES.values() if e.continues)

    def _checked_spec(self) -> RunSpec | None:
        """The current settings, or None with the reason shown (a run in progress, bad values)."""
        if self.busy:
            self.status.show("a run is already in progress: Stop it first", "warn")
            return None
        try:
            return self._collect()
        except (ValueError, TypeError) as exc:
            self.status.show(str(exc), "error")
            return None

    def _start(self, job, *args) -> None:
        """Run ``job(*args)`` in the background thread, buttons locked meanwhile."""
        self.train_button.disabled = self.continue_button.disabled = True
        self.tune_button.disabled = True
        self.stop_button.disabled = False
        self.last_error = ""
        self._active = True
        stop_on_interrupt(self._interrupt)  # Ctrl-C, the kernel's interrupt, stop it too
        self._worker.submit(lambda cancel: job(*args))

    def _context(self, engine: Engine, spec: RunSpec, new: bool) -> RunContext:
        """What ``engine``'s job sees of this trainer."""

        def begin(model: Any) -> None:
            self._release_others(model)
            self.model = model
            self.curves.baseline = global_mean_mse(model)

        def report(name: str, model: Any, reason: str, seconds: float) -> None:
            self._progress.flush()  # the bar's last state, before the status says how it ended
            self._report(name, model, reason, seconds, engine.describe(model))

        def failed(error: str, shown: str) -> None:
            self.last_error = error
            self.status.show(shown, "error")

        return RunContext(
            self.data, spec, new, None if new else self.model,
            spec.name if new else self.runs_pick.value, self._stop, self.status.show,
            self._progress.submit, self.curves.submit, begin, self._announce, report, failed,
        )  # fmt: skip

    def _job(self, engine: Engine, ctx: RunContext) -> None:
        """The training thread: ``engine`` runs the job; never raises."""
        try:
            engine.run(ctx)
        except Exception as exc:  # the widget shows it; the thread never dies loudly
            self._failed(exc)
        finally:
            self._ended()

    def _announce(self, name: str, model: CFModel) -> None:
        """Tell the registry (and so every widget following it) that ``name`` has trained."""
        try:
            self.runs.add(name, model)
        except Exception as exc:  # (a registry observer's failure is logged by the registry)
            self._failed(exc)

    def _ended(self) -> None:
        """After a training run of either engine: the final curves, the buttons unlocked."""
        self._progress.flush()
        self.curves.busy(False)
        self.curves.draw_now(self.model)
        self._active = False
        self._sync_enabled()
        self.curves.snapshot(self.model)

    def _failed(self, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.status.show(f"error: {self.last_error}", "error")

    def _tune_job(self, spec: RunSpec) -> None:
        """The tuning thread: fit the grid, fill the controls with the best point; never raises."""
        try:
            self.status.show("tuning on validation rows carved from train…", "running")
            result = self.last_tune = run_tuning(self.data, spec, self._stop, self._progress.submit)
            if result.best is None:
                self.status.show("tuning stopped before the first fit ended", "warn")
                return
            for name in result.names:
                self.w[name].value = getattr(result.best, name)
            picked = ", ".join(f"{n}={getattr(result.best, n)}" for n in result.names)
            verb = "stopped early; best so far" if result.stopped else "tuned"
            value = result.table[f"val_{result.metric}"].iloc[0]
            edge = f"; {result.warning}" if result.edges else ""
            self.status.show(
                f"{verb}: {picked} (validation {result.metric} {value:.4f}){edge}; click Train "
                "to fit them", "warn" if edge else "ok",
            )  # fmt: skip
        except Exception as exc:  # the widget shows it; the thread never dies loudly
            self._failed(exc)
        finally:
            self._progress.flush()
            self._active = False
            self._sync_enabled()

    def _release_others(self, model: CFModel) -> None:
        """Only the run being trained keeps its compiled machinery: the others keep their
        factors and history (Continue on one of them compiles again), so memory follows what
        is kept."""
        for other in self.runs.as_dict().values():
            if other is not model and isinstance(other, CFModel) and not other.is_training:
                other.release()

    def _report(self, name: str, model: Any, reason: str, seconds: float, where: str) -> None:
        last = model.history.iloc[-1]
        errors = charts.metric_panels(model.history.columns)[0][1]
        parts = ", ".join(f"{m} {last[m]:.4f}" for m in errors if m in last)
        mean = self.curves.baseline
        base = f" (global mean {mean:.4f})" if mean is not None else ""
        verb = "stopped" if reason == STOPPED else "finished"
        self.status.show(
            f"{verb}: {name} {where} in {seconds:.1f} s; {parts}{base}",
            "warn" if reason == STOPPED else "ok",
        )

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
        if not self.busy:  # (a run in progress draws and snapshots when it ends)
            self.curves.draw_now(self.model)
            self._sync_enabled()
            self.curves.snapshot(self.model)

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

    # -- drawing (throttled; called from the training thread) ------------------------------------
    def _show_progress(self, value: tuple) -> None:
        """Bar and label: steps (or fits) done, per second, time left while running."""
        done, total, seconds, running, *unit = value
        unit = unit[0] if unit else "iteration"
        self.progress.max = max(total, 1)
        self.progress.value = min(done, total)
        rate = done / seconds if seconds > 0 else 0.0
        eta = f" · {(total - done) / rate:.1f} s left" if running and rate > 0 else ""
        per = f"{rate:.0f} it/s" if unit == "iteration" else f"{seconds:.1f} s"
        self.progress_label.value = f"{unit} {done}/{total} · {per}{eta}"
