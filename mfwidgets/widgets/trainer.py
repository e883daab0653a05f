"""TrainerWidget: train the chapter's models by clicking, with a live progress bar and live plots.

Training runs in a background thread (the kernel stays free, Stop works within a fraction of a
second), reports through the core's callbacks, and updates one offline chart per metric group in
place, a few times per second at most. The widget holds no maths: models, splits and metrics come
from the core, baselines from :mod:`mfwidgets.evaluation`.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd
import traitlets

from .. import charts
from ..data import check_holdout_fraction
from ..evaluation import GlobalMean, mse
from ..model import KINDS, OPTIMIZERS, CFModel, ModelConfig, check_train_args
from ..throttle import Throttle
from ..training import FINISHED, STOPPED, Callback, RunInfo, TrainingDiverged
from .common import StatusLine, safe

KIND_LABELS = {
    "plain": "chapter: build_model (observed MSE)",
    "regularized": "chapter: build_regularized_model (+ L2 + gravity)",
    "biased": "beyond: biased (mean + user/artist bias + UVᵀ)",
    "implicit": "beyond: implicit feedback (weighted MF, ALS)",
}
#: the chapter's first run, with the core's argument names
DEFAULTS: dict[str, Any] = {
    "kind": "plain",
    "embedding_dim": 30,
    "init_stddev": 0.5,
    "learning_rate": 10.0,
    "num_iterations": 1000,
    "optimizer": "sgd",
    "regularization_coeff": 0.1,
    "gravity_coeff": 1.0,
    "user_bias_reg": 1.0,
    "artist_bias_reg": 12.0,
    "alpha": 10.0,
    "holdout_fraction": 0.1,
    "seed": 0,
    "record_every": 10,
    "name": "",
}
#: which hyper-parameters each kind uses (the others are greyed out)
USES = {
    "plain": {"init_stddev", "learning_rate"},
    "regularized": {"init_stddev", "learning_rate", "regularization_coeff", "gravity_coeff"},
    "biased": {
        "init_stddev", "learning_rate", "regularization_coeff", "gravity_coeff",
        "user_bias_reg", "artist_bias_reg",
    },
    "implicit": {"init_stddev", "regularization_coeff", "alpha"},
}  # fmt: skip
DESCRIPTION = {"description_width": "150px"}
LEFT_COLUMN = ("kind", "embedding_dim", "init_stddev", "learning_rate", "num_iterations")
LEFT_COLUMN += ("optimizer", "record_every")
RIGHT_COLUMN = ("regularization_coeff", "gravity_coeff", "user_bias_reg", "artist_bias_reg")
RIGHT_COLUMN += ("alpha", "holdout_fraction", "seed")


@dataclass(frozen=True)
class RunSpec:
    """A validated run: model configuration, split and training arguments."""

    config: dict[str, Any]
    holdout_fraction: float
    seed: int | None
    num_iterations: int
    learning_rate: float
    optimizer: str
    record_every: int
    name: str


def default_name(kind: str, init_stddev: float, taken: set[str]) -> str:
    """The chapter's run names: model, model_lowinit, reg_model (then biased_model, ...)."""
    base = {
        "plain": "model_lowinit" if init_stddev <= 0.1 else "model",
        "regularized": "reg_model",
        "biased": "biased_model",
        "implicit": "implicit_model",
    }[kind]
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


class _Reporter(Callback):
    """Core callbacks -> throttled widget updates (runs on the training thread)."""

    def __init__(self, trainer: TrainerWidget) -> None:
        self.trainer = trainer
        self.t0 = time.perf_counter()
        self.reason = FINISHED

    def on_train_begin(self, model, info: RunInfo) -> None:
        self.t0 = time.perf_counter()
        self.trainer._progress.submit((0, info.num_steps, 0.0, True))

    def on_progress(self, model, steps_done, num_steps, seconds) -> None:
        self.trainer._progress.submit((steps_done, num_steps, time.perf_counter() - self.t0, True))

    def on_record(self, model, iteration, metrics, seconds) -> None:
        self.trainer._charts.submit(model)

    def on_train_end(self, model, reason, info: RunInfo) -> None:
        self.reason = reason
        self.trainer._progress.submit((info.steps_done, info.num_steps, info.seconds, False))


class TrainerWidget(W.VBox):
    """Train CFModels by clicking: hyper-parameters, Train/Stop/Continue, progress, live curves.

    ``TrainerWidget(data, **initial_values)`` takes the core's argument names
    (``embedding_dim=``, ``init_stddev=``, ``learning_rate=``, ``num_iterations=``, ``kind=``,
    ``optimizer=``, ...); defaults are the chapter's first run. Finished runs are kept in
    ``trainer.models`` (name -> CFModel); ``trainer.model`` is the latest (or the one picked in
    the runs list) and ``trainer.history`` its metrics. ``trainer.train(block=True)`` runs
    exactly what the Train button runs.
    """

    run_names = traitlets.List(traitlets.Unicode(), help="names of the stored runs, in order")

    def __init__(self, data: Any, **initial_values: Any) -> None:
        unknown = set(initial_values) - set(DEFAULTS)
        if unknown:
            raise TypeError(
                f"unknown argument(s) {', '.join(sorted(unknown))}; accepted: {', '.join(DEFAULTS)}"
            )
        for attr in ("listens", "n_users", "n_artists"):
            if not hasattr(data, attr):
                raise TypeError(
                    f"data must be a LastfmData (from load_lastfm()); it lacks {attr!r}"
                )
        values = DEFAULTS | initial_values
        self.data = data
        self.models: dict[str, CFModel] = {}
        self.model: CFModel | None = None
        self.last_error: str = ""
        self._thread: threading.Thread | None = None
        self._baseline: float | None = None
        self._static = None  # display handle of the static snapshot, once displayed
        self._build_controls(values)
        super().__init__(children=self._layout())
        self.add_class("mf-trainer")
        self._progress: Throttle = Throttle(self._show_progress, 0.1)
        self._charts: Throttle = Throttle(self._draw, 0.25)
        self._collect()  # invalid initial values raise here, before anything runs
        self._sync_enabled()

    # -- construction ----------------------------------------------------------------------------
    def _build_controls(self, v: dict[str, Any]) -> None:
        if v["kind"] not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {v['kind']!r}")
        if v["optimizer"] not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {v['optimizer']!r}"
            )
        if v["kind"] == "implicit":
            v = v | {"optimizer": "als"}
        s = DESCRIPTION
        self.w = {
            "kind": W.Dropdown(
                options=[(label, k) for k, label in KIND_LABELS.items()], value=v["kind"],
                description="model", style=s, layout=W.Layout(width="460px"),
            ),
            "embedding_dim": W.IntText(v["embedding_dim"], description="embedding_dim", style=s),
            "init_stddev": W.FloatText(v["init_stddev"], description="init_stddev", style=s),
            "learning_rate": W.FloatText(v["learning_rate"], description="learning_rate", style=s),
            "num_iterations": W.IntText(v["num_iterations"], description="num_iterations", style=s),
            "optimizer": W.Dropdown(options=list(OPTIMIZERS), value=v["optimizer"],
                                    description="optimizer", style=s),
            "regularization_coeff": W.FloatText(v["regularization_coeff"],
                                                description="regularization_coeff", style=s),
            "gravity_coeff": W.FloatText(v["gravity_coeff"], description="gravity_coeff", style=s),
            "user_bias_reg": W.FloatText(v["user_bias_reg"], description="user_bias_reg", style=s),
            "artist_bias_reg": W.FloatText(v["artist_bias_reg"], description="artist_bias_reg",
                                           style=s),
            "alpha": W.FloatText(v["alpha"], description="alpha (implicit)", style=s),
            "holdout_fraction": W.FloatText(v["holdout_fraction"], description="holdout_fraction",
                                            style=s),
            "seed": W.Text("" if v["seed"] is None else str(v["seed"]), description="seed",
                           placeholder="empty: random", style=s),
            "record_every": W.IntText(v["record_every"], description="record_every", style=s),
            "name": W.Text(v["name"], description="run name", placeholder="automatic", style=s),
        }  # fmt: skip
        for key, widget in self.w.items():
            widget.add_class(f"mf-{key.replace('_', '-')}")
        self.w["kind"].observe(self._on_kind, names="value")
        self.w["optimizer"].observe(lambda _: self._sync_enabled(), names="value")
        self.status = StatusLine()
        self.train_button = W.Button(description="Train", button_style="primary", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="warning", icon="stop",
                                    disabled=True)  # fmt: skip
        self.continue_button = W.Button(description="Continue", icon="forward", disabled=True)
        for b, cls in ((self.train_button, "mf-train"), (self.stop_button, "mf-stop"),
                       (self.continue_button, "mf-continue")):  # fmt: skip
            b.add_class(cls)
        self.train_button.on_click(safe(self.status)(lambda _: self.train()))
        self.stop_button.on_click(safe(self.status)(lambda _: self.stop()))
        self.continue_button.on_click(safe(self.status)(lambda _: self.continue_training()))
        self.progress = W.IntProgress(value=0, min=0, max=1, description="progress",
                                      style=s, layout=W.Layout(width="460px"))  # fmt: skip
        self.progress.add_class("mf-progress")
        self.progress_label = W.Label("")
        self.progress_label.add_class("mf-progress-label")
        self.log_y = W.Checkbox(value=False, description="log y", indent=False)
        self.log_y.add_class("mf-logy")
        self.log_y.observe(lambda _: self._charts.submit(self.model), names="value")
        empty = pd.DataFrame({"iteration": pd.Series(dtype=float)})
        self.error_chart = charts.LiveChart(
            charts.metric_chart(empty, ["train_error"], title="errors"), interval=0,
            renderer="svg", css_class="mf-chart-errors",
        )  # fmt: skip
        self.loss_chart = charts.LiveChart(
            charts.metric_chart(empty, ["observed_loss"], title="loss parts"), interval=0,
            renderer="svg", css_class="mf-chart-losses",
        )  # fmt: skip
        self.loss_chart.widget.layout.display = "none"
        self.runs = W.Dropdown(options=[], description="runs", style=s)
        self.runs.add_class("mf-runs")
        self.runs.observe(safe(self.status)(self._on_pick_run), names="value")
        self.path = W.Text("", description="file", placeholder="run.mfmodel", style=s)
        self.save_button = W.Button(description="Save", icon="save")
        self.load_button = W.Button(description="Load", icon="folder-open")
        self.save_button.on_click(safe(self.status)(lambda _: self.save()))
        self.load_button.on_click(safe(self.status)(lambda _: self.load()))

    def _layout(self) -> list[W.Widget]:
        w = self.w
        left = W.VBox([w[k] for k in LEFT_COLUMN])
        right = W.VBox([w[k] for k in RIGHT_COLUMN])
        buttons = W.HBox([w["name"], self.train_button, self.stop_button, self.continue_button])
        return [
            W.HBox([left, right]),
            buttons,
            W.HBox([self.progress, self.progress_label]),
            self.status,
            W.HBox([self.log_y]),
            W.HBox([self.error_chart.widget, self.loss_chart.widget]),
            W.HBox([self.runs, self.path, self.save_button, self.load_button]),
        ]

    def _ipython_display_(self) -> None:
        """Show the widget, plus a static image of the final curves, so a saved notebook
        opened without a kernel still shows them (updated at the end of each run)."""
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
        self._static = display({"text/plain": ""}, raw=True, display_id=True)

    # -- public API ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

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

    def add_run(self, name: str, model: CFModel) -> None:
        """Keep a model trained in code as a run (the explorer and map following this trainer
        see it); an existing run of that name is replaced."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if not isinstance(model, CFModel):
            raise TypeError(f"model must be a CFModel, got {type(model).__name__}")
        if self.busy:
            raise RuntimeError("a run is in progress: add the model when it has finished")
        self._baseline = self._global_mean_mse(model)
        self._store(name.strip(), model)
        self._charts.submit(model)
        self._charts.flush()
        self._sync_enabled()

    def stop(self) -> None:
        """Ask the running training to stop at the next step boundary; the model is kept."""
        if self.busy and self.model is not None:
            self.model.request_stop()
            self.status.show("stopping…", "running")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run ends; True when nothing is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy

    def save(self, path: str | None = None) -> Path | None:
        if self.model is None:
            self.status.show("nothing to save yet: train a model first", "warn")
            return None
        target = Path(path or self.path.value or f"{self.runs.value or 'model'}.mfmodel")
        written = self.model.save(target)
        self.status.show(f"saved {self.runs.value or 'model'} to {written}", "ok")
        return written

    def load(self, path: str | None = None) -> CFModel:
        source = Path(path or self.path.value)
        if not str(source) or source == Path():
            raise ValueError("type the path of a saved model in the file box first")
        model = CFModel.load(source, listens=self.data.listens)
        name = source.stem
        while name in self.models:
            name += "_loaded"
        self._store(name, model)
        self.status.show(f"loaded {source} as {name!r}", "ok")
        return model

    # -- settings --------------------------------------------------------------------------------
    def _collect(self) -> RunSpec:
        """The current settings, validated by the core's own rules (ValueError/TypeError)."""
        v = {k: w.value for k, w in self.w.items()}
        kind = v["kind"]
        seed_text = str(v["seed"]).strip()
        try:
            seed = int(seed_text) if seed_text else None
        except ValueError:
            raise ValueError(
                f"seed must be an integer or empty (random), got {seed_text!r}"
            ) from None
        uses = USES[kind]
        config = {
            "kind": kind,
            "embedding_dim": v["embedding_dim"],
            "init_stddev": v["init_stddev"],
            "regularization_coeff": v["regularization_coeff"] * ("regularization_coeff" in uses),
            "gravity_coeff": v["gravity_coeff"] * ("gravity_coeff" in uses),
            "user_bias_reg": v["user_bias_reg"],
            "artist_bias_reg": v["artist_bias_reg"],
            "alpha": v["alpha"],
        }  # fmt: skip
        ModelConfig(seed=seed, **config)
        optimizer = "als" if kind == "implicit" else v["optimizer"]
        learning_rate = v["learning_rate"] if optimizer != "als" else 1.0
        record_every = check_train_args(
            v["num_iterations"], learning_rate, optimizer, v["record_every"]
        )
        check_holdout_fraction(v["holdout_fraction"])
        name = v["name"].strip() or default_name(kind, v["init_stddev"], set(self.models))
        return RunSpec(
            config, float(v["holdout_fraction"]), seed, int(v["num_iterations"]),
            float(learning_rate), optimizer, record_every, name,
        )  # fmt: skip

    def _on_kind(self, change) -> None:
        if change["new"] == "implicit":
            self.w["optimizer"].value = "als"
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        """Grey out what the chosen kind does not use; lock the buttons during a run."""
        kind = self.w["kind"].value
        uses = USES[kind]
        for key in ("init_stddev", "learning_rate", "regularization_coeff", "gravity_coeff",
                    "user_bias_reg", "artist_bias_reg", "alpha"):  # fmt: skip
            self.w[key].disabled = key not in uses
        if self.w["optimizer"].value == "als":
            self.w["learning_rate"].disabled = True
        self.w["optimizer"].disabled = kind == "implicit"
        running = self.busy
        self.train_button.disabled = running
        self.continue_button.disabled = running or self.model is None
        self.stop_button.disabled = not running
        self.load_button.disabled = running

    # -- running ---------------------------------------------------------------------------------
    def _launch(self, new: bool, block: bool) -> CFModel | None:
        if self.busy:
            self.status.show("a run is already in progress: Stop it first", "warn")
            return None
        try:
            spec = self._collect()
        except (ValueError, TypeError) as exc:
            self.status.show(str(exc), "error")
            return None
        if not new and self.model is not None and self.model.train_listens is None:
            self.status.show("this model was loaded without its split; it cannot train", "error")
            return None
        self.train_button.disabled = self.continue_button.disabled = True
        self.stop_button.disabled = False
        self.last_error = ""
        self._thread = threading.Thread(target=self._run, args=(spec, new), daemon=True)
        self._thread.start()
        if block:
            self.wait()
            return self.model
        return None

    def _run(self, spec: RunSpec, new: bool) -> None:
        """The training thread: build (if new), train, report; never raises."""
        t0 = time.perf_counter()
        name = spec.name if new else self.runs.value
        try:
            if new:
                self.status.show(
                    f"building {name} (the first model also loads TensorFlow)…", "running"
                )
                model = CFModel.from_listens(
                    self.data.listens, holdout_fraction=spec.holdout_fraction, seed=spec.seed,
                    **spec.config,
                )  # fmt: skip
                self._baseline = self._global_mean_mse(model)
                self._store(name, model)
            model = self.model
            self.status.show(f"running {name}: {spec.num_iterations + 1} steps", "running")
            reporter = _Reporter(self)
            model.train(
                num_iterations=spec.num_iterations, learning_rate=spec.learning_rate,
                optimizer=spec.optimizer, callbacks=reporter, record_every=spec.record_every,
            )  # fmt: skip
            self._report(name, model, reporter.reason, time.perf_counter() - t0)
        except TrainingDiverged as exc:
            self.last_error = str(exc)
            self.status.show(f"diverged: {exc}", "error")
        except Exception as exc:  # the widget shows it; the thread never dies loudly
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.status.show(f"error: {self.last_error}", "error")
        finally:
            self._progress.flush()
            self._charts.submit(self.model)
            self._charts.flush()
            self._thread = None
            self._sync_enabled()
            self._snapshot()

    def _report(self, name: str, model: CFModel, reason: str, seconds: float) -> None:
        hist = model.history
        last = hist.iloc[-1]
        errors = model.metric_groups[0]
        parts = ", ".join(f"{m} {last[m]:.4f}" for m in errors if m in last)
        base = f" (global mean {self._baseline:.4f})" if self._baseline is not None else ""
        verb = "stopped" if reason == STOPPED else "finished"
        self.status.show(
            f"{verb}: {name} at iteration {model.iterations_done} in {seconds:.1f} s; "
            f"{parts}{base}",
            "warn" if reason == STOPPED else "ok",
        )

    def _global_mean_mse(self, model: CFModel) -> float | None:
        if (
            model.config.kind == "implicit"
            or model.test_listens is None
            or model.test_listens.empty
        ):
            return None
        return mse(GlobalMean(model.train_listens), model.test_listens)

    def _store(self, name: str, model: CFModel) -> None:
        self.models[name] = model
        self.model = model
        self.run_names = [*self.models] if name in self.run_names else [*self.run_names, name]
        self.runs.options = list(self.models)
        self.runs.value = name
        self.w["name"].value = ""
        self.path.placeholder = f"{name}.mfmodel"

    def _on_pick_run(self, change) -> None:
        if change["new"] and change["new"] in self.models and not self.busy:
            self.model = self.models[change["new"]]
            self._baseline = self._global_mean_mse(self.model)
            self._charts.submit(self.model)
            self._sync_enabled()

    # -- drawing (throttled; called from the training thread) ------------------------------------
    def _show_progress(self, value: tuple[int, int, float, bool]) -> None:
        """Bar and label: iterations done, iterations per second, time left while running."""
        done, total, seconds, running = value
        self.progress.max = max(total, 1)
        self.progress.value = min(done, total)
        rate = done / seconds if seconds > 0 else 0.0
        eta = f" · {(total - done) / rate:.1f} s left" if running and rate > 0 else ""
        self.progress_label.value = f"iteration {done}/{total} · {rate:.0f} it/s{eta}"

    def _panels(self, model: CFModel | None) -> list[Any]:
        hist = model.history if model is not None else pd.DataFrame()
        groups = model.metric_groups if model is not None else [["train_error"]]
        titles = ["errors", "loss parts"]
        return [
            charts.metric_chart(
                hist,
                group,
                title=titles[k],
                log_y=self.log_y.value,
                baseline=self._baseline if k == 0 else None,
            )
            for k, group in enumerate(groups)
        ]

    def _draw(self, model: CFModel | None) -> None:
        panels = self._panels(model)
        self.error_chart.update(panels[0])
        if len(panels) > 1:
            self.loss_chart.update(panels[1])
            self.loss_chart.widget.layout.display = None
        else:
            self.loss_chart.widget.layout.display = "none"

    def _snapshot(self) -> None:
        """Write the final curves as a PNG cell output (visible without a kernel)."""
        if self._static is None or self.model is None or self.model.history.empty:
            return
        try:
            png = charts.to_png(*self._panels(self.model))
        except Exception:  # a missing snapshot must not break the widget
            return
        self._static.update(
            {"image/png": base64.b64encode(png).decode(), "text/plain": "final training curves"},
            raw=True,
        )
