"""Data layer: reading, validation, the chapter's cleaning, zips, downloads, the split."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from httpserve import ZipServer

from mfwidgets.data import (
    DATASET_NAME,
    DataError,
    clean_weights,
    fetch_lastfm,
    load_lastfm,
    safe_extract,
    split_dataframe,
)

ARTISTS = [
    (1, "Björk"),
    (2, "Sigur Rós"),
    (3, '"Weird Al" Yankovic'),
    (4, "NA"),
    (5, "Coldplay"),
    (6, "Never Listened"),
]
TAGS = [(1, "80's"), (2, "música"), (3, "hip-hop"), (4, "rock")]
# userID, artistID, weight: exercises rules (a), (b), (c), a weight of exactly 3500 and rounding
LISTENS = [
    (10, 1, 120),
    (10, 2, 5000),  # (a): median of 120, 300, 201 -> 201
    (10, 3, 300),
    (10, 4, 201),
    (20, 1, 4000),  # user 20 has no small weight: (b) artist 1 = 120, 4000, 50, 10 -> 85
    (20, 5, 9000),  # user 20 now has 85 (row above, replaced): (a) -> 85
    (40, 5, 8000),  # (b) artist 5 = 85, 8000 -> 4042.5 >= 3500: (c) median of the table so far
    (30, 2, 3500),  # exactly 3500: kept
    (30, 1, 50),
    (30, 3, 3),
    (50, 1, 10),
    (50, 2, 11),
    (50, 3, 9999),  # (a): median of 10, 11 = 10.5 -> 10 (half to even)
]
# the table as the loop sees it at row 6: 120,201,300,201,85,85,8000,3500,50,3,10,11,9999
EXPECTED_RAW_CLEAN = [120, 201, 300, 201, 85, 85, 120, 3500, 50, 3, 10, 11, 10]
# userID, artistID, tagID, year
TAG_ROWS = [
    (10, 1, 4, 2009),
    (10, 1, 1, 2004),
    (20, 1, 1, 2003),  # before 2005: counts as 2005
    (20, 1, 2, 2008),
    (30, 1, 2, 2008),
    (30, 2, 3, 2010),
    (10, 99, 4, 2010),  # artist 99 is not in artists.dat: dropped and counted
    (50, 5, 4, 2007),
    (50, 5, 4, 2008),
]
FRIENDS = [(10, 20), (20, 10), (10, 30), (30, 10), (40, 50), (50, 40)]


def write_hetrec(folder: Path, **replace: str) -> Path:
    """Write a small HetRec-shaped dataset; ``replace`` swaps a file's text (file name -> text)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "artists.dat": (
            "id\tname\turl\tpictureURL\n"
            + "".join(f"{i}\t{n}\thttp://www.last.fm/music/{i}\t\n" for i, n in ARTISTS),
            "utf-8",
        ),
        "tags.dat": ("tagID\ttagValue\n" + "".join(f"{i}\t{t}\n" for i, t in TAGS), "latin-1"),
        "user_artists.dat": (
            "userID\tartistID\tweight\n" + "".join(f"{u}\t{a}\t{w}\n" for u, a, w in LISTENS),
            "ascii",
        ),
        "user_taggedartists.dat": (
            "userID\tartistID\ttagID\tday\tmonth\tyear\n"
            + "".join(f"{u}\t{a}\t{t}\t1\t1\t{y}\n" for u, a, t, y in TAG_ROWS),
            "ascii",
        ),
        "user_friends.dat": (
            "userID\tfriendID\n" + "".join(f"{a}\t{b}\n" for a, b in FRIENDS),
            "ascii",
        ),
    }
    for name, (text, enc) in files.items():
        (folder / name).write_bytes(replace.get(name, text).encode(enc))
    return folder


def zip_folder(folder: Path, zip_path: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(zip_path, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, prefix + f.name)
    return zip_path


@pytest.fixture
def hetrec(tmp_path) -> Path:
    return write_hetrec(tmp_path / "hetrec")


# ------------------------------------------------------------------------------------------------
def reference_clean(users, artists, weights):
    """The chapter's rule written as the plain loop it describes (slow; the oracle)."""
    w = np.asarray(weights, dtype=float).copy()
    for i in range(len(w)):
        if w[i] <= 3500:
            continue
        mine = w[(users == users[i]) & (w < 3500)]
        if len(mine):
            w[i] = np.round(np.median(mine))
            continue
        am = np.median(w[artists == artists[i]])
        w[i] = am if am < 3500 else np.median(w)
    return w


def test_cleaning_rules_by_hand():
    u, a, w = (np.array(c) for c in zip(*LISTENS, strict=True))
    np.testing.assert_array_equal(clean_weights(u, a, w), EXPECTED_RAW_CLEAN)
    np.testing.assert_array_equal(reference_clean(u, a, w), EXPECTED_RAW_CLEAN)


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_cleaning_equals_the_sequential_loop(seed):
    rng = np.random.default_rng(seed)
    n = 400
    users = rng.integers(0, 40, n)
    artists = rng.integers(0, 30, n)
    weights = rng.integers(0, 3000, n)
    big = rng.random(n) < 0.2
    weights[big] = rng.integers(3501, 20000, big.sum())
    heavy_users = rng.choice(40, 6, replace=False)  # users with only outliers -> rules (b), (c)
    weights[np.isin(users, heavy_users)] = rng.integers(
        3501, 20000, np.isin(users, heavy_users).sum()
    )
    np.testing.assert_array_equal(
        clean_weights(users, artists, weights), reference_clean(users, artists, weights)
    )


def test_load_synthetic_folder(hetrec):
    data = load_lastfm(hetrec)
    assert (data.n_users, data.n_artists, len(data.listens)) == (5, 6, len(LISTENS))
    # users in order of first appearance, artists in file order, 0-based; the chapter's ids are
    # the data's own (id = index), the GroupLens ids kept beside them
    np.testing.assert_array_equal(data.grouplens_user_ids, [10, 20, 40, 30, 50])
    np.testing.assert_array_equal(data.grouplens_artist_ids, [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(data.user_raw_ids, np.arange(5))
    assert data.user_index(3) == 3 and data.item_id(5) == 5
    assert data.listens["userID"].tolist()[:7] == [0, 0, 0, 0, 1, 1, 2]
    assert data.listens["artistID"].tolist()[:3] == [0, 1, 2]
    raw = np.array(EXPECTED_RAW_CLEAN, dtype=float)
    expected = 1 + 4 * (raw - raw.min()) / (raw.max() - raw.min())
    np.testing.assert_allclose(data.listens["listenCount"], expected, rtol=0, atol=1e-12)
    assert data.listens["listenCount"].min() == 1.0 and data.listens["listenCount"].max() == 5.0
    np.testing.assert_array_equal(data.raw_weights, [w for *_, w in LISTENS])
    assert list(data.listens.columns) == ["userID", "artistID", "listenCount"]


def test_encodings_and_names_survive(hetrec):
    data = load_lastfm(hetrec)
    assert data.artists["name"].tolist() == [n for _, n in ARTISTS]  # Björk, Sigur Rós, quotes, NA
    info = data.artist_info.set_index("name")
    assert info.loc["Björk", "all_tags"] == ["rock", "80s", "música"]  # latin-1 tag decoded


def test_artist_info_as_the_chapter_built_it(hetrec):
    info = load_lastfm(hetrec).artist_info
    assert list(info.columns) == [
        "id", "name", "tag_1", "tag_2", "tag_3", "all_tags", "peak_year", "listen_count",
        "tags", "n_users",
    ]  # fmt: skip
    bjork, sigur, weird, na, coldplay, never = (info.iloc[i] for i in range(6))
    # Björk: 80s x2, música x2, rock x1; ties broken by first use (80s before música)
    assert (bjork.tag_1, bjork.tag_2, bjork.tag_3) == ("80s", "música", "rock")
    # years 2009, 2005 (2004 raised), 2005 (2003 raised), 2008, 2008: 2005 and 2008 tie -> 2005
    assert bjork.peak_year == 2005
    assert (sigur.tag_1, sigur.tag_2, sigur.tag_3) == ("hiphop", "hiphop", "hiphop")
    assert (coldplay.tag_1, coldplay.all_tags, coldplay.peak_year) == ("rock", ["rock"], 2007)
    assert (never.tag_1, never.tag_3, never.all_tags, never.peak_year) == (
        "no_tags", "no_tags", [], 2004,
    )  # fmt: skip
    assert info["listen_count"].tolist() == [4, 3, 3, 1, 2, 0]
    # the dataset-neutral columns: top tags without repeats or the placeholder; listeners
    assert (bjork.tags, sigur.tags, never.tags) == (["80s", "música", "rock"], ["hiphop"], [])
    assert info["n_users"].tolist() == info["listen_count"].tolist()
    del weird, na


def test_orphan_tag_rows_are_dropped_and_counted(hetrec):
    data = load_lastfm(hetrec)
    assert data.dropped == {"tag assignments naming artists absent from artists.dat": 1}
    assert len(data.tag_assignments) == len(TAG_ROWS) - 1


def test_friend_pairs_are_deduplicated(hetrec):
    friends = load_lastfm(hetrec).friends
    assert len(friends) == 3
    assert (friends["userID"] < friends["friendID"]).all()


def test_load_does_not_depend_on_the_working_directory(hetrec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_lastfm(str(hetrec)).n_users == 5


# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "file, text, message",
    [
        ("user_artists.dat", "userID\tartistID\tweight\n2\t51\t13883\n2\t52", "weight"),
        ("user_artists.dat", "", "empty"),
        ("user_artists.dat", "userID\tartistID\tweight\n", "no rows"),
        ("user_artists.dat", "userID\tartistID\tweight\n10\t1\t-5\n", "non-negative"),
        ("user_artists.dat", "userID\tartistID\tweight\n10\tx\t5\n", "integers"),
        ("user_artists.dat", "userID\tartistID\tweight\n10\t1\t5.5\n", "integers"),
        ("user_artists.dat", "userID\tartist\tweight\n10\t1\t5\n", "missing column"),
        ("user_artists.dat", "userID\tartistID\tweight\n10\t77\t5\n", "absent from artists.dat"),
        ("artists.dat", "id\tname\turl\n1\tA\tu\n1\tB\tu\n", "more than once"),
        ("user_friends.dat", "userID\tfriendID\n10\t2", None),  # fine: a complete last row
    ],
)
def test_malformed_files_raise_data_error_naming_the_file(tmp_path, file, text, message):
    folder = write_hetrec(tmp_path / "d", **{file: text})
    if message is None:
        load_lastfm(folder)
        return
    with pytest.raises(DataError, match=message) as err:
        load_lastfm(folder)
    assert file in str(err.value)
    assert isinstance(err.value, ValueError)


def test_missing_file_is_named(hetrec):
    (hetrec / "tags.dat").unlink()
    with pytest.raises(DataError, match=r"tags\.dat"):
        load_lastfm(hetrec)


def test_wrong_source_type_and_missing_path(tmp_path):
    with pytest.raises(TypeError, match="source"):
        load_lastfm(42)
    with pytest.raises(DataError, match="no such folder or archive"):
        load_lastfm(tmp_path / "nothing-here")


# ------------------------------------------------------------------------------------------------
def test_zip_source_flat_or_nested(hetrec, tmp_path):
    for prefix in ("", f"{DATASET_NAME}/"):
        z = zip_folder(hetrec, tmp_path / f"z{len(prefix)}.zip", prefix)
        data = load_lastfm(z)
        assert len(data.listens) == len(LISTENS)
        assert data.artists["name"][0] == "Björk"


def test_bad_zip_and_incomplete_zip(hetrec, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(DataError, match="not a readable zip"):
        load_lastfm(bad)
    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(partial, "w") as zf:
        zf.write(hetrec / "artists.dat", "artists.dat")
    with pytest.raises(DataError, match=r"user_artists\.dat"):
        load_lastfm(partial)


def test_safe_extract_refuses_escaping_paths(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../escaped.txt", "gotcha")
    target = tmp_path / "target"
    with pytest.raises(DataError, match="escapes"):
        safe_extract(z, target)
    assert not (tmp_path / "escaped.txt").exists()
    z2 = tmp_path / "abs.zip"
    with zipfile.ZipFile(z2, "w") as zf:
        zf.writestr("/etc/evil.txt", "gotcha")
    with pytest.raises(DataError, match="escapes"):
        safe_extract(z2, target)


def test_environment_variable_is_used_when_no_source(hetrec, monkeypatch, tmp_path):
    monkeypatch.setenv("MFWIDGETS_DATA", str(hetrec))
    assert load_lastfm(cache_dir=tmp_path / "unused").source == str(hetrec)
    monkeypatch.setenv("MFWIDGETS_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataError, match="MFWIDGETS_DATA"):
        load_lastfm(cache_dir=tmp_path / "unused")


# ------------------------------------------------------------------------------------------------
@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("MFWIDGETS_DATA", raising=False)


def test_download_into_cache_then_reuse(hetrec, tmp_path, no_env):
    server = ZipServer(zip_folder(hetrec, tmp_path / "src.zip", f"{DATASET_NAME}/").read_bytes())
    cache = tmp_path / "cache"
    try:
        data = load_lastfm(cache_dir=cache, download_url=server.url)
    finally:
        server.close()
    assert len(data.listens) == len(LISTENS)
    assert (cache / DATASET_NAME / "artists.dat").is_file()
    assert sorted(p.name for p in cache.iterdir()) == [DATASET_NAME]  # no leftovers
    # second load: the server is gone, the cache answers
    assert load_lastfm(cache_dir=cache, download_url=server.url).n_users == data.n_users


def test_interrupted_download_leaves_nothing_that_looks_complete(hetrec, tmp_path, no_env):
    payload = zip_folder(hetrec, tmp_path / "src.zip").read_bytes()
    server = ZipServer(payload, cut_at=len(payload) // 2)
    cache = tmp_path / "cache"
    try:
        with pytest.raises(DataError, match=r"interrupted|could not download"):
            fetch_lastfm(cache, url=server.url)
    finally:
        server.close()
    assert not (cache / DATASET_NAME).exists()
    assert list(cache.iterdir()) == []


def test_download_of_a_non_zip_is_refused(tmp_path, no_env):
    server = ZipServer(b"<html>maintenance</html>")
    try:
        with pytest.raises(DataError, match="zip"):
            fetch_lastfm(tmp_path / "cache", url=server.url)
    finally:
        server.close()
    assert not (tmp_path / "cache" / DATASET_NAME).exists()


def test_offline_error_says_how_to_provide_the_data(tmp_path, no_env):
    with pytest.raises(DataError) as err:
        load_lastfm(cache_dir=tmp_path / "cache", download_url="http://127.0.0.1:9/x.zip")
    msg = str(err.value)
    assert "MFWIDGETS_DATA" in msg and "grouplens" in msg and str(tmp_path / "cache") in msg


# ------------------------------------------------------------------------------------------------
def test_split_matches_pandas_sample_and_validates():
    df = pd.DataFrame({"x": np.arange(100)})
    before = df.copy()
    train, test = split_dataframe(df, 0.2, seed=3)
    pd.testing.assert_frame_equal(test, df.sample(frac=0.2, replace=False, random_state=3))
    assert len(train) == 80 and set(train.index).isdisjoint(test.index)
    pd.testing.assert_frame_equal(df, before)
    a, _ = split_dataframe(df, 0.2, seed=3)
    pd.testing.assert_frame_equal(a, train)
    for bad in (0, 1, -0.1, 1.5):
        with pytest.raises(ValueError, match="holdout_fraction"):
            split_dataframe(df, bad)
    with pytest.raises(TypeError, match="holdout_fraction"):
        split_dataframe(df, "0.1")
    with pytest.raises(TypeError, match="seed"):
        split_dataframe(df, 0.1, seed=1.5)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        split_dataframe(df, 0.1, seed=-1)
    with pytest.raises(TypeError, match="DataFrame"):
        split_dataframe(df.to_numpy(), 0.1)


# ------------------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_real_data_published_figures(lastfm):
    assert (lastfm.n_users, lastfm.n_artists, len(lastfm.listens)) == (1892, 17632, 92834)
    counts = lastfm.listens["listenCount"]
    assert counts.min() == 1.0 and counts.max() == 5.0
    assert lastfm.dropped["tag assignments naming artists absent from artists.dat"] == 1538
    assert len(lastfm.friends) == 12717
    names = lastfm.artists["name"]
    # ids as printed in the chapter's neighbour tables
    for i, name in {
        59: "Coldplay", 184: "Muse", 148: "Radiohead", 167: "Placebo", 221: "The Beatles",
        1089: "Björk", 3037: "Regina Spektor", 505: "U2",
    }.items():  # fmt: skip
        assert names[i] == name
    assert "Sigur Rós" in set(names)
    assert lastfm.artist_info["listen_count"].sum() == 92834
    assert lastfm.raw_weights.max() > 3500  # the raw counts are kept beside the cleaned ones


@pytest.mark.realdata
def test_real_data_cleaning_equals_the_sequential_loop(lastfm):
    ls = lastfm.listens
    u, a = ls["userID"].to_numpy(), ls["artistID"].to_numpy()
    cleaned = clean_weights(u, a, lastfm.raw_weights)
    np.testing.assert_array_equal(cleaned, reference_clean(u, a, lastfm.raw_weights))
    assert cleaned.max() <= 3500


@pytest.mark.realdata
def test_real_zip_loads_like_the_folder(lastfm, tmp_path):
    folder = Path(lastfm.source)
    if not folder.is_dir():
        pytest.skip("the real data came from a zip already")
    z = zip_folder(folder, tmp_path / f"{DATASET_NAME}.zip")
    pd.testing.assert_frame_equal(load_lastfm(z).listens, lastfm.listens)


def test_a_repeated_listen_row_is_refused_by_default_and_merged_when_asked(tmp_path):
    rows = [*LISTENS, (30, 1, 70)]  # user 30's artist 1 appended again by hand
    text = "userID\tartistID\tweight\n" + "".join(f"{u}\t{a}\t{w}\n" for u, a, w in rows)
    folder = write_hetrec(tmp_path / "dup", **{"user_artists.dat": text})
    with pytest.raises(DataError, match=r"1 duplicate \(userID, artistID\) row\(s\): the first, "
                       r"user_artists.dat line 15 \(userID 30, artistID 1\), repeats "
                       r"user_artists.dat line 10"):  # fmt: skip
        load_lastfm(folder)
    summed = load_lastfm(folder, duplicates="sum")
    assert summed.notes == {"duplicate (user, artist) rows summed": 1}
    assert "1 duplicate (user, artist) rows summed" in repr(summed)
    assert len(summed.listens) == len(LISTENS)
    u, a = summed.listens["userID"], summed.listens["artistID"]
    row = (u == summed.user_index(3)) & (a == summed.item_index(0))  # GroupLens user 30, artist 1
    assert summed.grouplens_user_ids[3] == 30 and summed.raw_weights[row.to_numpy()].tolist() == [
        120
    ]
