from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

from mfwidgets.charts import LiveChart, inline, line_chart, offline_chart


def test_inline_data_has_no_row_limit_and_no_nan():
    df = pd.DataFrame({"x": np.arange(20_000), "y": np.r_[np.nan, np.ones(19_999)]})
    chart = alt.Chart(inline(df)).mark_point().encode(x="x:Q", y="y:Q")
    spec = chart.to_dict()  # the 5,000-row MaxRowsError would be raised here
    values = spec["data"].get("values")
    if values is None:  # consolidated into top-level datasets
        values = next(iter(spec["datasets"].values()))
    assert len(values) == 20_000
    assert values[0]["y"] is None
    assert alt.data_transformers.active == "default"  # nothing global was switched


def test_offline_chart_bundles_javascript_and_uses_canvas():
    widget = offline_chart(alt.Chart(inline(pd.DataFrame({"a": [1]}))).mark_point(), css_class="k")
    assert alt.JupyterChart._is_offline
    assert "cdn.jsdelivr" not in widget._esm and "esm.sh" not in widget._esm
    assert widget.embed_options["renderer"] == "canvas"
    assert "k" in widget._dom_classes
    with pytest.raises(ValueError, match="renderer"):
        offline_chart(alt.Chart(), renderer="webgl")


def test_line_chart_spec_has_series_and_reference_rule():
    df = pd.DataFrame({"iteration": [0, 10], "train_error": [2.0, 1.0], "test_error": [3.0, 2.5]})
    spec = line_chart(
        df, "iteration", ["train_error", "test_error"], rules={"global mean": 0.44}
    ).to_dict()
    layer = spec["layer"]
    assert layer[0]["encoding"]["x"]["field"] == "iteration"
    assert layer[0]["encoding"]["color"]["field"] == "metric"
    datasets = spec.get("datasets", {})
    rows = [r for vals in datasets.values() for r in vals] or layer[0]["data"]["values"]
    assert {r.get("metric") for r in rows if "metric" in r} == {"train_error", "test_error"}
    assert layer[1]["mark"]["type"] == "rule"
    log = line_chart(df, "iteration", ["train_error"], log_y=True).to_dict()
    assert log["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"


def test_empty_line_chart_can_be_built_and_wrapped():
    df = pd.DataFrame({"iteration": pd.Series(dtype=float), "loss": pd.Series(dtype=float)})
    live = LiveChart(line_chart(df, "iteration", ["loss"]), interval=0.05)
    live.update(line_chart(df.assign(), "iteration", ["loss"]))
    live.flush()
    assert live.redraws == 1
    assert live.widget.spec is not None
