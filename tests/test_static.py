"""Static views: every widget's mimebundle carries its state as HTML beside the live view."""

from __future__ import annotations

import re

import pytest
from synthetic import dataset, random_listens

from mfwidgets.widgets import (
    ComparisonBoard,
    EmbeddingMap,
    NeighborExplorer,
    TrainerWidget,
    WhatIfPanel,
)
from mfwidgets.widgets.static import STATIC_CHART_ROWS, static_html

VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def session():
    names = [f"artist {i}" for i in range(60)]
    names[7] = "<script>alert(1)</script> & co"
    data = dataset(random_listens(40, 60, 500, seed=3), 40, 60, names=names)
    trainer = TrainerWidget(data, embedding_dim=3, init_stddev=0.1, seed=0, num_iterations=20)
    explorer = NeighborExplorer(data, trainer)
    emap = EmbeddingMap(data, trainer)
    board = ComparisonBoard(trainer, data, k=5)
    trainer.train(block=True)
    assert trainer.last_error == ""
    explorer.select(7)
    panel = WhatIfPanel(data, trainer.model, runs=trainer, sweeps=1)
    for w in (board, emap, panel):
        assert w.wait(60)
    yield {"data": data, "trainer": trainer, "explorer": explorer, "map": emap,
           "board": board, "panel": panel}  # fmt: skip
    for w in (trainer, explorer, emap, board, panel):
        w.close()


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("name", ["trainer", "explorer", "map", "board", "panel"])
def test_every_widget_carries_a_static_view_beside_its_live_view(session, name):
    bundle = session[name]._repr_mimebundle_()
    assert VIEW in bundle and bundle["text/html"].startswith('<div class="mf-static">')
    assert "<script" not in bundle["text/html"]  # static: no script runs in an export


def test_the_static_view_shows_the_state_escaped(session):
    trainer, explorer, board = session["trainer"], session["explorer"], session["board"]
    run = trainer.runs.names[-1]
    shown = text(static_html(trainer))
    assert "embedding_dim: 3" in shown and run in shown
    assert static_html(trainer).count("<img") >= 1  # the learning curves, drawn
    page = static_html(explorer)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page  # the name, escaped
    assert "<table" in page and run in text(page)
    metrics = board.results["metrics"]
    assert "<table" in static_html(board) and f"{metrics.iloc[0]['test_mse']:.4f}" in text(
        static_html(board)
    )


def test_the_state_it_shows_is_the_state_now(session):
    trainer = session["trainer"]
    before = text(static_html(trainer))
    trainer.w["embedding_dim"].value = 5
    try:
        after = text(static_html(trainer))
    finally:
        trainer.w["embedding_dim"].value = 3
    assert "embedding_dim: 3" in before and "embedding_dim: 5" in after


def test_big_charts_are_named_in_the_bundle_and_drawn_by_to_html(session, tmp_path, monkeypatch):
    emap = session["map"]
    rows = len(session["data"].items)
    assert rows < STATIC_CHART_ROWS  # (synthetic: small) so lower the bar to see both paths
    html = static_html(emap, max_chart_rows=rows - 1)
    assert "<img" not in html and f"a chart of {rows:,} rows, drawn live" in html
    assert "<img" in static_html(emap)
    monkeypatch.setenv("MFWIDGETS_STATIC_CHARTS", "all")
    assert "<img" in emap._repr_mimebundle_()["text/html"]
    path = emap.to_html(tmp_path / "map.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page


def test_widgets_before_any_run_have_a_static_view_too(session):
    data = session["data"]
    trainer = TrainerWidget(data, embedding_dim=3, seed=0)  # its charts have no data yet
    board = ComparisonBoard(trainer, data, k=5)
    try:
        for w in (trainer, board):
            html = w._repr_mimebundle_()["text/html"]
            assert html.startswith('<div class="mf-static">') and "embedding_dim" in text(
                static_html(trainer)
            )
    finally:
        board.close()
        trainer.close()


def test_a_chart_shown_alone_carries_its_image(session, tmp_path):
    from mfwidgets.charts import embedding_norm_chart
    from mfwidgets.widgets import offline_chart

    norms = embedding_norm_chart({"model": session["trainer"].model}, session["data"])
    chart = offline_chart(norms)
    try:
        bundle = chart._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert VIEW in data and "data:image/png;base64," in data["text/html"]
        assert chart.to_html(tmp_path / "chart.html").read_text().count("<img") == 1
    finally:
        chart.close()


def test_a_documentation_build_shows_a_widget_done_not_running(session, monkeypatch):
    data, trainer = session["data"], session["trainer"]
    monkeypatch.setenv("MFWIDGETS_STATIC_CHARTS", "all")
    emap = EmbeddingMap(data, trainer, method="tsne", seed=0)  # its projection runs in a worker
    try:
        html = emap._repr_mimebundle_()["text/html"]
        assert emap.wait(0) and "running" not in text(html) and "<img" in html
    finally:
        emap.close()
