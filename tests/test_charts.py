from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

from mfwidgets.charts import (
    Figure,
    LiveChart,
    hconcat,
    line_chart,
    offline_chart,
    records,
    set_chart,
    table,
    to_png,
)


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


def test_offline_chart_bundles_javascript_and_uses_canvas():
    ref, tables = table(pd.DataFrame({"a": [1]}), "a")
    widget = offline_chart(Figure(alt.Chart(ref).mark_point(), tables), css_class="k")
    assert alt.JupyterChart._is_offline
    assert "cdn.jsdelivr" not in widget._esm and "esm.sh" not in widget._esm
    assert widget.embed_options["renderer"] == "canvas"
    assert "k" in widget._dom_classes
    assert list(widget.spec["datasets"]) == [ref.name]
    with pytest.raises(ValueError, match="renderer"):
        offline_chart(alt.Chart(), renderer="webgl")


def test_set_chart_keeps_params_and_sends_the_tables():
    ref, tables = table(pd.DataFrame({"a": [1, 2, 3]}), "a")
    chart = alt.Chart(ref).mark_point().encode(x="a:Q").add_params(alt.param(name="p", value=2))
    widget = offline_chart(alt.Chart().mark_point())
    set_chart(widget, Figure(chart, tables))
    assert widget.params.p == 2
    assert len(widget.spec["datasets"][ref.name]) == 3


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


def test_empty_chart_live_updates_and_png():
    df = pd.DataFrame({"iteration": pd.Series(dtype=float), "loss": pd.Series(dtype=float)})
    live = LiveChart(line_chart(df, "iteration", ["loss"]), interval=0.05)
    full = pd.DataFrame({"iteration": [0, 1], "loss": [1.0, 0.5]})
    live.update(line_chart(full, "iteration", ["loss"]))
    live.flush()
    assert live.redraws == 1
    assert len(next(iter(live.widget.spec["datasets"].values()))) == 2
    png = to_png(hconcat(live.figure, live.figure))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
