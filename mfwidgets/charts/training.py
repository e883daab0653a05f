"""Training-curve charts, and the one place that decides which metrics share a panel."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from .figure import Figure, table

NOT_METRICS = ("iteration", "seconds")


def metric_panels(columns: Sequence[str]) -> list[tuple[str, list[str]]]:
    """(title, metrics) of each panel: errors together, loss parts together (as the chapter
    plotted them)."""
    metrics = [c for c in columns if c not in NOT_METRICS]
    errors = [m for m in metrics if "error" in m]
    losses = [m for m in metrics if m not in errors]
    return [("errors", errors or ["train_error"])] + ([("loss parts", losses)] if losses else [])


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


def training_charts(
    history: pd.DataFrame, *, log_y: bool = False, baseline: float | None = None
) -> list[Figure]:
    """One chart per panel of :func:`metric_panels`; ``baseline`` is drawn on the errors."""
    return [
        metric_chart(
            history, metrics, title=title, log_y=log_y, baseline=baseline if i == 0 else None
        )
        for i, (title, metrics) in enumerate(metric_panels(history.columns))
    ]
