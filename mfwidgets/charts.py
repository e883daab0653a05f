"""Altair chart builders and the one place that decides how charts are shown.

Builders return plain ``alt.Chart`` values (tests assert on ``chart.to_dict()``). Showing goes
through :func:`offline_chart`: an ``alt.JupyterChart`` whose vega JavaScript is bundled by
vl-convert-python, so nothing is fetched from a CDN. No global altair renderer or data
transformer is switched: large tables are passed as inline values, which altair's 5,000-row
check does not apply to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from .throttle import Throttle


def inline(df: pd.DataFrame) -> alt.InlineData:
    """Chart data as inline JSON values (NaN/inf become null); no row limit applies."""
    records = df.to_dict("records")
    for row in records:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
            elif isinstance(value, np.generic):
                row[key] = value.item()
    return alt.InlineData(values=records)


def offline_chart(
    chart: alt.TopLevelMixin, *, renderer: str = "canvas", css_class: str | None = None
) -> alt.JupyterChart:
    """Wrap ``chart`` in an offline ``alt.JupyterChart`` widget (canvas rendering by default).

    Each instance carries about 0.9 MB of JavaScript, so make one per panel and replace its
    ``.chart`` to update it (see :class:`LiveChart`).
    """
    if renderer not in ("canvas", "svg"):
        raise ValueError(f"renderer must be 'canvas' or 'svg', got {renderer!r}")
    alt.JupyterChart.enable_offline()  # class setting: JS from vl-convert, never a CDN
    widget = alt.JupyterChart(chart, embed_options={"renderer": renderer, "actions": False})
    if css_class:
        widget.add_class(css_class)
    return widget


class LiveChart:
    """An offline JupyterChart updated in place, at most once per ``interval`` seconds.

    ``update`` may be called from a training thread at every step; the latest chart always
    reaches the browser (call ``flush`` at the end of a run).
    """

    def __init__(self, chart: alt.TopLevelMixin, *, interval: float = 0.3, **kwargs: Any) -> None:
        self.widget = offline_chart(chart, **kwargs)
        self._throttle: Throttle[alt.TopLevelMixin] = Throttle(self._set, interval)

    def _set(self, chart: alt.TopLevelMixin) -> None:
        self.widget.chart = chart

    @property
    def chart(self) -> alt.TopLevelMixin:
        return self.widget.chart

    @property
    def redraws(self) -> int:
        """How many chart replacements reached the widget (for tests and benchmarks)."""
        return self._throttle.calls

    def update(self, chart: alt.TopLevelMixin) -> None:
        self._throttle.submit(chart)

    def flush(self) -> None:
        self._throttle.flush()


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
) -> alt.LayerChart:
    """Lines of ``series`` columns against ``x`` (long format inside), plus labelled rules.

    ``rules`` maps a label to a constant y (for example the global-mean baseline's test MSE).
    Empty frames give an empty chart with explicit types, so it can be shown before data exists.
    """
    cols = [c for c in series if c in df.columns]
    long = df.melt(id_vars=[x], value_vars=cols, var_name="metric", value_name="value")
    if log_y:
        long = long[long["value"] > 0]
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    lines = (
        alt.Chart(inline(long))
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
        base = alt.Chart(inline(rule_df))
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
    return alt.layer(*layers).properties(title=title, width=width, height=height)


def metric_chart(
    history: pd.DataFrame,
    metrics: Sequence[str],
    *,
    title: str = "",
    baseline: float | None = None,
    baseline_label: str = "global mean (test)",
    log_y: bool = False,
) -> alt.LayerChart:
    """One panel of training curves: ``metrics`` against ``iteration`` (a metric group)."""
    if history.empty or "iteration" not in history.columns:
        history = pd.DataFrame({"iteration": pd.Series(dtype=float)} | {m: [] for m in metrics})
    rules = {baseline_label: baseline} if baseline is not None else None
    return line_chart(history, "iteration", metrics, title=title, log_y=log_y, rules=rules)


def to_png(*panels: alt.TopLevelMixin, scale: float = 1.0) -> bytes:
    """A static PNG of charts side by side (vl-convert, offline): for notebooks viewed without
    a kernel."""
    import vl_convert as vlc

    chart = panels[0] if len(panels) == 1 else alt.hconcat(*panels)
    return vlc.vegalite_to_png(chart.to_dict(), scale=scale)
