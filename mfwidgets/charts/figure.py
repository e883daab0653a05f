"""Figure: an altair chart whose tables are referenced by name, plus the tables.

``figure.to_dict()`` is the full Vega-Lite spec (tests assert on it). Why not a plain altair
chart with its DataFrame (``benchmarks/figure_speed.py``, same run, 17,632 map points): plain
altair refuses more than 5,000 rows unless a global data transformer is switched (its scoped
form must then wrap every later ``to_dict``, including the ones a widget makes); with it
switched the speed is on par (0.9-1.3× a Figure's), and giving the rows as
``alt.Data(values=...)`` instead takes about 45× as long, as altair validates every row.
A Figure validates the chart's small structure and attaches the tables as plain JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import pandas as pd


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN and infinities become null), fast for large frames."""
    return json.loads(df.to_json(orient="records", double_precision=6))


@dataclass(frozen=True)
class Figure:
    """An altair chart plus the tables it names (``alt.NamedData``); see the module doc."""

    chart: alt.TopLevelMixin
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def to_dict(self, validate: bool = True) -> dict[str, Any]:
        """The full Vega-Lite spec: the chart (validated unless told not to, for redraws of a
        structure already validated) with the tables as ``datasets``."""
        spec = self.chart.to_dict(validate=validate)
        datasets = spec.setdefault("datasets", {})
        for name, df in self.tables.items():
            datasets[name] = records(df)
        return spec


def table(df: pd.DataFrame, role: str) -> tuple[alt.NamedData, dict[str, pd.DataFrame]]:
    """A named reference to ``df`` and the tables entry for it (name: role + content hash)."""
    digest = hashlib.sha1(pd.util.hash_pandas_object(df, index=False).to_numpy()).hexdigest()
    name = f"mf-{role}-{digest[:10]}"
    return alt.NamedData(name=name), {name: df}


def as_figure(chart: Figure | alt.TopLevelMixin) -> Figure:
    """A Figure of a Figure or of a plain altair chart."""
    return chart if isinstance(chart, Figure) else Figure(chart)


def _concat(join: Any, figures: tuple[Figure, ...]) -> Figure:
    tables: dict[str, pd.DataFrame] = {}
    for f in figures:
        tables |= f.tables
    return Figure(join(*[f.chart for f in figures]), tables)


def hconcat(*figures: Figure) -> Figure:
    """Figures side by side (their tables merged)."""
    return _concat(alt.hconcat, figures)


def vconcat(*figures: Figure) -> Figure:
    """Figures one above the other (their tables merged)."""
    return _concat(alt.vconcat, figures)


def to_html(*figures: Figure, title: str = "", body: str = "") -> str:
    """A standalone HTML page: ``body`` (trusted HTML, already escaped) and then the figures,
    drawn by the vega JavaScript bundled into the page (vl-convert): opens offline."""
    import html
    import re

    import vl_convert as vlc

    head = f"<title>{html.escape(title)}</title>"
    if not figures:
        return f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head>{body}</html>"
    fig = figures[0] if len(figures) == 1 else vconcat(*figures)
    page = vlc.vegalite_to_html(fig.to_dict(), bundle=True)
    # (the bundled JavaScript itself contains "<head>" and "<body>": anchor on vl-convert's own
    # first <title> and chart div instead)
    page = re.sub(r"<title>.*?</title>", lambda _: head, page, count=1, flags=re.S)
    div = '<div id="vega-chart"></div>'
    if div not in page:
        raise RuntimeError("vl-convert's page has no chart div: unknown vl-convert version")
    return page.replace(div, body + div, 1)


def to_png(*figures: Figure, scale: float = 1.0) -> bytes:
    """A static PNG of figures side by side (vl-convert, offline): for notebooks viewed
    without a kernel."""
    fig = figures[0] if len(figures) == 1 else hconcat(*figures)
    return spec_png(fig.to_dict(), scale=scale)


def spec_png(spec: dict[str, Any], scale: float = 1.0) -> bytes:
    """A PNG of a full Vega-Lite spec (tables included), drawn by vl-convert offline."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(spec, scale=scale)
