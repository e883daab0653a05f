"""Charts that compare runs: learning curves overlaid, and recommendation frequency against
item popularity (dot and cosine side by side)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .figure import Figure, table
from .training import NOT_METRICS

POPULARITY_BINS = 24
#: the most points per run and metric a comparison chart draws (a chapter run records 2,001)
MAX_POINTS = 200


def runs_curves_chart(
    histories: dict[str, pd.DataFrame], *, log_y: bool = False, width: int = 260
) -> Figure:
    """One panel per metric, one line per run (runs with no history are left out; long
    histories thinned to ``MAX_POINTS`` evenly spaced records)."""
    frames = []
    for name, history in histories.items():
        if history is None or history.empty or "iteration" not in history:
            continue
        if len(history) > MAX_POINTS:  # thinned evenly, the last record kept: a chart, not a log
            history = history.iloc[
                np.unique(np.linspace(0, len(history) - 1, MAX_POINTS).astype(int))
            ]
        metrics = [c for c in history.columns if c not in NOT_METRICS]
        long = history.melt(id_vars=["iteration"], value_vars=metrics, var_name="metric")
        frames.append(long.assign(run=name))
    columns = {"iteration": [], "metric": [], "value": [], "run": []}
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns)
    long = long.dropna(subset=["value"])
    if log_y:
        long = long[long["value"] > 0]
    data, tables = table(long, "runs-curves")
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    chart = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=10))
        .encode(
            x=alt.X("iteration:Q"),
            y=alt.Y("value:Q", title=None, scale=scale),
            color=alt.Color("run:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["run:N", "metric:N", "iteration:Q", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(width=width, height=180)
        .facet(facet=alt.Facet("metric:N", title=None), columns=3)
        .resolve_scale(y="independent")
    )
    return Figure(chart, tables)


def popularity_bins(curve: pd.DataFrame, bins: int = POPULARITY_BINS) -> pd.DataFrame:
    """The frequency-vs-popularity curve in log-spaced bins of popularity rank: per model,
    measure and bin, the share of all recommendations that went to the bin's items."""
    n = int(curve["popularity_rank"].max())
    edges = np.unique(np.geomspace(1, n + 1, bins + 1).astype(np.int64))
    which = np.searchsorted(edges, curve["popularity_rank"].to_numpy(), side="right") - 1
    binned = curve.assign(bin=which)
    out = binned.groupby(["model", "measure", "bin"], sort=False)["recommended"].sum()
    out = (out / out.groupby(level=["model", "measure"]).transform("sum")).rename("share")
    out = out.reset_index()
    out["rank_from"] = edges[out["bin"]]
    out["rank_to"] = edges[out["bin"] + 1] - 1
    out["popularity_rank"] = np.sqrt(out["rank_from"] * out["rank_to"])  # the bin's middle
    return out


def popularity_curve_chart(curve: pd.DataFrame, *, noun: str = "item", width: int = 300) -> Figure:
    """Share of recommendations against popularity rank (log), one line per run, one panel per
    measure: popularity bias is the lines' weight on the left."""
    binned = popularity_bins(curve)
    data, tables = table(binned, "popularity-curve")
    chart = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=14))
        .encode(
            x=alt.X(
                "popularity_rank:Q",
                scale=alt.Scale(type="log"),
                title=f"{noun} popularity rank (1 = most popular)",
            ),
            y=alt.Y("share:Q", title="share of recommendations", axis=alt.Axis(format="%")),
            color=alt.Color("model:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=[
                "model:N",
                "measure:N",
                "rank_from:Q",
                "rank_to:Q",
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(width=width, height=200)
        .facet(column=alt.Column("measure:N", title=None, sort=["dot", "cosine"]))
    )
    return Figure(chart, tables)
