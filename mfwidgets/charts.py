"""Altair chart builders and the one place that decides how charts are shown.

Builders return a :class:`Figure`: an ``alt`` chart whose tables are referenced by name, plus
the tables. ``figure.to_dict()`` is the full Vega-Lite spec (tests assert on it). Why: altair
validates inline data row by row against its JSON schema, which takes seconds for the 17,632
artists (and over a minute without validation, as every row becomes a schema object), so the
chart's structure is validated small and the tables are attached as plain JSON afterwards. This
also means altair's 5,000-row limit never applies and no global data transformer is switched.

Showing goes through :func:`offline_chart`: an ``alt.JupyterChart`` whose vega JavaScript is
bundled by vl-convert-python, so nothing is fetched from a CDN.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from .throttle import Throttle


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN and infinities become null), fast for large frames."""
    return json.loads(df.to_json(orient="records", double_precision=6))


@dataclass(frozen=True)
class Figure:
    """An altair chart plus the tables it names (``alt.NamedData``); see the module doc."""

    chart: alt.TopLevelMixin
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The full Vega-Lite spec: the validated chart with the tables as ``datasets``."""
        spec = self.chart.to_dict()
        datasets = spec.setdefault("datasets", {})
        for name, df in self.tables.items():
            datasets[name] = records(df)
        return spec


def table(df: pd.DataFrame, role: str) -> tuple[alt.NamedData, dict[str, pd.DataFrame]]:
    """A named reference to ``df`` and the tables entry for it (name: role + content hash)."""
    digest = hashlib.sha1(pd.util.hash_pandas_object(df, index=False).to_numpy()).hexdigest()
    name = f"mf-{role}-{digest[:10]}"
    return alt.NamedData(name=name), {name: df}


def hconcat(*figures: Figure) -> Figure:
    """Figures side by side (their tables merged)."""
    tables: dict[str, pd.DataFrame] = {}
    for f in figures:
        tables |= f.tables
    return Figure(alt.hconcat(*[f.chart for f in figures]), tables)


def _as_figure(chart: Figure | alt.TopLevelMixin) -> Figure:
    return chart if isinstance(chart, Figure) else Figure(chart)


def offline_chart(
    chart: Figure | alt.TopLevelMixin, *, renderer: str = "canvas", css_class: str | None = None
) -> alt.JupyterChart:
    """Show ``chart`` as an offline ``alt.JupyterChart`` widget (canvas rendering by default).

    Each instance carries about 0.9 MB of JavaScript, so make one per panel and update it in
    place with :func:`set_chart` (see :class:`LiveChart`).
    """
    if renderer not in ("canvas", "svg"):
        raise ValueError(f"renderer must be 'canvas' or 'svg', got {renderer!r}")
    alt.JupyterChart.enable_offline()  # class setting: JS from vl-convert, never a CDN
    fig = _as_figure(chart)
    widget = alt.JupyterChart(fig.chart, embed_options={"renderer": renderer, "actions": False})
    if fig.tables:
        widget.spec = fig.to_dict()
    if css_class:
        widget.add_class(css_class)
    return widget


def set_chart(widget: alt.JupyterChart, chart: Figure | alt.TopLevelMixin) -> None:
    """Replace what a JupyterChart shows, in one message: params and selections come from the
    (small, validated) chart; the spec sent carries the tables."""
    fig = _as_figure(chart)
    with widget.hold_sync():
        widget.chart = fig.chart
        if fig.tables:
            widget.spec = fig.to_dict()


class LiveChart:
    """An offline JupyterChart updated in place, at most once per ``interval`` seconds.

    ``update`` may be called from a training thread at every step; the latest chart always
    reaches the browser (call ``flush`` at the end of a run).
    """

    def __init__(self, chart: Figure, *, interval: float = 0.3, **kwargs: Any) -> None:
        self.widget = offline_chart(chart, **kwargs)
        self.figure = _as_figure(chart)
        self._throttle: Throttle[Figure] = Throttle(self._set, interval)

    def _set(self, chart: Figure) -> None:
        self.figure = chart
        set_chart(self.widget, chart)

    @property
    def redraws(self) -> int:
        """How many chart replacements reached the widget (for tests and benchmarks)."""
        return self._throttle.calls

    def update(self, chart: Figure) -> None:
        self._throttle.submit(chart)

    def flush(self) -> None:
        self._throttle.flush()


def to_png(*figures: Figure, scale: float = 1.0) -> bytes:
    """A static PNG of figures side by side (vl-convert, offline): for notebooks viewed
    without a kernel."""
    import vl_convert as vlc

    fig = figures[0] if len(figures) == 1 else hconcat(*figures)
    return vlc.vegalite_to_png(fig.to_dict(), scale=scale)


# ------------------------------------------------------------------------------------------------
# training curves
# ------------------------------------------------------------------------------------------------
def line_chart(
    df: pd.DataFrame,
    x: str,
    series: Sequence[str],
    *,
    title: str = "",
    log_y: bool = False,
    rules: dict[str, float] | None = None,
    width: int = 320,
    height: int = 220,
) -> Figure:
    """Lines of ``series`` columns against ``x`` (long format inside), plus labelled rules.

    ``rules`` maps a label to a constant y (for example the global-mean baseline's test MSE).
    Empty frames give an empty chart with explicit types, so it can be shown before data exists.
    """
    cols = [c for c in series if c in df.columns]
    long = df.melt(id_vars=[x], value_vars=cols, var_name="metric", value_name="value")
    if log_y:
        long = long[long["value"] > 0]
    data, tables = table(long, "lines")
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(
            x=alt.X(f"{x}:Q", title=x),
            y=alt.Y("value:Q", title=None, scale=scale),
            color=alt.Color("metric:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[f"{x}:Q", "metric:N", alt.Tooltip("value:Q", format=".4f")],
        )
    )
    layers: list[alt.Chart] = [lines]
    if rules:
        rule_df = pd.DataFrame({"label": list(rules), "y": [float(v) for v in rules.values()]})
        if log_y:
            rule_df = rule_df[rule_df["y"] > 0]
        rule_data, rule_tables = table(rule_df, "rules")
        tables |= rule_tables
        base = alt.Chart(rule_data)
        layers.append(
            base.mark_rule(strokeDash=[4, 4], color="gray").encode(
                y="y:Q", tooltip=["label:N", alt.Tooltip("y:Q", format=".4f")]
            )
        )
        layers.append(
            base.mark_text(align="left", dx=4, dy=-6, color="gray", fontSize=10).encode(
                y="y:Q", x=alt.value(0), text="label:N"
            )
        )
    chart = alt.layer(*layers).properties(title=title, width=width, height=height)
    return Figure(chart, tables)


def metric_chart(
    history: pd.DataFrame,
    metrics: Sequence[str],
    *,
    title: str = "",
    baseline: float | None = None,
    baseline_label: str = "global mean (test)",
    log_y: bool = False,
) -> Figure:
    """One panel of training curves: ``metrics`` against ``iteration`` (a metric group)."""
    if history.empty or "iteration" not in history.columns:
        history = pd.DataFrame({"iteration": pd.Series(dtype=float)} | {m: [] for m in metrics})
    rules = {baseline_label: baseline} if baseline is not None else None
    return line_chart(history, "iteration", metrics, title=title, log_y=log_y, rules=rules)


# ------------------------------------------------------------------------------------------------
# embedding views
# ------------------------------------------------------------------------------------------------
def _models_dict(models: Any) -> dict[str, Any]:
    if isinstance(models, dict):
        return dict(models)
    if isinstance(models, (list, tuple)):
        return {f"model {i}": m for i, m in enumerate(models)}
    return {"model": models}


def spearman(x: Any, y: Any) -> float:
    """Rank correlation (average ranks for ties), without scipy."""
    return float(pd.Series(np.asarray(x)).rank().corr(pd.Series(np.asarray(y)).rank()))


def embedding_norm_chart(
    models: Any, data: Any, *, log_scale: bool = True, width: int = 300, height: int = 260
) -> Figure:
    """The chapter's embedding norm against listen_count, one panel per model.

    ``models``: a model, a list, or a dict name -> model. One interval brush is linked across
    the panels (select artists in one, see them in all); hover shows the artist; each panel's
    subtitle carries the Spearman rank correlation between norm and popularity.
    """
    named = _models_dict(models)
    info = data.artist_info
    df = pd.DataFrame(
        {
            "name": info["name"].to_numpy(),
            "tag": info["tag_1"].to_numpy(),
            "listen_count": info["listen_count"].to_numpy(),
        }
    )
    rhos = []
    for i, model in enumerate(named.values()):
        norms = np.linalg.norm(np.asarray(model.embeddings["artistID"]), axis=1)
        rhos.append(spearman(info["listen_count"], norms))
        df[f"norm{i}"] = norms.round(4)
    if log_scale:
        df = df[df["listen_count"] > 0]
    data_ref, tables = table(df, "norms")
    views = [f"norm_panel_{i}" for i in range(len(named))]
    # one brush whose views are all the panels: drag in any panel, see the artists in all
    brush = alt.TopLevelSelectionParameter(
        name="brush",
        select=alt.IntervalSelectionConfig(type="interval", encodings=["x", "y"]),
        views=views,
    )
    x_scale = alt.Scale(type="log") if log_scale else alt.Scale(type="linear")
    panels = []
    for i, name in enumerate(named):
        panels.append(
            alt.Chart()
            .mark_circle(size=14, opacity=0.6)
            .encode(
                x=alt.X("listen_count:Q", scale=x_scale, title="listen_count (listeners)"),
                y=alt.Y(f"norm{i}:Q", title="embedding norm"),
                color=alt.condition(
                    {"param": "brush"}, alt.value("#4c78a8"), alt.value("lightgray")
                ),
                tooltip=[
                    "name:N",
                    "tag:N",
                    "listen_count:Q",
                    alt.Tooltip(f"norm{i}:Q", format=".3f"),
                ],
            )
            .properties(
                name=views[i],
                title=alt.TitleParams(
                    str(name), subtitle=f"Spearman ρ(norm, listen_count) = {rhos[i]:.2f}"
                ),
                width=width,
                height=height,
            )
        )
    chart = alt.hconcat(*panels, data=data_ref)
    chart.params = [brush]
    return Figure(chart, tables)


def embedding_map_chart(
    points: pd.DataFrame,
    *,
    tag_filter: str = "all",
    highlight: Sequence[int] = (),
    width: int = 620,
    height: int = 480,
    title: str = "",
) -> Figure:
    """Scatter of all artists: colour by top tag, size by popularity, tooltip, zoom/pan, click.

    ``points`` has columns x, y, artistID, name, tag, tags, listen_count, norm. Parameters the
    widget changes without resending the data: ``tag_filter`` (fades other tags) and
    ``highlight`` (artist ids ringed, e.g. the selection and its neighbours). Clicking an artist
    sets the ``pick`` point selection.
    """
    data_ref, tables = table(points, "points")
    tag_param = alt.param(name="tag_filter", value=tag_filter)
    highlight_param = alt.param(name="highlight", value=[int(i) for i in highlight])
    pick = alt.selection_point(name="pick", fields=["artistID"], on="click", empty=False)
    zoom = alt.selection_interval(name="zoom", bind="scales")
    tags = [t for t in points["tag"].value_counts().index if t != "other"]
    domain = [*tags, "other"] if (points["tag"] == "other").any() else tags
    base = alt.Chart().encode(x=alt.X("x:Q", axis=None), y=alt.Y("y:Q", axis=None))
    dots = (
        base.mark_circle()
        .encode(
            color=alt.Color(
                "tag:N",
                scale=alt.Scale(domain=domain, scheme="tableau20"),
                legend=alt.Legend(title="top tag", orient="right"),
            ),
            size=alt.Size(
                "listen_count:Q", scale=alt.Scale(type="sqrt", range=[6, 300]), legend=None
            ),
            opacity=alt.condition(
                "tag_filter == 'all' || datum.tag == tag_filter", alt.value(0.75), alt.value(0.04)
            ),
            tooltip=[
                alt.Tooltip("name:N", title="artist"),
                alt.Tooltip("tags:N", title="tags"),
                alt.Tooltip("listen_count:Q", title="listen_count"),
                alt.Tooltip("norm:Q", title="norm", format=".3f"),
            ],
        )
        .add_params(pick, zoom)
    )
    ringed = base.transform_filter("indexof(highlight, datum.artistID) >= 0")
    rings = ringed.mark_point(
        shape="circle", size=140, strokeWidth=2, color="black", filled=False
    ).encode(tooltip=[alt.Tooltip("name:N", title="artist")])
    labels = ringed.mark_text(align="left", dx=8, dy=-6, fontSize=11, fontWeight="bold").encode(
        text="name:N"
    )
    chart = (
        alt.layer(dots, rings, labels, data=data_ref)
        .add_params(tag_param, highlight_param)
        .properties(width=width, height=height, title=title)
    )
    return Figure(chart, tables)
