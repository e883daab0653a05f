"""Static views: a widget's current state as plain HTML, for where no kernel runs.

An exported or published notebook (nbconvert's HTML, GitHub's viewer, a documentation build)
has no widget manager: without a static view it shows nothing where the trainer, explorer and
map were. ``StaticView`` adds ``text/html`` to a widget's mimebundle beside its live view
(JupyterLab keeps drawing the live one; the others fall back to the HTML), and ``to_html(path)``
writes the same view as a standalone page. The view is made by walking the widget tree: the
HTML panes as they are, controls as "name: value", progress bars, tabs (the selected one), and
every chart as a PNG image drawn by vl-convert (no script, no CDN).

The mimebundle's view is the state when the widget is displayed (a widget shown again in a later
cell carries the state then). vl-convert draws a chart of a few hundred rows in about 0.1 s but
the map's 17,632 points in about 2 s (measured), too long to hold up every display: charts of
more than ``STATIC_CHART_ROWS`` rows are named instead of drawn, unless the environment sets
``MFWIDGETS_STATIC_CHARTS=all`` (a documentation build); ``to_html`` always draws them all.

A documentation build (``MFWIDGETS_STATIC_CHARTS=all``) runs the notebook headless, where nothing
updates an output once shown: there a widget still at work when displayed (a map's projection, a
board's comparison, a run training) finishes first, for at most ``PUBLISH_WAIT`` seconds, so that
the page shows its result rather than "running…".
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..charts.figure import spec_png
from ..models.persistence import write_atomic
from .common import escape

log = logging.getLogger("mfwidgets.widgets")

#: the mimetype static views travel as (nbconvert, GitHub and MyST-NB all render it)
HTML = "text/html"
#: charts with more rows than this are named, not drawn, in a displayed widget's static view
STATIC_CHART_ROWS = 5000
#: seconds a displayed widget's background work may take to finish in a documentation build
PUBLISH_WAIT = 600


def chart_png(spec: dict[str, Any], scale: float = 1.0) -> str:
    """An ``<img>`` of a Vega-Lite spec, drawn by vl-convert (the PNG inline, base64)."""
    data = base64.b64encode(spec_png(spec, scale)).decode("ascii")
    return f'<img alt="chart" style="max-width:100%" src="data:image/png;base64,{data}">'


def chart_spec(widget: Any) -> dict[str, Any] | None:
    """The Vega-Lite spec a chart widget shows, or None before it shows one and for any other
    widget (a chart widget, altair's JupyterChart, is one with a ``spec`` dict)."""
    spec = getattr(widget, "spec", None)
    return dict(spec) if isinstance(spec, dict) else None


def _shown(widget: W.Widget) -> bool:
    layout = getattr(widget, "layout", None)
    return layout is None or (layout.display != "none" and layout.visibility != "hidden")


def _value_text(widget: W.Widget) -> str:
    """What a control shows: the selected label(s) of a selection, else its value."""
    if isinstance(widget, W.SelectMultiple):
        return ", ".join(str(v) for v in widget.label) or "none"
    if hasattr(widget, "options"):  # a single selection: its label, not its value
        return "" if widget.label is None else str(widget.label)
    value = widget.value
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _rows(spec: dict[str, Any]) -> int:
    return sum(len(rows) for rows in spec.get("datasets", {}).values())


def _chart(spec: dict[str, Any], max_rows: int | None) -> str:
    if not spec:
        return ""
    rows = _rows(spec)
    if max_rows is not None and rows > max_rows:
        return (
            f'<div style="color:#555;font-size:12px">[a chart of {rows:,} rows, drawn live; '
            f"<code>to_html(path)</code> saves it drawn]</div>"
        )
    try:
        return chart_png(spec)
    except ValueError:  # vl-convert draws nothing for a chart with no data yet ("invalid size")
        log.debug("chart not drawn", exc_info=True)
        return ""


def _node(widget: W.Widget, max_rows: int | None) -> str:
    """The static HTML of one widget and its children ('' for what has no state to show)."""
    if not _shown(widget):
        return ""
    spec = chart_spec(widget)
    if spec is not None:
        return _chart(spec, max_rows)
    if isinstance(widget, W.Tab):
        titles = list(getattr(widget, "titles", ()))
        index = widget.selected_index or 0
        bar = " · ".join(
            f"<b>{escape(t)}</b>" if i == index else escape(t) for i, t in enumerate(titles)
        )
        child = widget.children[index] if widget.children else None
        inner = _node(child, max_rows) if child is not None else ""
        return f'<div class="mf-static-tabs"><div>{bar}</div>{inner}</div>'
    if isinstance(widget, W.Box):
        row = isinstance(widget, W.HBox)
        style = "display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start" if row else ""
        parts = "".join(_node(c, max_rows) for c in widget.children)
        return f'<div style="{style}">{parts}</div>' if parts else ""
    if isinstance(widget, W.HTML | W.HTMLMath):
        return f"<div>{widget.value}</div>" if widget.value else ""  # built (escaped) by us
    if isinstance(widget, W.Label):
        return f"<div>{escape(widget.value)}</div>" if widget.value else ""
    if isinstance(widget, W.FloatProgress | W.IntProgress):
        return (
            f'<div>{escape(widget.description)} <progress value="{widget.value}" '
            f'max="{widget.max}"></progress></div>'
        )
    if isinstance(widget, W.Button | W.Output):
        return ""
    if isinstance(widget, W.Checkbox | W.ToggleButton):
        mark = "☑" if widget.value else "☐"
        return f'<span style="margin-right:12px">{mark} {escape(widget.description)}</span>'
    if isinstance(widget, W.ValueWidget):
        name = escape(widget.description or getattr(widget, "placeholder", "") or "")
        text = escape(_value_text(widget))
        if not text:
            return ""
        return f'<span style="margin-right:12px">{name + ": " if name else ""}{text}</span>'
    return ""


def static_html(widget: W.Widget, max_chart_rows: int | None = None) -> str:
    """The widget's current state as self-contained HTML (no script; charts as images; charts
    of more than ``max_chart_rows`` rows named instead, when given)."""
    return f'<div class="mf-static">{_node(widget, max_chart_rows)}</div>'


class StaticView:
    """A mixin before a widget class: a static view of the widget in its mimebundle, beside the
    live one, and ``to_html(path)``."""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            everything = os.environ.get("MFWIDGETS_STATIC_CHARTS") == "all"
            if everything and callable(getattr(self, "wait", None)):
                self.wait(PUBLISH_WAIT)
            try:
                data[HTML] = static_html(self, None if everything else STATIC_CHART_ROWS)
            except Exception:  # the live view matters more than its static copy
                log.debug("no static view", exc_info=True)
        return bundle

    def to_html(self, path: str | Path) -> Path:
        """The widget as it is now, in one standalone HTML page (opens offline)."""
        title = escape(type(self).__name__)
        page = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body>{static_html(self)}</body></html>"
        )
        return write_atomic(Path(path), lambda fh: fh.write(page.encode()))
