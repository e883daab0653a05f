from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from mfwidgets.charts import Figure, hconcat, line_chart, metric_panels, to_png, training_charts
from mfwidgets.charts.figure import records, table


def test_large_tables_bypass_the_row_limit_and_nan_becomes_null():
    df = pd.DataFrame({"x": np.arange(20_000), "y": np.r_[np.nan, np.ones(19_999)]})
    ref, tables = table(df, "pts")
    spec = Figure(alt.Chart(ref).mark_point().encode(x="x:Q", y="y:Q"), tables).to_dict()
    (values,) = spec["datasets"].values()
    assert spec["data"] == {"name": ref.name} and len(values) == 20_000
    assert values[0]["y"] is None
    assert alt.data_transformers.active == "default"  # nothing global was switched
    assert records(pd.DataFrame({"a": [np.inf]}))[0]["a"] is None


def test_table_names_follow_content():
    a = pd.DataFrame({"v": [1, 2]})
    assert table(a, "r")[0].name == table(a.copy(), "r")[0].name
    assert table(a, "r")[0].name != table(a + 1, "r")[0].name


def test_line_chart_spec_has_series_and_reference_rule():
    df = pd.DataFrame({"iteration": [0, 10], "train_error": [2.0, 1.0], "test_error": [3.0, 2.5]})
    fig = line_chart(df, "iteration", ["train_error", "test_error"], rules={"global mean": 0.44})
    spec = fig.to_dict()
    layer = spec["layer"]
    assert layer[0]["encoding"]["x"]["field"] == "iteration"
    assert layer[0]["encoding"]["color"]["field"] == "metric"
    rows = spec["datasets"][layer[0]["data"]["name"]]
    assert {r["metric"] for r in rows} == {"train_error", "test_error"} and len(rows) == 4
    assert layer[1]["mark"]["type"] == "rule"
    assert spec["datasets"][layer[1]["data"]["name"]] == [{"label": "global mean", "y": 0.44}]
    log = line_chart(df, "iteration", ["train_error"], log_y=True).to_dict()
    assert log["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"


def test_panels_are_decided_where_charts_are_made():
    cols = ["iteration", "train_error_observed", "test_error_observed", "observed_loss",
            "gravity_loss", "seconds"]  # fmt: skip
    assert metric_panels(cols) == [
        ("errors", ["train_error_observed", "test_error_observed"]),
        ("loss parts", ["observed_loss", "gravity_loss"]),
    ]
    assert metric_panels(["iteration", "train_error", "seconds"]) == [("errors", ["train_error"])]
    hist = pd.DataFrame({c: [0.0, 1.0] for c in cols})
    errors, losses = training_charts(hist, baseline=0.4)
    assert errors.to_dict()["layer"][1]["mark"]["type"] == "rule"  # the baseline on errors only
    assert len(losses.to_dict()["layer"]) == 1


def test_png_of_figures_side_by_side():
    full = pd.DataFrame({"iteration": [0, 1], "loss": [1.0, 0.5]})
    fig = line_chart(full, "iteration", ["loss"])
    png = to_png(hconcat(fig, fig))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
