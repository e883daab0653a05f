"""NeighborExplorer: look items (artists, movies, ...) up by name and compare their neighbours
across measures and models; and, per user, their heaviest items beside their recommendations.

Lookup is a text box plus a ranked dropdown of the best 20 matches (exact, then prefix, then
substring, by popularity; case- and accent-insensitive), answered by the kernel in a few ms per
keystroke. Scores, tables and recommendations come from the analysis floor (cosine
normalisation cached per model version). Every name and tag is HTML-escaped.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd
import traitlets

from ..analysis.explain import explain
from ..analysis.lookup import ItemIndex
from ..analysis.recommend import recommend
from ..analysis.scoring import COSINE, DOT, ItemEmbeddings, neighbor_frame
from ..analysis.tables import mark_shared, user_top_items
from ..checks import check_k, show
from ..data.dataset import Dataset
from ..models.registry import Runs
from .common import MAX_SHOWN, Following, StatusLine, check_dataset, escape, runs_shown, safe
from .html_tables import TABLE_STYLE, frame_html, table_html
from .picker import MATCHES, did_you_mean
from .static import StaticView

BOTH = "both"


#: the largest k the explorer shows (its slider's end)
MAX_K = 50
#: the mark of a query item whose factor comes from its tags alone (a hybrid's cold item)
TAGS_ONLY = "from tags only"


class NeighborExplorer(StaticView, Following, W.VBox):
    """Item lookup and neighbour tables for one or several models (one column per model).

    ``models``: a model (CFModel, Factors, ...), a dict name -> model, a list, a Runs or a
    TrainerWidget (then new runs appear as they finish). ``explorer.results`` holds the shown
    tables as DataFrames keyed by (model name, measure); ``explorer.select(name_or_id)`` sets
    the query from code; the selected item id is the observable trait ``selected_item``
    (``selected_artist``, the chapter's word, is the same value: either can be observed).
    """

    selected_item = traitlets.Int(None, allow_none=True, help="item id of the query")
    selected_artist = traitlets.Int(None, allow_none=True, help="selected_item, by its old name")
    results_version = traitlets.Int(0, help="bumped each time `results` is recomputed")

    def __init__(self, data: Any, models: Any, *, k: int = 6, measure: str = DOT) -> None:
        self.data = check_dataset(data)
        if measure not in (DOT, COSINE, BOTH):
            raise ValueError(f"measure must be 'dot', 'cosine' or 'both', got {measure!r}")
        if check_k(k) > MAX_K:
            raise ValueError(f"k must be at most {MAX_K}, got {k!r}")
        self.runs = Runs.of(models)
        self.index = ItemIndex.from_data(data)
        self._cache: dict[str, ItemEmbeddings] = {}
        self._frames: dict[tuple, pd.DataFrame] = {}  # tables of the shown runs, by query
        self._quiet = False
        self.results: dict[tuple[str, str], pd.DataFrame] = {}
        self.recommendations: dict[str, pd.DataFrame] = {}
        self.explanation = None  #: the last "why?" shown (an analysis.Explanation)
        self.status = StatusLine()
        self.search = W.Text(
            placeholder=f"type a name, e.g. {_example(data)}", description=data.item_noun,
            continuous_update=True, layout=W.Layout(width="340px"),
        )  # fmt: skip
        self.matches = W.Dropdown(options=[], description="matches", layout=W.Layout(width="420px"))
        self.measure = W.ToggleButtons(
            options=[DOT, COSINE, BOTH], value=measure, style={"button_width": "70px"}
        )
        self.k = W.IntSlider(value=k, min=1, max=MAX_K, description="k")
        self.show_query = W.Checkbox(
            value=True, description=f"show the query {data.item_noun}", indent=False
        )
        self.model_picker = W.SelectMultiple(
            options=self.runs.names, value=self.runs.names[-MAX_SHOWN:], description="models",
            rows=min(4, max(2, len(self.runs.names))),
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
        self._unobserve = self.runs.observe(lambda runs, name: guard(self._on_runs)())
        artists = W.VBox(
            [
                W.HBox([self.search, self.matches]),
                W.HBox([self.measure, self.k, self.show_query]),
                self.model_picker,
                self.tables,
            ]
        )
        self.tabs = W.Tab(children=[artists, self.user_box])
        self.tabs.set_title(0, f"{data.item_noun} neighbours")
        self.tabs.set_title(1, "user recommendations")
        self.tabs.observe(guard(self._refresh_user_if_shown), names="selected_index")
        super().__init__(children=[self.tabs, self.status])
        traitlets.link((self, "selected_item"), (self, "selected_artist"))
        self.add_class("mf-explorer")
        if not self.runs.names:
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
        return f"{self.index.names[i]} ({self.index.popularity[i]} {self.data.user_noun}s)"

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
            self.status.show(f"type part of a name ({self.data.item_noun})", "info")
            return
        ids, suggested = self.index.lookup(text, MATCHES)
        if not ids:
            self.matches.options = []
            self.tables.value = ""
            self.results = {}
            self.status.show(f"no {self.data.item_noun} name contains {text!r}", "warn")
            return
        self._set_options(ids)
        if suggested:  # (after the tables' own status line)
            self.status.show(did_you_mean(self.data.item_noun, text, self.index, ids), "warn")

    def _on_match(self, change) -> None:
        if self._quiet:
            return
        self.selected_item = change["new"]
        self.refresh()

    @property
    def models(self) -> dict[str, Any]:
        """The models shown, by name (the runs as a dict)."""
        return self.runs.as_dict()

    def _embeddings(self, name: str) -> ItemEmbeddings:
        model = self.runs[name]
        cache = self._cache.get(name)
        if cache is None or cache.model is not model:  # (shared with the board, say)
            shared = self.runs.shared(name, "item_embeddings", ItemEmbeddings, model)
            cache = self._cache[name] = shared
        return cache

    def _frame(self, name: str, artist: int, measure: str) -> pd.DataFrame:
        """One table, computed again only when its run, query, measure or k changed (a new run
        costs its own tables only)."""
        model = self.runs[name]
        key = (name, id(model), model.version, artist, measure, self.k.value,
               self.show_query.value)  # fmt: skip
        if key not in self._frames:
            stale = [k for k in self._frames if k[0] == name and k[4] == measure]
            for k in stale:  # one table per run and measure is kept
                del self._frames[k]
            self._frames[key] = neighbor_frame(
                self.data, self._embeddings(name), artist, measure, self.k.value,
                self.show_query.value,
            )  # fmt: skip
        return self._frames[key]

    def refresh(self) -> None:
        """Recompute the shown tables for the current query, measure(s), k and models."""
        artist = self.selected_item
        if artist is None:
            return
        measures = [DOT, COSINE] if self.measure.value == BOTH else [self.measure.value]
        picked = [n for n in self.model_picker.value if n in self.runs]
        names = [n for n in picked if self._embeddings(n).measures]
        without = [n for n in picked if n not in names]  # (baselines: no item neighbours)
        if not names:
            self.tables.value = ""
            self.status.show(
                f"{', '.join(without)}: no item neighbours (neither factors nor item–item "
                "similarities); pick another model"
                if without
                else "pick at least one model",
                "warn",
            )
            return
        frames = {
            (name, m): self._frame(name, artist, m)
            for name in names
            for m in self._measures(name, measures)
        }
        self.results = mark_shared(frames) if len(frames) > 1 else frames
        columns = []
        tags_only = [name for name in names if self.from_tags_only(name, artist)]
        for name in names:
            mark = f" · {TAGS_ONLY}" if name in tags_only else ""
            emb = self._embeddings(name)
            cells = "".join(
                table_html(
                    self.results[(name, m)],
                    f"{name} · {emb.label(m)}{mark}",
                    artist,
                    self.data.item_noun,
                )
                for m in self._measures(name, measures)
            )
            columns.append(f'<div style="display:flex;flex-direction:column">{cells}</div>')
        legend = (
            '<div style="font-size:11px;color:#666">highlighted: the item appears in more '
            "than one table (shared between measures or models)</div>"
            if len(frames) > 1
            else ""
        )
        self.tables.value = (
            TABLE_STYLE + '<div style="display:flex;flex-wrap:wrap;gap:12px">'
            + "".join(columns) + "</div>" + legend
        )  # fmt: skip
        note = f"; {TAGS_ONLY} in {', '.join(tags_only)}" if tags_only else ""
        note += f"; no item neighbours in {', '.join(without)}" if without else ""
        self.status.show(
            f"neighbours of {self.index.names[artist]} (id {show(self.data.item_id(artist))}, "
            f"{self.index.popularity[artist]} {self.data.user_noun}s){note}",
            "ok",
        )
        self.results_version += 1

    def _measures(self, name: str, measures: list[str]) -> list[str]:
        """The measures shown for run ``name``: an item–item model has one (its own)."""
        own = self._embeddings(name).measures
        return measures if len(own) > 1 else measures[:1]

    def from_tags_only(self, name: str, item: int) -> bool:
        """True when model ``name`` gives ``item`` a factor from its tags alone (a hybrid kind,
        an item without training interactions)."""
        mask = getattr(self.runs[name], "from_tags_only", None)
        return mask is not None and bool(mask[item])

    def _on_runs(self) -> None:
        """A new run joins the runs shown (what the user picked stays picked); at most
        MAX_SHOWN are shown, the oldest dropping out, so a refresh costs the same at fifty runs
        as at five. Embeddings of runs no longer shown are let go."""
        names = self.runs.names
        shown = runs_shown(
            names, self.model_picker.options, self.model_picker.value, self.runs.pinned
        )
        self._quiet = True  # replacing the picker's options fires value changes: refresh once
        try:
            self.model_picker.options = names
            self.model_picker.value = shown
        finally:
            self._quiet = False
        for name in set(self._cache) - set(shown):
            del self._cache[name]
        self._frames = {key: f for key, f in self._frames.items() if key[0] in shown}
        self.model_picker.rows = min(4, max(2, len(self.runs.names)))
        self.user_model.options = self.runs.names
        if self.runs.names and self.user_model.value is None:
            self.user_model.value = self.runs.names[-1]
        self.refresh()

    # -- user view -------------------------------------------------------------------------------
    def _build_user_view(self) -> None:
        # the data's own user ids, typed as text (MovieLens user 196 is "196")
        self._user_texts: pd.Index | None = None
        self.user = W.Text(
            value=str(self.data.user_id(0)), description="user id", continuous_update=False,
            layout=W.Layout(width="220px"),
        )  # fmt: skip
        self.user_model = W.Dropdown(
            options=self.runs.names, value=next(iter(self.runs.names), None), description="model"
        )
        self.hide_listened = W.Checkbox(
            value=True, description=f"hide {self.data.item_noun}s already seen", indent=False
        )
        self.user_tables = W.HTML()
        self.why = W.Dropdown(options=[], value=None, description="why?",
                              layout=W.Layout(width="420px"))  # fmt: skip
        self.why_view = W.HTML()
        for w, cls in ((self.user, "mf-user"), (self.user_model, "mf-user-model"),
                       (self.hide_listened, "mf-hide-listened"),
                       (self.user_tables, "mf-recommendations"), (self.why, "mf-why"),
                       (self.why_view, "mf-why-view")):  # fmt: skip
            w.add_class(cls)
        guard = safe(self.status)
        for w in (self.user, self.user_model, self.hide_listened, self.k):
            w.observe(guard(self._refresh_user_if_shown), names="value")
        self.why.observe(guard(lambda _: self.refresh_why()), names="value")
        self.user_box = W.VBox(
            [W.HBox([self.user, self.user_model, self.hide_listened]), self.user_tables,
             self.why, self.why_view]
        )  # fmt: skip

    def _refresh_user_if_shown(self, _change=None) -> None:
        """The user view is computed only while its tab is shown (keeps toggles fast)."""
        if getattr(self, "tabs", None) is not None and self.tabs.selected_index == 1:
            self.refresh_user()

    def user_index(self) -> int:
        """The index of the user typed in the user box: the data's own id, as its text (user
        ``196`` or ``"u-196"``); a ValueError names an id the data does not hold."""
        text = self.user.value.strip()
        if self._user_texts is None:  # built once: ids of any type, matched as written
            self._user_texts = pd.Index(np.asarray(self.data.user_raw_ids).astype(str))
        found = self._user_texts.get_indexer([text])[0]
        if found < 0:
            raise ValueError(f"{self.data.user_noun} id {text!r} is not in the data")
        return int(found)

    def refresh_user(self) -> None:
        """The user's heaviest items beside the chosen model's top-k recommendations."""
        name = self.user_model.value
        if name is None or name not in self.runs:
            self.user_tables.value = ""
            return
        user, k, noun = self.user_index(), int(self.k.value), self.data.item_noun
        top = user_top_items(self.data, user, k)
        rec = recommend(self.runs[name], self.data, user_index=user, k=k,
                        exclude_listened=self.hide_listened.value)  # fmt: skip
        self.recommendations = {"listened": top, name: rec}
        self.user_tables.value = (
            TABLE_STYLE + '<div style="display:flex;flex-wrap:wrap;gap:12px">'
            + table_html(top, f"user {self.user.value.strip()}: heaviest (score = "
                         f"{self.data.weight_noun})", noun=noun)
            + table_html(rec, f"{name}: top {k} recommendations", noun=noun)
            + "</div>"
        )  # fmt: skip
        picks = zip(rec["rank"], rec["name"], rec["item_index"], strict=True)
        self.why.options = [(f"{n} (rank {r})", int(i)) for r, n, i in picks]
        self.why.value = None
        self.why_view.value = (
            f'<span style="color:#666">pick a recommended {noun} above: why it is there</span>'
        )

    def refresh_why(self) -> None:
        """The picked recommendation's score taken apart, and the user's items behind it."""
        item, name = self.why.value, self.user_model.value
        if item is None or name not in self.runs:
            return
        why = explain(self.runs[name], self.data, user_index=self.user_index(),
                      item_index=int(item))  # fmt: skip
        self.explanation = why
        parts = why.parts.to_frame("value").rename_axis("part")
        parts.loc["score"] = why.score
        geometry = pd.DataFrame(
            {"value": [why.user_norm, why.item_norm, why.cosine]},
            index=pd.Index(["‖u‖", "‖v‖", "cos(u, v)"], name="dot = ‖u‖·‖v‖·cos"),
        )
        top = why.contributions.head(self.k.value)
        items = top.assign(rank=np.arange(1, len(top) + 1), score=top["contribution"])
        rest = f"rest (not from these {self.data.item_noun}s): {why.rest:.4f}"
        self.why_view.value = (
            TABLE_STYLE + '<div style="display:flex;flex-wrap:wrap;gap:12px">'
            + frame_html(parts, f"why {self.data.item_names[int(item)]}?")
            + frame_html(geometry, "the dot product")
            + table_html(items, f"the user's {self.data.item_noun}s that push it most",
                         noun=self.data.item_noun)
            + "</div>"
            + f'<div style="font-size:11px;color:#555">{escape(rest)}. Method: '
            f"{escape(why.method)}</div>"
        )  # fmt: skip


def _example(data: Dataset) -> str:
    """The most popular item's name, cut short: a hint of what to type."""
    name = str(data.item_names[int(np.argmax(data.item_popularity))])
    return name[: max(3, len(name) - 2)]
