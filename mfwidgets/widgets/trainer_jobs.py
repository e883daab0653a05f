"""The trainer's jobs: Train, Continue, Tune and Stop on the training thread, each run handed
to its engine (:mod:`.engines`), and the progress and status they report. A part of
:class:`~.trainer.TrainerWidget`, which it is mixed into; it holds no maths."""

from __future__ import annotations

from typing import Any

from .. import charts
from ..analysis.evaluation import global_mean_mse
from ..analysis.tuning import TuneResult
from ..models.cfmodel import CFModel
from ..models.training import STOPPED
from .engines import ENGINES, Engine, RunContext, engine_for
from .interrupts import stop_on_interrupt
from .jobs import JobSpec, run_tuning


class TrainerJobs:
    """Train, Continue, Tune and Stop of a trainer (its controls, ``runs``, ``model``,
    ``status``, ``curves`` and worker are the trainer's)."""

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
        ``recall@10`` for ranking kinds; the best values fill the controls."""
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

    def _checked_spec(self) -> JobSpec | None:
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

    def _context(self, engine: Engine, spec: JobSpec, new: bool) -> RunContext:
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

    def _ended(self) -> None:
        """After a training run of either engine: the final curves, the buttons unlocked."""
        self._progress.flush()
        self.curves.busy(False)
        self.curves.draw_now(self.model)
        self._active = False
        self._sync_enabled()
        self.curves.write_static_image(self.model)

    def _failed(self, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.status.show(f"error: {self.last_error}", "error")

    def _tune_job(self, spec: JobSpec) -> None:
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
