"""NeighborExplorer: look artists up by name and compare their neighbours across measures and
models; and, per user, their most listened artists beside their recommendations.

Lookup is a text box plus a ranked dropdown of the best 20 matches (exact, then prefix, then
substring, by popularity; case- and accent-insensitive), answered by the kernel in a few ms per
keystroke. Scores come from :mod:`mfwidgets.scoring` (cosine normalisation cached per model),
recommendations from :mod:`mfwidgets.evaluation`. Every name and tag is HTML-escaped.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd
import traitlets

from ..evaluation import recommend
from ..lookup import ArtistIndex
from ..scoring import COSINE, DOT, ArtistEmbeddings, mark_shared, neighbor_frame
from .common import StatusLine, escape, safe

MATCHES = 20
BOTH = "both"
TABLE_STYLE = (
    "<style>.mf-table{border-collapse:collapse;font-size:12px;margin:2px 8px 8px 0}"
    ".mf-table th,.mf-table td{padding:2px 6px;text-align:left;border-bottom:1px solid #ddd}"
    ".mf-table td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".mf-table tr.mf-shared td{background:#fff3c4}"
    ".mf-table tr.mf-query td{font-weight:600}</style>"
)


def _models_from(source: Any) -> dict[str, Any]:
    if isinstance(source, dict):
        if not source:
            raise ValueError("models is an empty dict: pass at least one model")
        return dict(source)
    if hasattr(source, "models") and hasattr(source, "run_names"):  # a TrainerWidget
        return dict(source.models)
    if hasattr(source, "embeddings"):
        return {"model": source}
    raise TypeError(
        "models must be a CFModel, a dict name -> CFModel, or a TrainerWidget; "
        f"got {type(source).__name__}"
    )


def table_html(df: pd.DataFrame, title: str, query: int | None = None) -> str:
    """An escaped HTML table of a neighbour/recommendation frame; shared rows highlighted."""
    cols = [c for c in ("rank", "artist", "score", "listen_count", "norm", "tags") if c in df]
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in cols)
    rows = []
    for rec in df.to_dict("records"):
        cls = []
        if rec.get("shared"):
            cls.append("mf-shared")
        if query is not None and rec.get("artistID") == query:
            cls.append("mf-query")
        cells = []
        for c in cols:
            v = rec[c]
            if isinstance(v, (float, np.floating)):
                cells.append(f'<td class="num">{v:.3f}</td>')
            elif isinstance(v, (int, np.integer)):
                cells.append(f'<td class="num">{int(v)}</td>')
            else:
                cells.append(f"<td>{escape(v)}</td>")
        rows.append(f'<tr class="{" ".join(cls)}">{"".join(cells)}</tr>')
    return (
        f'<div><b>{escape(title)}</b><table class="mf-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


class NeighborExplorer(W.VBox):
    """Artist lookup and neighbour tables for one or several models (one column per model).

    ``models``: a CFModel, a dict name -> CFModel, or a TrainerWidget (then new runs appear as
    they finish). ``explorer.results`` holds the shown tables as DataFrames keyed by (model
    name, measure); ``explorer.select(name_or_id)`` sets the query from code; the selected
    artist id is the observable trait ``selected_artist``.
    """

    selected_artist = traitlets.Int(None, allow_none=True, help="artist id of the query")
    results_version = traitlets.Int(0, help="bumped each time `results` is recomputed")

    def __init__(self, data: Any, models: Any, *, k: int = 6, measure: str = DOT) -> None:
        if not hasattr(data, "artist_info"):
            raise TypeError("data must be a LastfmData (from load_lastfm())")
        if measure not in (DOT, COSINE, BOTH):
            raise ValueError(f"measure must be 'dot', 'cosine' or 'both', got {measure!r}")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
            raise ValueError(f"k must be an integer in [1, 100], got {k!r}")
        self.data = data
        self._trainer = models if hasattr(models, "run_names") else None
        self.models = _models_from(models)
        self.index = ArtistIndex.from_data(data)
        self._cache: dict[str, ArtistEmbeddings] = {}
        self._quiet = False
        self.results: dict[tuple[str, str], pd.DataFrame] = {}
        self.recommendations: dict[str, pd.DataFrame] = {}
        self.status = StatusLine()
        self.search = W.Text(
            placeholder="type an artist name, e.g. coldpl", description="artist",
            continuous_update=True, layout=W.Layout(width="340px"),
        )  # fmt: skip
        self.matches = W.Dropdown(options=[], description="matches", layout=W.Layout(width="420px"))
        self.measure = W.ToggleButtons(
            options=[DOT, COSINE, BOTH], value=measure, style={"button_width": "70px"}
        )
        self.k = W.IntSlider(value=k, min=1, max=50, description="k")
        self.show_query = W.Checkbox(value=True, description="show the query artist", indent=False)
        self.model_picker = W.SelectMultiple(
            options=list(self.models), value=list(self.models), description="models",
            rows=min(4, max(2, len(self.models))),
        )  # fmt: skip
        self.tables = W.HTML()
        for w, cls in ((self.search, "mf-search"), (self.matches, "mf-matches"),
                       (self.measure, "mf-measure"), (self.k, "mf-k"),
                       (self.show_query, "mf-show-query"), (self.model_picker, "mf-models"),
                       (self.tables, "mf-neighbors")):  # fmt: skip
            w.add_class(cls)
        self._build_user_view()
        guard = safe(self.status)
        self.search.observe(guard(self._on_search), names="value")
        self.matches.observe(guard(self._on_match), names="value")
        for w in (self.measure, self.k, self.show_query, self.model_picker):
            w.observe(guard(lambda _: self._quiet or self.refresh()), names="value")
        if self._trainer is not None:
            self._trainer.observe(guard(self._on_runs), names="run_names")
        artists = W.VBox(
            [
                W.HBox([self.search, self.matches]),
                W.HBox([self.measure, self.k, self.show_query]),
                self.model_picker,
                self.tables,
            ]
        )
        self.tabs = W.Tab(children=[artists, self.user_box])
        self.tabs.set_title(0, "artist neighbours")
        self.tabs.set_title(1, "user recommendations")
        self.tabs.observe(guard(self._refresh_user_if_shown), names="selected_index")
        super().__init__(children=[self.tabs, self.status])
        self.add_class("mf-explorer")
        if not self.models:
            self.status.show("no models yet: train one in the trainer", "info")

    # -- artist view -----------------------------------------------------------------------------
    def select(self, artist: Any) -> int:
        """Set the query artist from code (a name, resolved as artist_neighbors does, or an id)."""
        artist_id, _ = self.index.resolve(artist)
        name = str(self.index.names[artist_id])
        with self.search.hold_trait_notifications():
            self.search.value = name
        self._set_options(self.index.search(name, MATCHES), prefer=artist_id)
        return artist_id

    def _label(self, i: int) -> str:
        return f"{self.index.names[i]} ({self.index.popularity[i]} listeners)"

    def _set_options(self, ids: list[int], prefer: int | None = None) -> None:
        """Replace the dropdown's matches and select ``prefer`` (or the top one): one refresh."""
        if prefer is not None and prefer not in ids:
            ids = [prefer, *ids[: MATCHES - 1]]
        chosen = prefer if prefer is not None else (ids[0] if ids else None)
        self._quiet = True  # replacing options fires value changes; refresh once, below
        try:
            self.matches.options = [(self._label(i), i) for i in ids]
            self.matches.value = chosen
        finally:
            self._quiet = False
        self._on_match({"new": chosen})

    def _on_search(self, change) -> None:
        text = change["new"]
        if not text.strip():
            self.matches.options = []
            self.status.show("type part of an artist's name", "info")
            return
        ids = self.index.search(text, MATCHES)
        if not ids:
            self.matches.options = []
            self.tables.value = ""
            self.results = {}
            self.status.show(f"no artist name contains {text!r}", "warn")
            return
        self._set_options(ids)

    def _on_match(self, change) -> None:
        if self._quiet:
            return
        self.selected_artist = change["new"]
        self.refresh()

    def _embeddings(self, name: str) -> ArtistEmbeddings:
        model = self.models[name]
        cache = self._cache.get(name)
        if cache is None or cache.model is not model:
            cache = self._cache[name] = ArtistEmbeddings(model)
        return cache

    def refresh(self) -> None:
        """Recompute the shown tables for the current query, measure(s), k and models."""
        artist = self.selected_artist
        if artist is None:
            return
        measures = [DOT, COSINE] if self.measure.value == BOTH else [self.measure.value]
        names = [n for n in self.model_picker.value if n in self.models]
        if not names:
            self.tables.value = ""
            self.status.show("pick at least one model", "warn")
            return
        frames = {
            (name, m): neighbor_frame(
                self.data, self._embeddings(name), artist, m, self.k.value, self.show_query.value
            )
            for name in names
            for m in measures
        }
        self.results = mark_shared(frames) if len(frames) > 1 else frames
        columns = []
        for name in names:
            cells = "".join(
                table_html(self.results[(name, m)], f"{name} · {m}", artist) for m in measures
            )
            columns.append(f'<div style="display:flex;flex-direction:column">{cells}</div>')
        legend = (
            '<div style="font-size:11px;color:#666">highlighted: the artist appears in more '
            "than one table (shared between measures or models)</div>"
            if len(frames) > 1
            else ""
        )
        self.tables.value = (
            TABLE_STYLE + '<div style="display:flex;flex-wrap:wrap;gap:12px">'
            + "".join(columns) + "</div>" + legend
        )  # fmt: skip
        self.status.show(
            f"neighbours of {self.index.names[artist]} (id {artist}, "
            f"{self.index.popularity[artist]} listeners)",
            "ok",
        )
        self.results_version += 1

    def _on_runs(self, change) -> None:
        self.models = _models_from(self._trainer)
        self._quiet = True  # replacing the picker's options fires value changes: refresh once
        try:
            self.model_picker.options = list(self.models)
            self.model_picker.value = list(self.models)
        finally:
            self._quiet = False
        self.model_picker.rows = min(4, max(2, len(self.models)))
        self.user_model.options = list(self.models)
        if self.models and self.user_model.value is None:
            self.user_model.value = list(self.models)[-1]
        self.refresh()

    # -- user view -------------------------------------------------------------------------------
    def _build_user_view(self) -> None:
        self.user = W.BoundedIntText(
            value=0, min=0, max=self.data.n_users - 1, description="user id"
        )
        self.user_model = W.Dropdown(
            options=list(self.models), value=next(iter(self.models), None), description="model"
        )
        self.hide_listened = W.Checkbox(
            value=True, description="hide artists already listened to", indent=False
        )
        self.user_tables = W.HTML()
        for w, cls in ((self.user, "mf-user"), (self.user_model, "mf-user-model"),
                       (self.hide_listened, "mf-hide-listened"),
                       (self.user_tables, "mf-recommendations")):  # fmt: skip
            w.add_class(cls)
        guard = safe(self.status)
        for w in (self.user, self.user_model, self.hide_listened, self.k):
            w.observe(guard(self._refresh_user_if_shown), names="value")
        self.user_box = W.VBox(
            [W.HBox([self.user, self.user_model, self.hide_listened]), self.user_tables]
        )

    def _refresh_user_if_shown(self, _change=None) -> None:
        """The user view is computed only while its tab is shown (keeps toggles fast)."""
        if getattr(self, "tabs", None) is not None and self.tabs.selected_index == 1:
            self.refresh_user()

    def refresh_user(self) -> None:
        """The user's most listened artists beside the chosen model's top-k recommendations."""
        name = self.user_model.value
        if name is None or name not in self.models:
            self.user_tables.value = ""
            return
        user, k = int(self.user.value), int(self.k.value)
        listens = self.data.listens
        mine = listens[listens["userID"].to_numpy() == user].nlargest(k, "listenCount")
        info = self.data.artist_info
        top = pd.DataFrame(
            {
                "rank": np.arange(1, len(mine) + 1),
                "artist": info["name"].to_numpy()[mine["artistID"]],
                "artistID": mine["artistID"].to_numpy(),
                "score": mine["listenCount"].to_numpy(),
                "listen_count": info["listen_count"].to_numpy()[mine["artistID"]],
            }
        )
        rec = recommend(
            self.models[name], self.data, user, k=k, exclude_listened=self.hide_listened.value
        ).rename(columns={"name": "artist"})
        rec.insert(0, "rank", np.arange(1, len(rec) + 1))
        self.recommendations = {"listened": top, name: rec}
        self.user_tables.value = (
            TABLE_STYLE + '<div style="display:flex;flex-wrap:wrap;gap:12px">'
            + table_html(top, f"user {user}: most listened (score = listenCount)")
            + table_html(rec, f"{name}: top {k} recommendations")
            + "</div>"
        )  # fmt: skip
