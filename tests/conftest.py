"""Shared fixtures: the real Last.fm data (marked ``realdata``) and environment normalisation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# CI exports MFWIDGETS_DATA relative to the repository; kernels and servers started by tests run
# elsewhere, so make it absolute once for every child process.
for _name in ("MFWIDGETS_DATA", "MFWIDGETS_DATA_MOVIELENS_100K"):
    if os.environ.get(_name):
        os.environ[_name] = str(Path(os.environ[_name]).expanduser().resolve())


@pytest.fixture(scope="session")
def lastfm():
    """The real HetRec 2011 Last.fm data, loaded once per session.

    With MFWIDGETS_DATA set (as in CI) a loading error fails the test; without it the data comes
    from the cache or a download, and the test is skipped (with the reason) when neither works.
    """
    from mfwidgets.data import DataError, load_lastfm

    if os.environ.get("MFWIDGETS_DATA"):
        return load_lastfm()
    try:
        return load_lastfm()
    except DataError as exc:
        pytest.skip(f"Last.fm data not available (set MFWIDGETS_DATA): {exc}")


@pytest.fixture(scope="session")
def lastfm_split(lastfm):
    """The seeded 90/10 split used throughout (seed 0), as in the issues' measurements."""
    from mfwidgets.data import split_dataframe

    return split_dataframe(lastfm.listens, holdout_fraction=0.1, seed=0)


@pytest.fixture(scope="session")
def movielens_100k():
    """The real MovieLens 100K: ``$MFWIDGETS_DATA_MOVIELENS_100K`` (as in CI; an error fails the
    test), else the shared copy beside the repository, else the test is skipped."""
    from mfwidgets.data import load_movielens_100k

    if os.environ.get("MFWIDGETS_DATA_MOVIELENS_100K"):
        return load_movielens_100k()
    shared = ROOT.parent / "shared" / "data" / "ml-100k"
    if not shared.is_dir():
        pytest.skip("MovieLens 100K not available (set MFWIDGETS_DATA_MOVIELENS_100K)")
    return load_movielens_100k(shared)
