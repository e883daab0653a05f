"""MovieLens loaders: the real 100K (shared copy, never committed) and synthetic 1M files written
here in the exact format, read from a folder, a zip, the environment, or a local download."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile

import numpy as np
import pytest
from httpserve import ZipServer

from mfwidgets.data import DataError, datasets, fetch, load_dataset, load_movielens_1m
from mfwidgets.data.movielens import ML_1M

MOVIES = [
    "1::Toy Story (1995)::Animation|Children's|Comedy",
    "2::Misérables, Les (1995)::Drama|Musical",  # latin-1 on disk
    "3::Star Wars: Episode IV - A New Hope (1977)::Action|Sci-Fi",
    "4::Odd::Title (2000)::Comedy",  # a '::' inside the title is not a field separator
    "5::Never Rated (1999)::Horror",
]
RATINGS = ["1::1::5::978300760", "1::2::3::978302109", "2::3::4::978301968", "3::4::1::978300275",
           "3::1::2::978824291"]  # fmt: skip
USERS = ["1::F::1::10::48067", "2::M::56::16::70072", "3::M::25::15::55117"]


def write_1m(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in (("movies.dat", MOVIES), ("ratings.dat", RATINGS), ("users.dat", USERS)):
        (folder / name).write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return folder


def zip_1m(tmp_path):
    folder = write_1m(tmp_path / "src" / "ml-1m")
    path = tmp_path / "ml-1m.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"ml-1m/{f.name}")
    return path


def test_movielens_100k_as_published(movielens_100k):
    ds = movielens_100k
    assert (len(ds.interactions), ds.n_users, ds.n_items) == (100_000, 943, 1_682)
    assert ds.interactions["weight"].mean() == pytest.approx(3.52986)
    assert ds.item_noun == "movie" and ds.weight_noun == "rating"
    star_wars = ds.items[ds.items["name"] == "Star Wars (1977)"].iloc[0]
    assert star_wars["tags"] == ["Action", "Adventure", "Romance", "Sci-Fi", "War"]
    assert star_wars["year"] == 1977 and ds.item_raw_ids[star_wars["id"]] == 50
    assert star_wars["n_users"] == 583
    assert list(ds.user_raw_ids[:3]) == [1, 2, 3] and len(ds.users) == 943
    assert ds.users.loc[0, ["raw_id", "age", "occupation"]].tolist() == [1, 24, "technician"]


def test_movielens_1m_format_latin1_and_colons(tmp_path):
    ds = load_movielens_1m(write_1m(tmp_path / "ml-1m"))
    assert ds.items["name"].tolist() == [
        "Toy Story (1995)", "Misérables, Les (1995)", "Star Wars: Episode IV - A New Hope (1977)",
        "Odd::Title (2000)", "Never Rated (1999)",
    ]  # fmt: skip
    assert ds.items["tags"].iloc[2] == ["Action", "Sci-Fi"]
    assert ds.items["year"].tolist() == [1995, 1995, 1977, 2000, 1999]
    assert ds.items["n_users"].tolist() == [2, 1, 1, 1, 0]  # the unrated movie is kept
    assert len(ds.interactions) == 5 and ds.users["gender"].tolist() == ["F", "M", "M"]
    assert np.isin(ds.interactions["timestamp"], [int(r.split("::")[3]) for r in RATINGS]).all()


def test_damaged_files_are_named(tmp_path):
    folder = write_1m(tmp_path / "ml-1m")
    (folder / "ratings.dat").write_text("1::1::5\n")
    with pytest.raises(DataError, match=r"ratings.dat: line 1 has 3 fields, expected 4"):
        load_movielens_1m(folder)
    write_1m(folder)
    (folder / "ratings.dat").write_text("1::99::5::0\n")
    with pytest.raises(DataError, match="absent from the movies file"):
        load_movielens_1m(folder)


def test_zip_environment_and_catalogue(tmp_path, monkeypatch):
    path = zip_1m(tmp_path)
    assert load_dataset("movielens-1m", path).n_items == 5
    monkeypatch.setenv("MFWIDGETS_DATA_MOVIELENS_1M", str(path))
    assert load_dataset("movielens-1m").n_users == 3
    table = datasets()
    assert {"lastfm-2k", "movielens-100k", "movielens-1m"} <= set(table.index)
    assert table.loc["movielens-1m", "env"] == "MFWIDGETS_DATA_MOVIELENS_1M"
    assert "Harper" in table.loc["movielens-100k", "citation"]
    with pytest.raises(ValueError, match="movielens-100k"):
        load_dataset("movielens-20m")


def test_download_checks_the_published_md5(tmp_path, monkeypatch):
    monkeypatch.delenv("MFWIDGETS_DATA_MOVIELENS_1M", raising=False)
    payload = zip_1m(tmp_path).read_bytes()
    server = ZipServer(payload, name="ml-1m.zip")
    try:
        wrong = dataclasses.replace(ML_1M, url=server.url)  # the real MD5, another archive
        with pytest.raises(DataError, match=r"MD5 .* not the published c4d9eecf"):
            fetch(wrong, tmp_path / "cache")
        assert list((tmp_path / "cache").iterdir()) == []  # nothing half-written
        right = dataclasses.replace(wrong, md5=hashlib.md5(payload).hexdigest())
        folder = fetch(right, tmp_path / "cache")
    finally:
        server.close()
    assert folder == tmp_path / "cache" / "ml-1m"
    assert load_dataset("movielens-1m", cache_dir=tmp_path / "cache").n_items == 5


def test_offline_error_names_the_file_and_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MFWIDGETS_DATA_MOVIELENS_1M", raising=False)
    offline = dataclasses.replace(ML_1M, url="http://127.0.0.1:9/ml-1m.zip")
    with pytest.raises(DataError) as err:
        fetch(offline, tmp_path / "cache")
    message = str(err.value)
    assert "ml-1m.zip" in message and "MFWIDGETS_DATA_MOVIELENS_1M" in message
    assert str(tmp_path / "cache" / "ml-1m") in message
