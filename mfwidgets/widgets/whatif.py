"""WhatIfPanel: drag regularization, gravity or the dimension and watch the embeddings answer.

Releasing a slider re-solves the chapter's loss from the starting run's factors with a few
warm-started ALS sweeps (:func:`~mfwidgets.models.whatif.warm_start`) in a background thread,
then redraws the norm-vs-popularity chart and the figures beside the starting run's. Only the
latest request counts (:class:`~mfwidgets.widgets.worker.LatestWorker`): a running solve is
stopped at its next sweep when a slider moves, and requests made meanwhile are not queued.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import pandas as pd

from .. import charts
from ..analysis.compare import run_summary
from ..analysis.lookup import ItemIndex
from ..checks import check_k
from ..models.cfmodel import CFModel
from ..models.config import TrainConfig
from ..models.registry import Runs
from ..models.whatif import warm_start
from .common import Following, StatusLine, check_dataset, safe
from .display import LiveChart
from .html_tables import TABLE_STYLE, frame_html
from .picker import ItemPicker
from .static import StaticView
from .worker import Cancel, LatestWorker

#: the sliders' stops: 0, then log-spaced (the chapter's values, 0.1 and 1.0, among them)
STOPS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def _stop_slider(value: float, description: str) -> W.SelectionSlider:
    stops = sorted({*STOPS, float(value)})
    return W.SelectionSlider(options=[(f"{s:g}", s) for s in stops], value=float(value),
                             description=description, continuous_update=False,
                             style={"description_width": "150px"},
                             layout=W.Layout(width="480px"))  # fmt: skip


class WhatIfPanel(StaticView, Following, W.VBox):
    """What-if sliders over a trained CFModel (plain, regularized or biased, holding its split).

    ``runs`` (a TrainerWidget or a Runs) receives a kept result; ``sweeps`` warm ALS sweeps per
    request. ``panel.result`` is the latest re-solved model, ``panel.summary`` its figures
    beside the start's (a DataFrame), ``panel.wait()`` blocks until the worker is idle.
    """

    def __init__(
        self, data: Any, model: CFModel, *, runs: Any = None, sweeps: int = 3, k: int = 10
    ) -> None:
        self.data = check_dataset(data)
        warm_start(model)  # refuses, now, a model it could not re-solve
        if isinstance(sweeps, bool) or not isinstance(sweeps, int) or not 1 <= sweeps <= 50:
            raise ValueError(f"sweeps must be an integer in [1, 50], got {sweeps!r}")
        self.base, self.sweeps, self.k = model, sweeps, check_k(k)
        self.runs = Runs.of(runs, "runs") if runs is not None else Runs()
        self.result: CFModel | None = None
        self.summary = pd.DataFrame()
        self.status = StatusLine()
        self._worker = LatestWorker(self._failed, name="mfwidgets-whatif")
        guard = safe(self.status)
        config = model.config
        self.reg = _stop_slider(config.regularization_coeff, "regularization_coeff")
        self.gravity = _stop_slider(config.gravity_coeff, "gravity_coeff")
        self.dim = W.IntSlider(value=config.embedding_dim, min=2, max=max(64, config.embedding_dim),
                               description="embedding_dim", continuous_update=False,
                               style={"description_width": "150px"},
                               layout=W.Layout(width="480px"))  # fmt: skip
        self.picker = ItemPicker(data, ItemIndex.from_data(data), self.status)
        self.figures = W.HTML()
        self.norms = LiveChart(charts.embedding_norm_chart({"start": model}, data),
                               css_class="mf-whatif-norms")  # fmt: skip
        self.name = W.Text(placeholder="what_if", description="keep as",
                           layout=W.Layout(width="260px"))  # fmt: skip
        self.keep_button = W.Button(description="Keep", icon="save", disabled=True)
        for w, cls in ((self.reg, "mf-whatif-reg"), (self.gravity, "mf-whatif-gravity"),
                       (self.dim, "mf-whatif-dim"), (self.figures, "mf-whatif-figures"),
                       (self.keep_button, "mf-whatif-keep")):  # fmt: skip
            w.add_class(cls)
        for w in (self.reg, self.gravity, self.dim):
            w.observe(guard(lambda _: self.request()), names="value")
        self.picker.matches.observe(guard(lambda _: self._show(None)), names="value")
        self.keep_button.on_click(guard(lambda _: self.keep()))
        super().__init__(children=[
            W.HBox([W.VBox([self.reg, self.gravity, self.dim]), self.picker.widget]),
            self.figures, self.norms.widget,
            W.HBox([self.name, self.keep_button]), self.status,
        ])  # fmt: skip
        self.add_class("mf-whatif")
        self._starts: dict[int, dict[str, Any]] = {}  # the start's figures, by item
        self._show(None)

    # -- public ----------------------------------------------------------------------------------
    def request(self) -> None:
        """Re-solve with the sliders' values (what releasing a slider does)."""
        values = {"regularization_coeff": self.reg.value, "gravity_coeff": self.gravity.value,
                  "embedding_dim": int(self.dim.value)}  # fmt: skip
        self._worker.submit(lambda cancel: self._solve(values, cancel))
        self.status.show("re-solving…", "running")

    def keep(self, name: str | None = None) -> str:
        """Keep the latest result as a named run (in ``runs``)."""
        if self.result is None:
            raise ValueError("nothing to keep yet: move a slider first")
        name = (name or self.name.value or "").strip() or "what_if"
        self.runs.add(name, self.result)
        self.status.show(f"kept as run {name!r}", "ok")
        return name

    # -- work ------------------------------------------------------------------------------------
    def _solve(self, values: dict[str, Any], cancel: Cancel) -> None:
        """The worker's job: warm sweeps from the start; a newer request stops it at its next
        sweep, and a stopped solve is dropped (the newer one runs next)."""
        model = warm_start(self.base, **values)
        cancel.on_set(model.request_stop)
        model.train(config=TrainConfig(num_iterations=self.sweeps, optimizer="als"))
        model.release()  # a result is looked at, not trained on: keep its factors only
        if cancel.is_set():
            return
        self.result = model
        self._show(values)

    def _failed(self, exc: Exception) -> None:  # the panel shows it; its worker lives on
        self.status.show(f"{type(exc).__name__}: {exc}", "error")

    def _show(self, values: dict[str, Any] | None) -> None:
        item = self.picker.matches.value
        if item not in self._starts:
            self._starts[item] = run_summary(self.base, self.data, item, self.k)
        rows = {"start": self._starts[item]}
        if self.result is not None:
            rows["what-if"] = run_summary(self.result, self.data, item, self.k)
        figures = pd.DataFrame(
            {n: {c: v for c, v in r.items() if c not in ("dot", "cosine")} for n, r in rows.items()}
        ).T.rename_axis("run")
        neighbors = pd.DataFrame(
            {f"{n} · {m}": r[m] for n, r in rows.items() for m in ("dot", "cosine")},
            index=pd.RangeIndex(1, self.k + 1, name="rank"),
        )
        self.summary = figures
        name = self.data.item_names[item]
        self.figures.value = (
            TABLE_STYLE + '<div style="display:flex;flex-wrap:wrap;gap:12px">'
            + frame_html(figures, "test figures")
            + frame_html(neighbors, f"neighbours of {name}") + "</div>"
        )  # fmt: skip
        models = {"start": self.base} | ({"what-if": self.result} if self.result else {})
        self.norms.show(charts.embedding_norm_chart(models, self.data))
        self.keep_button.disabled = self.result is None
        if values is not None:
            said = ", ".join(f"{k} {v:g}" for k, v in values.items())
            self.status.show(f"{self.sweeps} warm ALS sweeps with {said}", "ok")
