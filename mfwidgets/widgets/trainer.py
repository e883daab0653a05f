"""TrainerWidget: train models by clicking, with a live progress bar and live plots.

Training runs in a background thread (the kernel stays free, Stop works within a fraction of a
second), reports through the core's callbacks, and redraws one offline chart per metric panel
in place, at most once a second while a run is in progress. The widget holds no maths: its
controls are built from the configuration classes (:class:`~mfwidgets.models.ModelConfig`,
``TrainConfig``, ``SplitConfig``), models come from the core, baselines from the analysis floor.
Its parts: the jobs (Train, Continue, Tune, Stop) in :mod:`.trainer_jobs`, handed to the
engines of :mod:`.engines`; the runs list and files in :mod:`.trainer_runs`; the curves in
:mod:`.curves`.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as W
import pandas as pd

from ..analysis.tuning import TuneResult
from ..data.dataset import Dataset
from ..data.split import Split, random_split
from ..models.cfmodel import CFModel
from ..models.config import ModelConfig, SplitConfig, TrainConfig
from ..models.kinds import KIND_SPECS, Kind, kind_spec
from ..models.registry import Runs
from .common import StatusLine, check_dataset, escape, safe
from .controls import STYLE, ConfigForm
from .curves import TrainingCurves
from .engines import ENGINES, engine_for
from .jobs import JobSpec, default_name
from .static import StaticView
from .throttle import Throttle
from .trainer_jobs import TrainerJobs
from .trainer_runs import RunsPanel
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


class TrainerWidget(TrainerJobs, RunsPanel, StaticView, W.VBox):
    """Train CFModels by clicking: hyper-parameters, Train/Stop/Continue, progress, live curves.

    ``TrainerWidget(data, **initial_values)`` takes a :class:`~mfwidgets.data.Dataset` (Last.fm
    or any other) and the configuration's field names (``embedding_dim=``, ``init_stddev=``,
    ``learning_rate=``, ``num_iterations=``, ``kind=``, ``optimizer=``, ...); first values are
    the chapter's first run (a ``kind=`` given starts from that kind's defaults and optimizer).
    ``config_class`` may be a ModelConfig subclass: its extra fields get controls too.
    ``engine="spark"`` trains with Spark's ALS instead (offered when pyspark and Java are
    there; :mod:`mfwidgets.spark`): rank ``embedding_dim``, regParam
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
        kind = kind_spec(first["kind"])
        if kind.defaults and chosen == "tensorflow":  # a kind's defaults are for this engine
            own = config_class.kind_defaults(kind.name).items()  # (Spark's regParam differs)
            first |= {k: v for k, v in own if k not in initial_values}
        if "optimizer" not in initial_values:  # the kind's own (ALS for the kinds beyond)
            first["optimizer"] = kind.default_optimizer or first["optimizer"]
        als = own_optimizer(kind, first["optimizer"]) == "als"
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
        self._build_runs(guard)
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

    # -- settings --------------------------------------------------------------------------------
    def _collect(self) -> JobSpec:
        """The current settings, validated once by the configuration classes."""
        fields = self.form.fields(self.config_class)
        config = self.config_class(**self.config_class.for_kind(fields))
        train_values = self.form.fields(TrainConfig)
        ways = config.spec.optimizers
        if len(ways) == 1:  # (the dropdown is greyed out: the kind's one way)
            train_values["optimizer"] = ways[0]
        elif ways:  # a way the kind does not train by is refused, said in the status
            config.spec.check_optimizer(train_values["optimizer"])
        if train_values["optimizer"] == "als":
            train_values["learning_rate"] = TrainConfig.defaults()["learning_rate"]
        train = TrainConfig(**train_values)
        split = SplitConfig(**self.form.fields(SplitConfig))
        taken = set(self.runs)
        engine = engine_for(config.spec, self.w["engine"].value)
        name = self.w["name"].value.strip() or default_name(
            config.kind, config.init_stddev, taken, engine.prefix
        )
        return JobSpec(config, split, train, name, self.split or self._drawn(split, config.seed))

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

    # -- drawing (throttled; called from the training thread) ------------------------------------
