"""Name lookup that finds every name: transliterated, punctuation-blind, "did you mean"."""

from __future__ import annotations

import pytest

from mfwidgets.analysis.lookup import ItemIndex, compact, transliterate

NAMES = ["Trentemøller", "Sivert Høyem", "Ленинград", "The Dø", "The Doors", "Radiohead",
         "소녀시대", "いきものがかり", "Татьяна Котова", "Radio Dept.", "Coldplay"]  # fmt: skip
POPULARITY = [50, 10, 20, 15, 300, 400, 30, 5, 3, 40, 500]


@pytest.fixture(scope="module")
def index():
    return ItemIndex(NAMES, POPULARITY, noun="artist")


def test_transliteration_and_compact_keys():
    assert transliterate("Trentemøller") == "trentemoller"
    assert transliterate("Ленинград") == "leningrad"
    assert compact(transliterate("Татьяна Котова")) == "tatyanakotova"


@pytest.mark.parametrize(
    "typed, name",
    [
        ("trentemoller", "Trentemøller"),
        ("sivert hoyem", "Sivert Høyem"),
        ("leningrad", "Ленинград"),
        ("the do", "The Dø"),  # exact (transliterated) before the more popular prefix match
        ("sonyeo sidae", "소녀시대"),  # Korean, revised romanization, spaced as people write it
        ("ikimonogakari", "いきものがかり"),  # Japanese kana
        ("tatyana kotova", "Татьяна Котова"),  # the apostrophe of Tat'yana ignored
        ("radio dept", "Radio Dept."),
    ],
)
def test_names_typed_in_latin_letters_are_found_first(index, typed, name):
    ids, suggested = index.lookup(typed)
    assert not suggested and NAMES[ids[0]] == name


def test_a_typo_gets_the_closest_names(index):
    assert index.search("radiohed") == []
    ids, suggested = index.lookup("radiohed")  # one edit away
    assert suggested and NAMES[ids[0]] == "Radiohead"
    assert index.suggest("zzzzzzzz") == []  # nothing near: nothing offered
    with pytest.raises(ValueError, match=r"did you mean Radiohead"):
        index.resolve("radiohed")


@pytest.mark.realdata
@pytest.mark.parametrize(
    "typed, name",
    [
        ("trentemoller", "Trentemøller"),
        ("sivert hoyem", "Sivert Høyem"),
        ("leningrad", "Ленинград"),
        ("the do", "The Dø"),
        ("mumiy troll", "Мумий Тролль"),
        ("ddt", "ДДТ"),
        ("sonyeo sidae", "소녀시대"),
        ("dongbang singi", "동방신기"),
        ("ikimonogakari", "いきものがかり"),
    ],
)
def test_every_name_of_the_real_data_is_found(lastfm, typed, name):
    index = ItemIndex.from_data(lastfm)
    ids, suggested = index.lookup(typed)
    assert not suggested and name in [str(lastfm.item_names[i]) for i in ids[:3]]


@pytest.mark.realdata
def test_a_typo_of_a_popular_artist_finds_it(lastfm):
    index = ItemIndex.from_data(lastfm)
    for typo, name in (("radiohed", "Radiohead"), ("coldpaly", "Coldplay"),
                       ("britney spars", "Britney Spears")):  # fmt: skip
        ids, suggested = index.lookup(typo)
        assert suggested and str(lastfm.item_names[ids[0]]) == name, typo
