"""Tags that come with who gave them never carry a held-out pair into a model (issue 37)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mfwidgets import CFModel, Dataset
from mfwidgets.analysis import cross_validate, tune
from mfwidgets.analysis.crossval import config_fit
from mfwidgets.data import Split, item_tags, random_split
from mfwidgets.data.tags import _from_lists, training_assignments
from mfwidgets.models import ModelConfig


def tagged_data() -> Dataset:
    """Four users, four items; d alone tags z ("secret"), and (d, z) is a listen; c tags w,
    which c never played."""
    listens = pd.DataFrame({
        "u": ["a", "a", "b", "b", "c", "c", "d", "d", "a", "b"],
        "i": ["w", "x", "w", "y", "x", "y", "z", "w", "y", "x"],
        "r": [5.0, 3, 4, 2, 5, 1, 4, 3, 2, 4],
    })  # fmt: skip
    given = pd.DataFrame({
        "who": ["a", "b", "c", "d", "d", "a", "c", "zz", "a"],
        "what": ["w", "w", "x", "z", "w", "x", "w", "w", "nope"],
        "tag": ["rock", "rock", "pop", "secret", "rock", "pop", "rock", "rock", "rock"],
    })  # fmt: skip
    data = Dataset.from_dataframe(listens, user="u", item="i", weight="r")
    return data.with_tag_assignments(given, user="who", item="what")


def held_out(data: Dataset, user: str, item: str) -> Split:
    """The split holding out exactly the pair (user, item)."""
    u, i = data.user_index(user), data.item_index(item)
    frame = data.interactions
    is_test = (frame["user"] == u) & (frame["item"] == i)
    return Split(frame[~is_test], frame[is_test])


def test_assignments_are_kept_with_their_givers_and_what_was_dropped_is_counted():
    data = tagged_data()
    a = data.tag_assignments
    assert list(a.columns) == ["user", "item", "tag"] and len(a) == 7
    assert data.notes["tag assignments naming users not in the data"] == 1
    assert data.notes["tag assignments naming items not in the data"] == 1
    z = data.item_index("z")
    assert data.items["tags"][z] == ["secret"]  # shown for items the table had no tags for
    assert data.items["tags"][data.item_index("w")] == ["rock"]


def test_a_held_out_pairs_tags_never_reach_the_model_nor_the_tags_built_for_it():
    data = tagged_data()
    split = held_out(data, "d", "z")  # d alone tagged z
    leaky, clean = item_tags(data, 1), item_tags(data, 1, train=split)
    z = data.item_index("z")
    assert "secret" in leaky.names and leaky.tagged[z]
    assert "secret" not in clean.names and not clean.tagged[z]
    assert len(training_assignments(data, split)) == len(data.tag_assignments) - 1
    model = CFModel(data, split, kind="hybrid", tag_min_count=1, embedding_dim=2)
    assert model.item_tags.names == clean.names
    assert (model.item_tags.matrix != clean.matrix).nnz == 0
    # the old behaviour, asked for by name
    named = CFModel(data, split, kind="hybrid", tag_min_count=1, item_tags=item_tags(data, 1))
    assert "secret" in named.item_tags.names
    # no split: every pair trains, every tag is seen
    assert "secret" in CFModel(data, kind="hybrid", tag_min_count=1).item_tags.names


def test_tags_on_pairs_that_are_no_interaction_stay():
    data = tagged_data()
    split = held_out(data, "d", "w")  # d played w and tagged it
    kept = training_assignments(data, split)
    d, c, w = data.user_index("d"), data.user_index("c"), data.item_index("w")
    assert not ((kept["user"] == d) & (kept["item"] == w)).any()
    assert ((kept["user"] == c) & (kept["item"] == w)).sum() == 1  # c never played w: it stays
    assert len(kept) == len(data.tag_assignments) - 1
    assert item_tags(data, 1, train=split).tagged[w]


def test_every_place_that_knows_a_split_reads_tags_from_its_training_pairs():
    data = tagged_data()
    # cross-validation: in the fold whose test holds (d, z), "secret" must not be seen
    secret = (data.user_index("d"), data.item_index("z"))
    config = ModelConfig(kind="hybrid_implicit", tag_min_count=1, embedding_dim=2)
    make = config_fit(config, data)  # what cross_validate(config, data) trains on each fold
    seen = []

    def fit(split):
        model = make(split)
        seen.append((secret not in held_pairs(split.test), "secret" in model.item_tags.names))
        return model

    cross_validate({"hybrid": fit}, data, 2, metrics=("recall@2",))
    assert len(seen) == 2 and all(trained == read for trained, read in seen)
    assert {trained for trained, _ in seen} == {True, False}
    with pytest.raises(ValueError, match="dataset"):
        tune(
            random_split(data, 0.3, seed=0),
            {"embedding_dim": [2]},
            base={"kind": "hybrid", "tag_min_count": 1},
        )
    result = tune(data, {"embedding_dim": [2, 3]}, base={"kind": "hybrid", "tag_min_count": 1},
                  validation_fraction=0.3)  # fmt: skip
    assert len(result.table) == 2


def held_pairs(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame["user"].tolist(), frame["item"].tolist(), strict=True))


def test_assignments_that_name_nothing_of_the_data_are_refused():
    data = tagged_data()
    wrong = pd.DataFrame({"user": [1, 2], "item": [3, 4], "tag": ["x", "y"]})
    with pytest.raises(ValueError, match="data's own ids"):
        data.with_tag_assignments(wrong)
    with pytest.raises(ValueError, match="tag='label'"):
        data.with_tag_assignments(wrong, tag="label")


def test_a_dataset_whose_tags_have_no_giver_uses_them_as_they_are():
    listens = pd.DataFrame({"u": [1, 1, 2, 2, 3], "i": [10, 11, 10, 12, 11], "r": [1.0] * 5})
    items = pd.DataFrame({"genres": ["a|b", "b", "a"]}, index=[10, 11, 12])
    data = Dataset.from_dataframe(listens, user="u", item="i", weight="r", items=items,
                                  item_tags="genres")  # fmt: skip
    assert data.tag_assignments is None
    split = random_split(data, 0.4, seed=0)
    same = item_tags(data, 1, train=split), item_tags(data, 1)
    assert same[0].names == same[1].names and (same[0].matrix != same[1].matrix).nnz == 0


@pytest.mark.realdata
def test_lastfm_artists_tagged_only_on_held_out_pairs_have_no_tags_on_the_split(lastfm):
    """The issue's count: on the seeded split, 173 artists have every tag assignment on a
    held-out pair, and the hybrid trained on it saw tags on 156 of them; now on none."""
    split = random_split(lastfm, 0.1, seed=0)
    a = lastfm.tag_assignments
    n = lastfm.n_items
    keys = a["userID"].to_numpy() * n + a["artistID"].to_numpy()
    test = split.test
    held = np.isin(keys, test["userID"].to_numpy() * n + test["artistID"].to_numpy())
    per_artist = pd.Series(held).groupby(a["artistID"].to_numpy()).all()
    only_held = per_artist.index[per_artist.to_numpy()].to_numpy()
    assert len(only_held) == 173
    assert 0.035 < held.mean() < 0.045  # 3.9 % of the triples belong to a test pair
    tagged_pairs = np.unique(keys)
    tested = test["userID"].to_numpy() * n + test["artistID"].to_numpy()
    assert 0.21 < np.isin(tested, tagged_pairs).mean() < 0.23  # 22 % tagged by their own user
    every = item_tags(lastfm, 5)  # every tag, by name: the same as the chapter's all_tags
    assert every.names == _from_lists(lastfm.items["all_tags"], 5, n).names
    assert every.tagged[only_held].sum() == 156  # what leaked before
    assert item_tags(lastfm, 5, train=split).tagged[only_held].sum() == 0
    model = CFModel(lastfm, split, kind="hybrid_implicit")
    assert model.item_tags.tagged[only_held].sum() == 0


def test_the_trainer_trains_a_hybrid_on_its_split_without_the_held_out_pairs_tags():
    from mfwidgets import TrainerWidget

    data = tagged_data()
    trainer = TrainerWidget(data, split=held_out(data, "d", "z"), kind="hybrid_implicit",
                            tag_min_count=1, embedding_dim=2, num_iterations=2)  # fmt: skip
    model = trainer.train(block=True)
    assert not trainer.last_error, trainer.last_error
    assert "secret" not in model.item_tags.names and "rock" in model.item_tags.names
