"""EmbeddingMap: an interactive map of all item embeddings, and the norm-versus-popularity view.

The map is one offline JupyterChart drawn on canvas (17,632 points for Last.fm): colour by top
tag (or genre), size by popularity, tooltips, zoom and pan. Changing the tag filter or the
highlighted items only changes chart parameters (the data is not sent again). A click selects an
item (the observable ``selected_item``, also ``selected_artist``); ``link(explorer)`` makes a
NeighborExplorer show that item and rings its neighbours on the map. t-SNE runs in a worker
process with a progress bar and a Cancel button.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd
import traitlets

from .. import charts
from ..analysis.embeddings import OTHER, item_norms, map_points
from ..analysis.projection import (
    ENGINES,
    METHODS,
    ProjectionCache,
    ProjectionCancelled,
    project,
    replay_frames,
)
from ..models.contract import has_factors
from ..models.registry import Runs
from .common import Following, StatusLine, check_dataset, runs_shown, safe
from .display import offline_chart, set_chart
from .static import StaticView
from .throttle import Throttle
from .worker import Cancel, LatestWorker

ALL = "all"


REPLAY_INTERVAL_MS = 800  #: the play button's pace (a frame is drawn in well under that)


class EmbeddingMap(StaticView, Following, W.VBox):
    """All items in 2-D (PCA at once, t-SNE in the background), selectable by click.

    ``model_or_models``: a model (CFModel, Factors, ...), a dict name -> model, a list, a Runs
    or a TrainerWidget (then new runs appear as they finish); the map starts on the latest one.
    ``selected_item`` (alias ``selected_artist``) is the clicked (or linked) item id;
    ``emap.link(explorer)`` connects a NeighborExplorer both ways. ``emap.points`` is the table
    behind the current map.
    ``tsne_engine``: "opentsne" (the default) or "sklearn" (the chapter's code).
    A run trained with ``snapshot_every=N`` gets a replay: a step slider and a play button over
    its snapshots, all drawn on the PCA axes of its last one (``emap.show_step(i)`` from code).
    """

    selected_item = traitlets.Int(None, allow_none=True, help="item id picked on the map")
    selected_artist = traitlets.Int(None, allow_none=True, help="selected_item, by its old name")

    def __init__(
        self, data: Any, model_or_models: Any, *, method: str = "pca", n_tags: int = 12,
        seed: int | None = 0, tsne_engine: str = "opentsne",
    ) -> None:  # fmt: skip
        check_dataset(data)
        if method not in METHODS:
            raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
        if tsne_engine not in ENGINES:
            raise ValueError(f"tsne_engine must be 'opentsne' or 'sklearn', got {tsne_engine!r}")
        if isinstance(n_tags, bool) or not isinstance(n_tags, int) or not 1 <= n_tags <= 19:
            raise ValueError(f"n_tags must be an integer in [1, 19], got {n_tags!r}")
        self.data = data
        self.n_tags = n_tags
        self.seed = seed
        self.tsne_engine = tsne_engine
        self.runs = Runs.of(model_or_models, "model_or_models")
        self.cache = ProjectionCache()
        self.explorer = None
        self.points = pd.DataFrame()
        self._worker = LatestWorker(name="mfwidgets-map")  # t-SNE: the latest request wins
        self._progress = Throttle(self._show_progress, 0.2)
        self._draw_lock = threading.Lock()
        self._requests = 0  # projections asked for: a t-SNE superseded by a newer one is silent
        self._highlight: list[int] = []
        self._linking = False
        self._suppress_method = False
        self._quiet = False
        self._drawn_method = "pca"
        self.status = StatusLine()
        guard = safe(self.status)
        self._build_controls()
        self._wire(guard)
        super().__init__(children=[self._build_tabs(guard), self.status])
        traitlets.link((self, "selected_item"), (self, "selected_artist"))
        self.add_class("mf-embedding-map")
        self._norm_chart = None
        if len(self.runs):
            guard(self._reproject)()
            if method == "tsne":
                self.method.value = "tsne"
        else:
            self.status.show("no models yet: train one in the trainer", "info")

    def _build_controls(self) -> None:
        """The map's controls, the replay row and the norm chart's box, with their CSS classes."""
        names = self.runs.names
        self.model_pick = W.Dropdown(  # starts on the latest run; drawn once, below
            options=names, value=names[-1] if names else None, description="model"
        )
        self.method = W.ToggleButtons(options=list(METHODS), value="pca",
                                      style={"button_width": "60px"})  # fmt: skip
        self.tag_filter = W.Dropdown(options=[ALL], value=ALL, description="show tag")
        self.progress = W.FloatProgress(value=0, min=0, max=1, description="t-SNE")
        self.progress_label = W.Label("")
        self.cancel_button = W.Button(description="Cancel", icon="times", disabled=True)
        self.chart = offline_chart(
            charts.embedding_map_chart(
                self._empty_points(), noun=self.data.item_noun, user_noun=self.data.user_noun
            ),
            css_class="mf-map",
        )
        # the replay of a run's snapshots (train(..., snapshot_every=N)): shown when it has some
        self.play = W.Play(value=0, min=0, max=1, step=1, interval=REPLAY_INTERVAL_MS)
        self.step = W.IntSlider(value=0, min=0, max=1, description="replay", readout=False)
        self.step_label = W.Label("")
        W.jslink((self.play, "value"), (self.step, "value"))
        self.replay_row = W.HBox([self.play, self.step, self.step_label])
        self._frames: list[np.ndarray] = []
        self.log_scale = W.Checkbox(value=True, description="log popularity", indent=False)
        self.norm_box = W.VBox([self.log_scale])
        for w, cls in (
            (self.model_pick, "mf-map-model"), (self.method, "mf-method"),
            (self.tag_filter, "mf-tag-filter"), (self.progress, "mf-map-progress"),
            (self.cancel_button, "mf-cancel"), (self.log_scale, "mf-norm-log"),
            (self.play, "mf-play"), (self.step, "mf-replay"),
        ):  # fmt: skip
            w.add_class(cls)

    def _wire(self, guard) -> None:
        """Each control to its handler (errors shown in the status line); the runs followed."""
        self.method.observe(guard(self._on_method), names="value")
        self.model_pick.observe(guard(lambda _: self._quiet or self._reproject()), names="value")
        self.tag_filter.observe(guard(self._on_tag), names="value")
        self.cancel_button.on_click(guard(lambda _: self.cancel()))
        self.chart.observe(guard(self._on_selection), names="_vl_selections")
        self.log_scale.observe(guard(lambda _: self._draw_norms()), names="value")
        self.step.observe(guard(lambda _: self.show_step(self.step.value)), names="value")
        self._unobserve = self.runs.observe(lambda runs, name: guard(self._on_runs)(name))

    def _build_tabs(self, guard) -> W.Tab:
        """The map tab (pickers, progress, replay, chart) and the norm tab."""
        self.progress_row = W.HBox([self.progress, self.cancel_button, self.progress_label])
        map_tab = W.VBox(
            [W.HBox([self.model_pick, self.method, self.tag_filter]), self.progress_row,
             self.replay_row, self.chart]
        )  # fmt: skip
        self.tabs = W.Tab(children=[map_tab, self.norm_box])
        self._show_running(False)
        self.tabs.set_title(0, "embedding map")
        self.tabs.set_title(1, "norm vs popularity")
        self.tabs.observe(guard(lambda _: self._draw_norms()), names="selected_index")
        return self.tabs

    # -- public API ------------------------------------------------------------------------------
    @property
    def models(self) -> dict[str, Any]:
        """The models on offer, by name (the runs as a dict)."""
        return self.runs.as_dict()

    @property
    def model(self) -> Any:
        return self.runs.get(self.model_pick.value)

    def link(self, explorer: Any) -> None:
        """Clicks on the map select the artist in ``explorer``; its neighbours are ringed here,
        and a query typed in the explorer is ringed on the map too."""
        self.explorer = explorer
        explorer.observe(safe(self.status)(self._on_explorer), names="results_version")

    def highlight(self, artist_ids: Any) -> None:
        """Ring these artists on the map (only a chart parameter changes)."""
        self._highlight = [int(i) for i in artist_ids]
        if self.points.empty:
            return
        self.chart.params.highlight = self._highlight

    def cancel(self) -> None:
        """Cancel a running t-SNE; the previous map stays."""
        self._worker.cancel()

    def _closing(self) -> None:
        self._progress.cancel()

    # -- projection ------------------------------------------------------------------------------
    def _empty_points(self) -> pd.DataFrame:
        cols = ["x", "y", "item_index", "name", "tag", "tags", "n_users", "norm"]
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})

    def _on_method(self, change) -> None:
        if not self._suppress_method:
            self._reproject()

    def show_step(self, index: int) -> None:
        """Draw snapshot ``index`` of the current run in the replay's fixed frame (the PCA axes
        of its last snapshot); the ringed items stay ringed."""
        model = self.model
        snaps = getattr(model, "snapshots", [])
        if not self._frames or not 0 <= index < len(self._frames):
            return
        snap = snaps[index]
        norms = np.linalg.norm(snap.item_factors.astype(np.float64), axis=1)
        label = f"replay, step {snap.iteration} of {snaps[-1].iteration} (final PCA axes)"
        self._draw(model, self._frames[index], label, norms)
        self.step_label.value = f"step {snap.iteration} / {snaps[-1].iteration}"

    def _prepare_replay(self) -> None:
        """The current run's replay frames, and the replay row shown only when it has two or
        more snapshots."""
        snaps = getattr(self.model, "snapshots", [])
        self._frames = replay_frames([s.item_factors for s in snaps]) if len(snaps) > 1 else []
        self.replay_row.layout.display = None if self._frames else "none"
        if self._frames:
            self.play.max = self.step.max = len(self._frames) - 1
            self.step_label.value = f"{len(self._frames)} snapshots: press play"

    def _reproject(self) -> None:
        """Project the picked run: PCA at once, t-SNE in the worker (a t-SNE in progress is
        stale either way: the latest request wins)."""
        model = self.model
        if model is None:
            return
        if not has_factors(model):
            self.status.show(
                f"{self.model_pick.value} ({type(model).__name__}) has no item factors to map: "
                "pick a factor model (its neighbours are in the explorer)", "warn",
            )  # fmt: skip
            return
        self._requests += 1
        self._prepare_replay()
        emb = np.asarray(model.item_factors)
        if self.method.value == "pca":
            if self._worker.busy:
                self._worker.cancel()
                self._show_running(False)
            coords = project(emb, "pca", self.seed, cache=self.cache)
            with self._draw_lock:
                self._draw(model, coords, "PCA")
                self._drawn_method = "pca"
            return
        self._show_running(True)
        self.status.show("t-SNE running in a worker process (the kernel stays free)…", "running")
        request = self._requests
        self._worker.submit(lambda cancel: self._tsne(model, emb, cancel, request))

    def _tsne(self, model: Any, emb: np.ndarray, cancel: Cancel, request: int) -> None:
        try:
            coords = project(
                emb, "tsne", self.seed, cache=self.cache, cancel=cancel,
                progress=lambda f, msg: self._progress.submit((f, msg)), engine=self.tsne_engine,
            )  # fmt: skip
            with self._draw_lock:  # (a request made since has cancelled this one)
                if cancel.is_set():
                    raise ProjectionCancelled("superseded")
                self._draw(model, coords, f"t-SNE (cosine, perplexity 40, {self.tsne_engine})")
                self._drawn_method = "tsne"
        except ProjectionCancelled:
            if request == self._requests:  # cancelled by the user, not by a newer request
                self.status.show("t-SNE cancelled; the previous map stays", "warn")
                self._set_method_quietly(self._drawn_method)
        except Exception as exc:  # the widget reports; the worker lives on
            self.status.show(f"t-SNE failed: {exc}", "error")
            self._set_method_quietly(self._drawn_method)
        finally:
            self._progress.flush()
            if request == self._requests:
                self._show_running(False)

    def _set_method_quietly(self, value: str) -> None:
        """Show ``value`` in the method buttons without projecting again."""
        self._suppress_method = True
        try:
            self.method.value = value
        finally:
            self._suppress_method = False

    def _draw(
        self, model: Any, coords: np.ndarray, label: str, norms: np.ndarray | None = None
    ) -> None:
        norms = item_norms(model) if norms is None else norms
        self.points = map_points(self.data, coords, norms, self.n_tags)
        tags = [t for t in self.points["tag"].value_counts().index if t != OTHER]
        options = [ALL, *tags, *([OTHER] if (self.points["tag"] == OTHER).any() else [])]
        if list(self.tag_filter.options) != options:
            current = self.tag_filter.value if self.tag_filter.value in options else ALL
            self.tag_filter.options = options
            self.tag_filter.value = current
        figure = charts.embedding_map_chart(
            self.points, tag_filter=self.tag_filter.value, highlight=self._highlight,
            title=f"{self.model_pick.value}: {label} of {len(self.points):,} "
            f"{self.data.item_noun}s", noun=self.data.item_noun, user_noun=self.data.user_noun,
        )  # fmt: skip
        set_chart(self.chart, figure)
        self.status.show(
            f"{label} map of {self.model_pick.value}: hover for names, scroll to zoom, "
            "drag to pan, click to select",
            "ok",
        )

    def _show_running(self, running: bool) -> None:
        self.progress_row.layout.display = None if running else "none"
        self.cancel_button.disabled = not running
        self.method.disabled = running
        self.model_pick.disabled = running
        if running:
            self.progress.value = 0

    def _show_progress(self, value: tuple[float, str]) -> None:
        fraction, message = value
        self.progress.value = fraction
        self.progress_label.value = message

    # -- interaction -----------------------------------------------------------------------------
    def _on_tag(self, change) -> None:
        if not self.points.empty:
            self.chart.params.tag_filter = change["new"]

    def _on_selection(self, change) -> None:
        pick = change["new"].get("pick")
        if not pick:
            return
        chosen = self.chart.selections.pick.value if hasattr(self.chart.selections, "pick") else []
        if not chosen:
            return
        artist = int(chosen[0]["item_index"])
        self.selected_item = artist
        if self.explorer is not None:
            self._linking = True
            try:
                self.explorer.select(artist)
            finally:
                self._linking = False
        else:
            self.highlight([artist])

    def _on_explorer(self, change) -> None:
        """Ring the explorer's query and its neighbours (this map's model first)."""
        ex = self.explorer
        artist = ex.selected_item
        if artist is None:
            return
        if not self._linking:
            self.selected_item = artist
        tables = [df for (name, _), df in ex.results.items() if name == self.model_pick.value]
        tables = tables or list(ex.results.values())[:1]
        ids = [artist] + [int(i) for df in tables for i in df["item_index"] if i != artist]
        self.highlight(list(dict.fromkeys(ids)))

    def _on_runs(self, name: str) -> None:
        """Runs added or removed: the map keeps its run (projected again when that run has
        trained further), else shows the latest; the norm panels follow when shown."""
        current, names = self.model_pick.value, self.runs.names
        self._quiet = True  # replacing the options resets the pick: project once, below
        try:
            self.model_pick.options = names
            self.model_pick.value = current if current in self.runs else (names or [None])[-1]
        finally:
            self._quiet = False
        if self.model_pick.value is not None and (
            self.model_pick.value != current or name == current
        ):
            self._reproject()
        self._draw_norms()

    # -- norm vs popularity ----------------------------------------------------------------------
    def _draw_norms(self) -> None:
        if self.tabs.selected_index != 1 or not len(self.runs):
            return
        factored = [n for n in self.runs.names if has_factors(self.runs[n])]
        if not factored:
            self.norm_box.children = [W.HTML("no run has item factors: no norms to draw")]
            self._norm_chart = None
            return
        shown = runs_shown(factored, (), (), [n for n in self.runs.pinned if n in factored])
        latest = {n: self.runs[n] for n in shown}  # the pinned and latest factor models
        chart = charts.embedding_norm_chart(latest, self.data, log_scale=self.log_scale.value)
        if self._norm_chart is None:
            self._norm_chart = offline_chart(chart, css_class="mf-norm-chart")
            self.norm_box.children = [self.log_scale, self._norm_chart]
        else:
            set_chart(self._norm_chart, chart)
