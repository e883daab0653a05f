"""Showing charts (widgets floor): offline JupyterChart widgets and cheap in-place redraws."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest

from mfwidgets.charts import Figure, line_chart
from mfwidgets.charts.figure import table
from mfwidgets.widgets.display import LiveChart, offline_chart, set_chart


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


def test_live_chart_sends_new_figures_only():
    df = pd.DataFrame({"iteration": pd.Series(dtype=float), "loss": pd.Series(dtype=float)})
    live = LiveChart(line_chart(df, "iteration", ["loss"]))
    full = pd.DataFrame({"iteration": [0, 1], "loss": [1.0, 0.5]})
    live.show(line_chart(full, "iteration", ["loss"]))
    assert live.redraws == 1
    assert len(next(iter(live.widget.spec["datasets"].values()))) == 2
    live.show(line_chart(full.copy(), "iteration", ["loss"]))  # the same figure: nothing sent
    assert live.redraws == 1
