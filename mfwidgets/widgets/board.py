"""ComparisonBoard: two or more runs side by side, with the differences that matter marked.

Three tabs: metrics (one table, each cell marked when it differs significantly from the
reference run, and the learning curves overlaid), neighbours (one item's neighbours under each
run, their Jaccard overlap, and each run's norm-vs-popularity correlation), popularity bias
(recommendation frequency against popularity, dot and cosine; computed when the tab is shown,
since it ranks every item for every user twice per run). The maths is the analysis floor's
(:mod:`~mfwidgets.analysis.compare`, :mod:`~mfwidgets.analysis.bias`); work runs in a
background thread and each run's expensive part is cached by model version, so switching the
reference or k only cuts cached lists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd
import traitlets

from .. import charts
from ..analysis.bias import bias_table, user_top_lists
from ..analysis.compare import K_MAX, compare, neighbor_overlap, profile
from ..analysis.embeddings import item_norms, spearman
from ..analysis.evaluation import user_csr
from ..analysis.lookup import ItemIndex
from ..analysis.scoring import COSINE, DOT, ItemEmbeddings
from ..checks import check_k
from ..data.split import Split
from ..memory import give_back
from ..models.contract import has_factors, split_of
from ..models.persistence import write_atomic
from ..models.registry import Runs
from .common import MAX_SHOWN, Following, StatusLine, check_dataset, escape, runs_shown, safe
from .display import LiveChart
from .html_tables import TABLE_STYLE, frame_html
from .picker import ItemPicker
from .static import StaticView
from .worker import Cancel, LatestWorker

BIAS_TAB = 2  #: the popularity-bias tab, computed when shown
STYLE = (
    TABLE_STYLE + "<style>.mf-table td.mf-significant{background:#dcedc8;font-weight:600}</style>"
)


class ComparisonBoard(StaticView, Following, W.VBox):
    """Runs side by side: metrics with paired tests, curves, neighbours, popularity bias.

    ``runs``: a TrainerWidget (its registry: new runs appear as they finish), a Runs, a dict
    name -> model, a list, or one model. The test split is the first run's that holds one
    (``split=``, a :class:`~mfwidgets.data.Split`, or ``train=``/``test=`` override it, and are
    needed when no run holds one). ``board.results``
    holds the shown figures as DataFrames; ``board.to_html(path)`` writes them, charts
    included, as one offline HTML file; ``board.wait()`` blocks until the background work is
    done.
    """

    results_version = traitlets.Int(0, help="bumped each time `results` is recomputed")

    def __init__(
        self,
        runs: Any,
        data: Any,
        *,
        reference: str | None = None,
        k: int = 10,
        split: Split | None = None,
        train: pd.DataFrame | None = None,
        test: pd.DataFrame | None = None,
    ) -> None:
        self.data = check_dataset(data)
        if check_k(k) > K_MAX:
            raise ValueError(f"k must be at most {K_MAX}, got {k!r}")
        if split is not None:
            if not isinstance(split, Split) or train is not None or test is not None:
                raise TypeError("split must be a mfwidgets.data.Split (and then no train=/test=)")
            train, test = split.train, split.test
        if (train is None) != (test is None):
            raise ValueError("give both train= and test=, or neither")
        self.runs = Runs.of(runs, "runs")
        if reference is not None and reference not in self.runs:
            raise ValueError(f"reference must be one of {self.runs.names}, got {reference!r}")
        self._split = (train, test) if train is not None else None
        self.index = ItemIndex.from_data(data)
        self.results: dict[str, pd.DataFrame] = {}
        self._profiles: dict[str, tuple[Any, Any]] = {}  # name -> (model key, cached work)
        self._seen: Any = None  # every user's items (CSR), excluded from the bias lists
        self._worker = LatestWorker(self._failed, name="mfwidgets-board")
        self._export = False
        self._figures: dict[str, charts.Figure] = {}
        self.status = StatusLine()
        guard = safe(self.status)
        self._build_controls(reference, k)
        self._quiet = False
        for w in (self.reference, self.k, self.measure, self.matches, self.run_picker):
            w.observe(guard(lambda _: self._quiet or self.refresh()), names="value")
        self.bias.value = '<div style="color:#555">computed when this tab is shown</div>'
        self._unobserve = self.runs.observe(lambda runs, name: guard(self._on_runs)())
        super().__init__(
            children=[
                W.HBox([self.reference, self.k, self.run_picker]),
                self._build_tabs(guard),
                self.status,
            ]
        )
        self.add_class("mf-board")
        self.refresh()

    def _build_controls(self, reference: str | None, k: int) -> None:
        """The pickers, the item search and the three tabs' outputs, with their CSS classes."""
        names = self.runs.names
        self.reference = W.Dropdown(options=names, value=reference or next(iter(names), None),
                                    description="reference")  # fmt: skip
        self.k = W.IntSlider(value=k, min=1, max=K_MAX, description="k")
        self.run_picker = W.SelectMultiple(options=names, value=names[-MAX_SHOWN:],
                                           description="runs", rows=4)  # fmt: skip
        self.measure = W.ToggleButtons(options=[DOT, COSINE], value=DOT,
                                       style={"button_width": "70px"})  # fmt: skip
        self.picker = ItemPicker(self.data, self.index, self.status)
        self.search, self.matches = self.picker.search, self.picker.matches
        self.metrics = W.HTML()
        self.neighbors = W.HTML()
        self.bias = W.HTML()
        empty = charts.runs_curves_chart({})
        self.curves = LiveChart(empty, renderer="svg", css_class="mf-board-curves")
        self.popularity = LiveChart(empty, renderer="svg", css_class="mf-board-popularity")
        for w, cls in ((self.reference, "mf-reference"), (self.k, "mf-k"),
                       (self.run_picker, "mf-board-runs"),
                       (self.metrics, "mf-board-metrics"), (self.neighbors, "mf-board-neighbors"),
                       (self.bias, "mf-board-bias")):  # fmt: skip
            w.add_class(cls)

    def _build_tabs(self, guard) -> W.Tab:
        """Metrics and curves; neighbours of a picked item; popularity bias."""
        self.tabs = W.Tab(
            children=[
                W.VBox([self.metrics, self.curves.widget]),
                W.VBox([W.HBox([self.picker.widget, self.measure]), self.neighbors]),
                W.VBox([self.popularity.widget, self.bias]),
            ]
        )
        titles = ("metrics", f"{self.data.item_noun} neighbours", "popularity bias")
        for i, title in enumerate(titles):
            self.tabs.set_title(i, title)
        self.tabs.observe(guard(self._on_tab), names="selected_index")
        return self.tabs

    # -- public ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute (in the background) what the board shows; a newer request stops the
        current one between runs."""
        self._worker.submit(self._compute)

    def to_html(self, path: str | Path) -> Path:
        """The board as one standalone HTML file: tables, and the charts drawn by vega bundled
        in the file (opens offline, no CDN)."""
        self._export = True  # the popularity-bias tab's work too
        try:
            self.refresh()
            self.wait()
        finally:
            self._export = False
        if not self.results:
            raise ValueError("nothing to export yet: the board has no runs")
        figures = [f for f in (self._figures.get("curves"), self._figures.get("popularity")) if f]
        page = charts.to_html(*figures, title="mfwidgets comparison", body=self._body_html())
        return write_atomic(Path(path), lambda fh: fh.write(page.encode()))

    # -- work ------------------------------------------------------------------------------------
    def _failed(self, exc: Exception) -> None:  # the board shows it; its worker lives on
        self.status.show(f"{type(exc).__name__}: {exc}", "error")

    def _split_for(self, models: dict[str, Any]) -> tuple[Any, Any]:
        """The board's split: the one given, else the first run's that holds one (the same
        whichever run is the reference, so the cache holds)."""
        if self._split is not None:
            return self._split
        for m in models.values():
            split = split_of(m)
            if split is not None and split.test is not None and len(split.test):
                return split.train, split.test
        raise ValueError("no run holds a train/test split: pass train= and test=")

    def _cached(self, name: str, model: Any, train: Any, test: Any) -> dict[str, Any]:
        """A run's expensive work, once per model version and split."""
        key = (id(model), model.version, id(train), id(test))
        hit = self._profiles.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        work = {
            "profile": profile(model, train, test),
            "embeddings": self.runs.shared(name, "item_embeddings", ItemEmbeddings, model),
            "rho": (
                spearman(item_norms(model), self.data.item_popularity)
                if has_factors(model)
                else np.nan  # (EASE, ItemKNN: no embeddings, no norms)
            ),
        }
        self._profiles[name] = (key, work)
        return work

    def _top_lists(self, model: Any, work: dict[str, Any]) -> dict[str, np.ndarray]:
        """Every user's top K_MAX by dot and cosine, or by its own scores for a model without
        factors (the popularity-bias tab's work: the costliest, done when that tab is shown or
        the board exported), cached with the run."""
        if "top" not in work:
            if self._seen is None:
                self._seen = user_csr(self.data.interactions, self.data.n_users)
            work["top"] = {
                m: user_top_lists(model, self.data, m, K_MAX, seen=self._seen)
                for m in work["embeddings"].measures
            }
        return work["top"]

    def _compute(self, cancel: Cancel) -> None:
        every = self.runs.as_dict()
        if not every:
            self.status.show("no runs yet: train one in the trainer", "info")
            return
        reference = self.reference.value if self.reference.value in every else next(iter(every))
        shown = set(self.run_picker.value) | {reference}
        models = {n: m for n, m in every.items() if n in shown}
        k, item, measure = int(self.k.value), self.matches.value, self.measure.value
        train, test = self._split_for(models)
        self.status.show(f"comparing {len(models)} runs…", "running")
        work = {}
        for name, m in models.items():
            if cancel.is_set():  # a newer request: it recomputes what is still missing
                return
            work[name] = self._cached(name, m, train, test)
        for name in [n for n in self._profiles if n not in models]:
            del self._profiles[name]  # the work of runs no longer compared is let go
        table, raw, adjusted = compare(
            models, {n: w["profile"] for n, w in work.items()}, train, test,
            reference=reference, k=k,
        )  # fmt: skip
        ids, overlap = neighbor_overlap(
            {n: w["embeddings"] for n, w in work.items()}, item, k, measure
        )
        neighbors = pd.DataFrame(
            {n: list(self.data.item_names[v]) for n, v in ids.items()},
            index=pd.RangeIndex(1, k + 1, name="rank"),
        )
        rhos = pd.DataFrame(
            {"spearman ρ (norm, popularity)": {n: w["rho"] for n, w in work.items()}}
        ).rename_axis("run")
        bias = None
        if self._export or self.tabs.selected_index == BIAS_TAB:
            tops = {}
            for n, w in work.items():
                if cancel.is_set():
                    return
                tops[n] = self._top_lists(models[n], w)
            bias = bias_table(
                {n: {m: lists[:, :k] for m, lists in top.items()} for n, top in tops.items()},
                self.data,
            )
        histories = {n: getattr(m, "history", None) for n, m in models.items()}
        undrawn = [n for n, h in histories.items() if not isinstance(h, pd.DataFrame) or h.empty]
        others = [n for n, m in models.items() if _other_split(m, test)]
        self.results = {
            "metrics": table, "p_values": adjusted, "p_values_raw": raw,
            "neighbors": neighbors, "overlap": overlap, "norm_popularity": rhos,
        }  # fmt: skip
        self._figures = {"curves": charts.runs_curves_chart(histories)}
        if bias is not None:
            self.results.update(popularity_bias=bias.table, popularity_curve=bias.curve)
            self._figures["popularity"] = charts.popularity_curve_chart(
                bias.curve, noun=self.data.item_noun
            )
        n_users = len(next(iter(work.values()))["profile"].recs)  # the test users
        self._show(reference, k, item, measure, n_users, undrawn, others)
        give_back(collect=False)  # the scores scored in chunks go back to the system

    def _show(self, reference, k, item, measure, n_users, undrawn, others) -> None:
        r = self.results
        tested = int(np.isfinite(r["p_values_raw"].drop(columns="test_rmse").to_numpy()).sum())
        legend = (
            f'<div style="font-size:11px;color:#555">* differs from {escape(reference)} at 5 %: '
            f"paired t-test over the {n_users:,} test users, Holm-corrected "
            f"over the {tested} tested cells; hover a cell for its p-value. Coverage and seconds "
            "are not tested.</div>"
        )
        notes = []
        if undrawn:
            notes.append(f"no learning curve (no history): {', '.join(undrawn)}")
        if others:
            notes.append(
                f"trained on another split, not comparable on this test: {', '.join(others)}"
            )
        note = "".join(
            f'<div style="font-size:11px;color:#ef6c00">{escape(n)}</div>' for n in notes
        )
        self.metrics.value = (
            STYLE + frame_html(r["metrics"], f"test metrics @{k}", r["p_values"]) + legend + note
        )
        name = self.data.item_names[item]
        self.neighbors.value = (
            STYLE + '<div style="display:flex;flex-wrap:wrap;gap:12px">'
            + frame_html(r["neighbors"], f"{k} nearest to {name} ({measure})")
            + frame_html(r["overlap"].rename_axis("Jaccard"), "neighbour overlap (Jaccard)")
            + frame_html(r["norm_popularity"], "embedding norm vs popularity")
            + "</div>"
        )  # fmt: skip
        if "popularity_bias" in r:
            bias = r["popularity_bias"].copy()
            bias.index = [f"{a} · {b}" for a, b in bias.index]
            self.bias.value = STYLE + frame_html(
                bias.rename_axis("run · measure"), f"popularity bias @{k}"
            )
            self.popularity.show(self._figures["popularity"])
        self.curves.show(self._figures["curves"])
        self.status.show(f"{len(r['metrics'])} runs compared against {reference}", "ok")
        self.results_version += 1

    def _body_html(self) -> str:
        return (
            f"<h2>Comparison of {len(self.results['metrics'])} runs</h2>"
            + self.metrics.value
            + self.neighbors.value
            + self.bias.value
        )

    # -- controls --------------------------------------------------------------------------------
    def _on_tab(self, change) -> None:
        if change["new"] == BIAS_TAB and "popularity_bias" not in self.results:
            self.refresh()

    def _on_runs(self) -> None:
        """A new run joins the compared runs (see widgets.common.runs_shown)."""
        names, current = self.runs.names, self.reference.value
        shown = runs_shown(names, self.run_picker.options, self.run_picker.value, self.runs.pinned)
        self._quiet = True  # replacing options fires value changes: refresh once, below
        try:
            self.run_picker.options = names
            self.run_picker.value = shown
            self.reference.options = names
            self.reference.value = current if current in self.runs else next(iter(names), None)
        finally:
            self._quiet = False
        self.refresh()


def _other_split(model: Any, test: pd.DataFrame) -> bool:
    """True when the model holds a test split that is not the board's."""
    split = split_of(model)
    own = None if split is None else split.test
    return own is not None and own is not test and not own.equals(test)
