"""Last.fm-360K on a small file written here in the exact format: chunks, missing names, mbids,
duplicate artists, read from a folder, a tar.gz stream, the environment and a local download."""

from __future__ import annotations

import dataclasses
import tarfile

import pandas as pd
import pytest
from httpserve import ZipServer

from mfwidgets.data import DataError, fetch, load_dataset, load_lastfm_360k
from mfwidgets.data.lastfm360k import ARCHIVE, NO_NAME

A, B = "a" * 40, "b" * 40
MB_COLDPLAY = "cc197bad-dc9c-440d-a5b5-d52ba2e14234"
PLAYS = [
    (A, MB_COLDPLAY, "coldplay", 2000),
    (A, "", "björk", 700),  # no mbid: identified by its name
    (A, "", "", 12),  # no name, no mbid: kept under the placeholder
    (B, MB_COLDPLAY, "Coldplay", 300),  # the same mbid under another spelling
    (B, "", "NA", 5),  # a band called NA is a name, not a missing value
    (B, MB_COLDPLAY, "coldplay", 100),  # listed twice for B: summed
    ("c" * 40, "", "björk", 1),
]
PROFILES = [(A, "f", "22", "Germany", "Feb 1, 2007"), (B, "m", "", "Brazil", "Jan 3, 2008")]


def write_360k(folder):
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["\t".join(map(str, r)) for r in PLAYS]
    (folder / "usersha1-artmbid-artname-plays.tsv").write_text("\n".join(rows) + "\n", "utf-8")
    prof = ["\t".join(r) for r in PROFILES]
    (folder / "usersha1-profile.tsv").write_text("\n".join(prof) + "\n", "utf-8")
    return folder


def tar_360k(tmp_path):
    folder = write_360k(tmp_path / "src" / "lastfm-dataset-360K")
    path = tmp_path / "lastfm-dataset-360K.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        tf.add(folder, arcname="lastfm-dataset-360K")
    return path


@pytest.mark.parametrize("chunk_rows", [2, 1000])
def test_rows_artists_and_placeholders_whatever_the_chunk_size(tmp_path, chunk_rows):
    ds = load_lastfm_360k(write_360k(tmp_path / "d"), chunk_rows=chunk_rows)
    assert ds.n_users == 3 and list(ds.user_raw_ids) == [A, B, "c" * 40]
    assert ds.items["name"].tolist() == ["coldplay", "björk", NO_NAME, "NA"]
    assert ds.items["mbid"].tolist() == [MB_COLDPLAY, "", "", ""]
    assert ds.items["n_users"].tolist() == [2, 2, 1, 1]
    li = ds.interactions.sort_values(["user", "item"])
    assert li["weight"].tolist() == [2000, 700, 12, 400, 5, 1]  # B's coldplay rows summed
    assert ds.notes["rows whose artist name is missing (kept as '(no name)')"] == 1
    assert ds.notes["duplicate (user, artist) rows summed"] == 1
    assert ds.users["country"].iloc[:2].tolist() == ["Germany", "Brazil"]
    assert pd.isna(ds.users["country"].iloc[2])  # a listener without a profile row
    assert ds.users["age"].iloc[0] == 22 and ds.users["age"].isna().iloc[1]
    assert ds.item_noun == "artist" and ds.weight_noun == "plays"


def test_tar_stream_environment_download_and_errors(tmp_path, monkeypatch):
    path = tar_360k(tmp_path)
    assert load_dataset("lastfm-360k", path).n_items == 4
    monkeypatch.setenv("MFWIDGETS_DATA_LASTFM_360K", str(path))
    assert load_dataset("lastfm-360k").n_users == 3
    monkeypatch.delenv("MFWIDGETS_DATA_LASTFM_360K")
    server = ZipServer(path.read_bytes(), name="lastfm-dataset-360K.tar.gz")
    try:
        folder = fetch(dataclasses.replace(ARCHIVE, url=server.url), tmp_path / "cache")
    finally:
        server.close()
    assert (folder / "usersha1-profile.tsv").is_file()
    assert load_dataset("lastfm-360k", cache_dir=tmp_path / "cache").n_items == 4
    bad = write_360k(tmp_path / "bad")
    (bad / "usersha1-artmbid-artname-plays.tsv").write_text(f"{A}\t\tx\tmany\n")
    with pytest.raises(DataError, match="row 1 has no integer play count"):
        load_lastfm_360k(bad)


def test_an_unsafe_tar_is_refused(tmp_path):
    from mfwidgets.data import safe_extract

    evil = tmp_path / "evil.tar.gz"
    src = tmp_path / "x.txt"
    src.write_text("gotcha")
    with tarfile.open(evil, "w:gz") as tf:
        tf.add(src, arcname="../escaped.txt")
    with pytest.raises(DataError, match="unsafe member"):
        safe_extract(evil, tmp_path / "target")
    assert not (tmp_path / "escaped.txt").exists()
