"""Showing charts: offline JupyterChart widgets, updated in place and rate-limited.

The vega JavaScript of every chart is bundled by vl-convert-python (``enable_offline``), so
nothing is fetched from a CDN. Each JupyterChart instance carries about 0.9 MB of JavaScript, so
widgets make one per panel and replace what it shows.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from ..charts.figure import Figure, as_figure
from .static import StaticView


class OfflineChart(StaticView, alt.JupyterChart):
    """A JupyterChart that carries its chart as a PNG beside the live view (an exported notebook
    or the documentation site shows the image where JupyterLab draws the live chart)."""


def offline_chart(
    chart: Figure | alt.TopLevelMixin, *, renderer: str = "canvas", css_class: str | None = None
) -> OfflineChart:
    """Show ``chart`` as an offline ``alt.JupyterChart`` widget (canvas rendering by default),
    with a static image of it for where no kernel runs."""
    if renderer not in ("canvas", "svg"):
        raise ValueError(f"renderer must be 'canvas' or 'svg', got {renderer!r}")
    alt.JupyterChart.enable_offline()  # class setting: JS from vl-convert, never a CDN
    fig = as_figure(chart)
    widget = OfflineChart(fig.chart, embed_options={"renderer": renderer, "actions": False})
    if fig.tables:
        widget.spec = fig.to_dict()
    if css_class:
        widget.add_class(css_class)
    return widget


def set_chart(widget: alt.JupyterChart, chart: Figure | alt.TopLevelMixin) -> None:
    """Replace what a JupyterChart shows, in one message: params and selections come from the
    (small, validated) chart; the spec sent carries the tables."""
    fig = as_figure(chart)
    with widget.hold_sync():
        widget.chart = fig.chart
        if fig.tables:
            widget.spec = fig.to_dict()


class LiveChart:
    """An offline JupyterChart whose figure is replaced cheaply (rate-limit the callers).

    ``show`` sends only the new spec, unvalidated (the builders' structure is validated when a
    chart is first shown), and nothing at all when the figure equals the one shown.
    """

    def __init__(self, chart: Figure, **kwargs: Any) -> None:
        self.widget = offline_chart(chart, **kwargs)
        self._spec: dict[str, Any] = self.widget.spec
        self.redraws = 0  #: how many specs reached the widget (for tests and benchmarks)

    def show(self, chart: Figure) -> None:
        spec = chart.to_dict(validate=False)
        if spec == self._spec:
            return
        self._spec = spec
        self.widget.spec = spec
        self.redraws += 1
