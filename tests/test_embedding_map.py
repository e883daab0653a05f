"""EmbeddingMap and the norm chart, headless: specs, method switch, filter, selection, links."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset

from mfwidgets.analysis import spearman
from mfwidgets.charts import embedding_norm_chart
from mfwidgets.models import Factors
from mfwidgets.widgets.embedding_map import EmbeddingMap
from mfwidgets.widgets.neighbors import NeighborExplorer

N = 60


def Fixed(V):
    return Factors(np.ones((3, V.shape[1])), V)


def make_data():
    rng = np.random.default_rng(0)
    first = np.array(["rock", "pop", "jazz", ""])[rng.integers(0, 4, N)]
    tags = [[t, "<i>x</i>"] if t else [] for t in first]
    listens = pd.DataFrame({"userID": [0, 1], "artistID": [0, 1], "listenCount": [1.0, 2.0]})
    return dataset(listens, 3, N, tags=tags, popularity=rng.integers(1, 400, N))


@pytest.fixture
def data():
    return make_data()


@pytest.fixture
def models():
    rng = np.random.default_rng(1)
    counts = make_data().item_popularity
    # norms grow with popularity in "b", not in "a"
    a = rng.normal(size=(N, 4))
    b = rng.normal(size=(N, 4)) * np.sqrt(counts)[:, None] / 10
    return {"a": Fixed(a), "b": Fixed(b)}


def test_norm_chart_panels_brush_and_rank_correlation(data, models):
    spec = embedding_norm_chart(models, data).to_dict()
    panels = spec["hconcat"]
    assert len(panels) == 2
    assert [p["encoding"]["y"]["field"] for p in panels] == ["norm0", "norm1"]
    assert panels[0]["encoding"]["x"]["scale"]["type"] == "log"
    brush = [p for p in spec["params"] if p["name"] == "brush"]
    assert brush and len(brush[0]["views"]) == 2  # one brush linked across the panels
    rho_b = spearman(data.item_popularity, np.linalg.norm(models["b"].item_factors, axis=1))
    assert f"{rho_b:.2f}" in panels[1]["title"]["subtitle"] and rho_b > 0.4
    assert {"name", "n_users"} <= {t["field"] for t in panels[0]["encoding"]["tooltip"]}
    linear = embedding_norm_chart(list(models.values()), data, log_scale=False).to_dict()
    assert linear["hconcat"][0]["encoding"]["x"]["scale"]["type"] == "linear"


def test_pca_map_points_encodings_and_tag_groups(data, models):
    emap = EmbeddingMap(data, models, n_tags=2)
    pts = emap.points
    assert len(pts) == N and set(pts.columns) >= {
        "x",
        "y",
        "name",
        "tag",
        "tags",
        "n_users",
        "norm",
    }
    assert set(pts["tag"]) <= {"rock", "pop", "jazz", "no_tags", "other"} and "other" in set(
        pts["tag"]
    )
    assert emap.tag_filter.options[0] == "all" and emap.tag_filter.options[-1] == "other"
    spec = emap.chart.spec
    dots = spec["layer"][0]
    assert dots["mark"]["type"] == "circle"
    assert (
        dots["encoding"]["color"]["field"] == "tag"
        and dots["encoding"]["size"]["field"] == "n_users"
    )
    assert {t["field"] for t in dots["encoding"]["tooltip"]} == {
        "name",
        "tags",
        "n_users",
        "norm",
    }
    assert emap.chart.embed_options["renderer"] == "canvas"
    assert emap.model is models["b"]  # the latest model is shown first
    np.testing.assert_allclose(
        pts["norm"], np.linalg.norm(models["b"].item_factors, axis=1), atol=1e-3
    )


def test_tag_filter_and_highlight_only_change_parameters(data, models):
    emap = EmbeddingMap(data, models)
    spec_before = emap.chart.spec
    emap.tag_filter.value = "rock"
    assert emap.chart.params.tag_filter == "rock"
    emap.highlight([3, 4])
    assert emap.chart.params.highlight == [3, 4]
    assert emap.chart.spec is spec_before  # no data resent


def test_method_switch_runs_tsne_in_the_background(data, models):
    emap = EmbeddingMap(data, models, seed=0)
    pca = emap.points[["x", "y"]].to_numpy()
    emap.method.value = "tsne"
    assert emap.wait(120)
    tsne = emap.points[["x", "y"]].to_numpy()
    assert tsne.shape == pca.shape and not np.allclose(tsne, pca)
    assert "t-SNE" in emap.status.text and emap.progress.value == 1.0
    emap.method.value = "pca"
    np.testing.assert_allclose(emap.points[["x", "y"]].to_numpy(), pca)
    assert emap.cache.hits >= 1  # PCA came from the cache the second time


def click(emap, artist):
    """What the browser sends when the user clicks an artist (vega's point-selection signal)."""
    emap.chart._vl_selections = {
        **emap.chart._vl_selections,
        "pick": {"value": {"vlPoint": {"or": [{"item_index": artist}]}}, "store": []},
    }


def test_click_selects_and_a_linked_explorer_follows_and_rings_neighbours(data, models):
    emap = EmbeddingMap(data, models)
    explorer = NeighborExplorer(data, models, k=4)
    emap.link(explorer)
    click(emap, 7)
    assert emap.selected_artist == 7 and explorer.selected_artist == 7
    ringed = emap.chart.params.highlight
    assert ringed[0] == 7 and set(ringed) == set(explorer.results[("b", "dot")]["item_index"])
    explorer.select("artist 12")  # and the other way round
    assert emap.selected_artist == 12 and emap.chart.params.highlight[0] == 12


def test_click_without_explorer_rings_the_artist(data, models):
    emap = EmbeddingMap(data, models)
    seen = []
    emap.observe(lambda c: seen.append(c["new"]), names="selected_artist")
    click(emap, 5)
    assert seen == [5] and emap.chart.params.highlight == [5]


def test_norm_tab_draws_lazily(data, models):
    emap = EmbeddingMap(data, models)
    assert len(emap.norm_box.children) == 1
    emap.tabs.selected_index = 1
    assert len(emap.norm_box.children) == 2
    emap.log_scale.value = False
    spec = emap.norm_box.children[1].spec
    assert spec["hconcat"][0]["encoding"]["x"]["scale"]["type"] == "linear"


def test_bad_arguments(data, models):
    with pytest.raises(ValueError, match="method"):
        EmbeddingMap(data, models, method="umap")
    with pytest.raises(ValueError, match="n_tags"):
        EmbeddingMap(data, models, n_tags=0)
    with pytest.raises(TypeError):
        EmbeddingMap(object(), models)


def test_several_models_draw_the_map_once(data, models, monkeypatch):
    import mfwidgets.widgets.embedding_map as em

    drawn = []
    real = em.set_chart
    monkeypatch.setattr(em, "set_chart", lambda w, f: (drawn.append(1), real(w, f)))
    EmbeddingMap(data, models)
    assert len(drawn) == 1


def test_replay_of_a_runs_snapshots_in_one_fixed_frame(data):
    from mfwidgets.analysis.projection import replay_frames
    from mfwidgets.models import CFModel

    model = CFModel(data.interactions, kind="regularized", embedding_dim=3, init_stddev=0.1,
                    seed=0, n_users=data.n_users, n_items=data.n_items)  # fmt: skip
    model.train(num_iterations=59, learning_rate=0.5, snapshot_every=3)
    snaps = model.snapshots
    assert len(snaps) == 21
    emap = EmbeddingMap(data, {"plain": Factors.of(model), "replayed": model})
    assert emap.replay_row.layout.display is None and emap.step.max == 20
    frames = replay_frames([s.item_factors for s in snaps])
    emap.highlight([1, 2])
    for i in (10, 0, 20):  # (the slider starts at 0: move it first)
        emap.step.value = i
        np.testing.assert_allclose(emap.points[["x", "y"]], frames[i].round(3), atol=1e-3)
        assert f"step {snaps[i].iteration} of 60" in str(emap.chart.spec["title"])
        assert emap.chart.params.highlight == [1, 2]  # ringed throughout
    # the fixed frame: the last snapshot's own PCA, so the first frame differs from its own
    first_own = replay_frames([snaps[0].item_factors])[0]
    assert not np.allclose(frames[0], first_own)
    emap.model_pick.value = "plain"  # a run without snapshots: no replay row
    assert emap.replay_row.layout.display == "none"
