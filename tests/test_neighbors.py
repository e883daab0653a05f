"""NeighborExplorer, headless: lookup, measures, models, escaping, trainer following, users."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset, random_listens

from mfwidgets.models import Factors, Runs
from mfwidgets.widgets.neighbors import NeighborExplorer
from mfwidgets.widgets.trainer import TrainerWidget

NAMES = ["Coldplay", "Jay-Z & Coldplay", "Björk", "<script>alert(1)</script>", "Cold Cave",
         "Muse", "Coldplay/U2", "Radiohead"]  # fmt: skip


def Fixed(V, U):
    return Factors(U, V)


def make_data():
    listens = pd.DataFrame(
        {
            "userID": [0, 0, 0, 1, 1, 2],
            "artistID": [0, 5, 7, 0, 2, 3],
            "listenCount": [5, 2, 1, 3, 3, 1.0],
        }
    )
    popularity = np.array([369, 2, 172, 1, 12, 300, 3, 400])
    tags = [["rock", "<b>bold</b>"]] * 8
    return dataset(listens, 3, 8, names=NAMES, tags=tags, popularity=popularity)


@pytest.fixture
def data():
    return make_data()


@pytest.fixture
def models():
    rng = np.random.default_rng(0)
    return {"a": Fixed(rng.normal(size=(8, 3)), rng.normal(size=(3, 3))),
            "b": Fixed(rng.normal(size=(8, 3)), rng.normal(size=(3, 3)))}  # fmt: skip


def test_typing_ranks_matches_and_selects_the_top_one(data, models):
    ex = NeighborExplorer(data, models)
    ex.search.value = "cold"
    labels = [label for label, _ in ex.matches.options]
    # prefix matches by popularity (Coldplay 369, Cold Cave 12, Coldplay/U2 3), then substring
    assert [i for _, i in ex.matches.options] == [0, 4, 6, 1]
    assert labels[0].startswith("Coldplay (369")
    assert ex.selected_artist == 0 and ex.matches.value == 0
    assert set(ex.results) == {("a", "dot"), ("b", "dot")}
    assert len(ex.results[("a", "dot")]) == 6


def test_accent_insensitive_and_unknown_queries(data, models):
    ex = NeighborExplorer(data, models)
    ex.search.value = "bjork"
    assert ex.selected_artist == 2
    ex.search.value = "zzzz"
    assert "no artist name contains" in ex.status.text and ex.results == {}
    ex.search.value = "   "
    assert "type part" in ex.status.text


def test_names_and_tags_are_escaped(data, models):
    ex = NeighborExplorer(data, models, k=8)
    ex.select(3)
    html = ex.tables.value
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>" not in ex.status.value and "&lt;script&gt;" in ex.status.value


def test_both_measures_side_by_side_and_shared_artists_are_marked(data, models):
    ex = NeighborExplorer(data, {"a": models["a"]}, k=4)
    ex.select("Coldplay")
    ex.measure.value = "both"
    assert set(ex.results) == {("a", "dot"), ("a", "cosine")}
    dot, cos = ex.results[("a", "dot")], ex.results[("a", "cosine")]
    shared = set(dot["item_index"]) & set(cos["item_index"])
    assert set(dot.loc[dot["shared"], "item_index"]) == shared
    assert 0 in shared  # the query itself is in both lists
    ex.show_query.value = False
    assert 0 not in set(ex.results[("a", "dot")]["item_index"])
    ex.k.value = 2
    assert len(ex.results[("a", "cosine")]) == 2


def test_several_models_one_column_each_and_scores_from_the_core(data, models):
    ex = NeighborExplorer(data, models, k=3)
    ex.select("muse")
    V = models["b"].item_factors
    expected = np.argsort(-(V @ V[5]), kind="stable")[:3]
    assert ex.results[("b", "dot")]["item_index"].tolist() == expected.tolist()
    np.testing.assert_allclose(
        ex.results[("b", "dot")]["norm"], np.linalg.norm(V[expected], axis=1)
    )
    ex.model_picker.value = ["a"]
    assert set(ex.results) == {("a", "dot")}


def test_select_by_name_or_id_sets_the_observable_trait(data, models):
    ex = NeighborExplorer(data, models)
    seen = []
    ex.observe(lambda c: seen.append(c["new"]), names="selected_artist")
    assert ex.select("radiohead") == 7
    assert ex.select(2) == 2
    assert seen == [7, 2] and ex.search.value == "Björk"
    with pytest.raises(ValueError):
        ex.select("nobody at all")


def test_user_view_hides_listened_artists_by_default(data, models):
    ex = NeighborExplorer(data, models, k=5)
    ex.tabs.selected_index = 1  # the user view computes when shown
    ex.user.value = "0"
    rec = ex.recommendations["a"]
    assert not set(rec["item_index"]) & {0, 5, 7}
    assert ex.recommendations["listened"]["item_index"].tolist() == [0, 5, 7]
    ex.hide_listened.value = False  # the shown tab recomputes on every control
    assert set(ex.recommendations["a"]["item_index"]) & {0, 5, 7}
    ex.user.value = "1"
    assert ex.recommendations["listened"]["item_index"].tolist() == [0, 2]
    ex.k.value = 3
    assert len(ex.recommendations["a"]) == 3
    assert ex.status.level != "error", ex.status.text
    assert ex.hide_listened.description == "hide artists already seen"


def test_follows_a_trainer_as_runs_are_added():
    rng = np.random.default_rng(0)
    n_users, n_artists = 12, 8
    cells = rng.choice(n_users * n_artists, 60, replace=False)
    listens = pd.DataFrame({"userID": cells // n_artists, "artistID": cells % n_artists,
                            "listenCount": rng.uniform(1, 5, 60)})  # fmt: skip
    data = dataset(listens, n_users, n_artists, names=NAMES)
    trainer = TrainerWidget(data, embedding_dim=2, num_iterations=5, learning_rate=0.5, seed=0)
    ex = NeighborExplorer(data, trainer)
    assert ex.models == {} and "no models yet" in ex.status.text
    ex.search.value = "coldplay"  # nothing to show yet, but no error either
    trainer.train(block=True)
    assert list(ex.models) == ["model"] and ("model", "dot") in ex.results
    trainer.w["init_stddev"].value = 0.05
    trainer.train(block=True)
    assert list(ex.models) == ["model", "model_lowinit"]
    assert set(ex.results) == {("model", "dot"), ("model_lowinit", "dot")}


def test_bad_arguments(data, models):
    with pytest.raises(TypeError, match="must be a model"):
        NeighborExplorer(data, 42)
    with pytest.raises(TypeError, match="Dataset"):
        NeighborExplorer(object(), models)
    with pytest.raises(ValueError, match="at most 50"):
        NeighborExplorer(data, models, k=51)
    with pytest.raises(ValueError, match="measure"):
        NeighborExplorer(data, models, measure="euclid")
    with pytest.raises(ValueError, match="empty"):
        NeighborExplorer(data, {})


def test_a_new_run_refreshes_the_tables_once(data, models):
    runs = Runs({"a": models["a"]})
    ex = NeighborExplorer(data, runs)
    ex.select("Coldplay")
    versions = []
    ex.observe(lambda c: versions.append(c["new"]), names="results_version")
    runs.add("b", models["b"])
    assert len(versions) == 1 and set(ex.results) == {("a", "dot"), ("b", "dot")}
    assert ex.model_picker.options == ("a", "b")


def test_why_view_takes_a_recommendation_apart(data, models):
    ex = NeighborExplorer(data, models, k=4)
    ex.tabs.selected_index = 1
    ex.user.value = "0"
    recommended = ex.recommendations["a"]["item_index"].tolist()
    assert [v for _, v in ex.why.options] == recommended and ex.why.value is None
    script = NAMES.index("<script>alert(1)</script>")
    ex.why.value = script if script in recommended else recommended[0]
    why = ex.explanation
    assert why is not None and why.item_index == ex.why.value and why.user_index == 0
    assert why.parts.sum() == pytest.approx(why.score)
    html = ex.why_view.value
    assert "dot product" in html and "Method:" in html
    assert "<script>" not in html  # every name escaped
    ex.user.value = "1"  # a new user: new options, nothing picked
    assert ex.why.value is None
    assert ex.status.level != "error", ex.status.text


def test_a_typo_offers_the_closest_names(data, models):
    ex = NeighborExplorer(data, models)
    ex.search.value = "radiohed"
    assert ex.matches.value == NAMES.index("Radiohead")
    assert "did you mean Radiohead?" in ex.status.text
    assert ("a", "dot") in ex.results  # the suggestion's neighbours are shown


def test_many_runs_show_the_picked_and_the_latest_at_most_eight(data):
    from mfwidgets.widgets.neighbors import MAX_SHOWN

    rng = np.random.default_rng(1)
    runs = Runs()
    ex = NeighborExplorer(data, runs)
    ex.select("Muse")
    for r in range(12):
        runs.add(f"r{r}", Fixed(rng.normal(size=(8, 3)), rng.normal(size=(3, 3))))
        if r == 3:
            ex.model_picker.value = ["r1", "r3"]  # the user's pick
    shown = list(ex.model_picker.value)
    assert len(shown) == MAX_SHOWN == 8 and shown[-1] == "r11" and "r0" not in shown
    assert "r2" not in shown  # unpicked by the user: stays unpicked
    assert {key[0] for key in ex.results} == set(shown)
    assert set(ex._cache) <= set(shown)  # embeddings of runs not shown are let go
    assert "(id 5," in ex.status.text  # Muse's id, as the data holds it


def test_selected_item_and_its_old_name_selected_artist_are_one_value():
    data = dataset(random_listens(20, 12, 80, seed=1), 20, 12)
    rng = np.random.default_rng(0)
    explorer = NeighborExplorer(data, Factors(rng.normal(size=(20, 2)), rng.normal(size=(12, 2))))
    heard = []
    explorer.observe(lambda c: heard.append(c["new"]), names="selected_artist")
    explorer.select(4)
    assert explorer.selected_item == explorer.selected_artist == 4 and heard == [4]
