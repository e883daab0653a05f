"""The saved-model format (``models/persistence.py``): round trips, atomic saves, clear errors,
and files written by earlier releases still load, exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import random_listens

from mfwidgets.models import (
    CFModel,
    build_model,
    build_regularized_model,
)

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("kind", ["regularized", "biased"])
def test_a_file_written_by_format_1_loads_exactly(kind, tmp_path):
    """tests/data/legacy_*_v1.mfmodel were written by the release before the floors (format 1,
    `artist_bias_reg`, `n_artists`) from the synthetic legacy_listens.csv; the expected arrays
    were saved beside them by the same code."""
    listens = pd.read_csv(DATA / "legacy_listens.csv")
    expected = np.load(DATA / f"legacy_{kind}_v1_expected.npz")
    model = CFModel.load(DATA / f"legacy_{kind}_v1.mfmodel", listens=listens)
    assert model.config.kind == kind and model.n_items == 9 and model.iterations_done == 21
    np.testing.assert_array_equal(model.user_factors, expected["U"])
    np.testing.assert_array_equal(model.item_factors, expected["V"])
    users, items = listens["userID"].to_numpy(), listens["artistID"].to_numpy()
    np.testing.assert_allclose(model.predict(users, items), expected["pred"], rtol=1e-6)
    assert model.config.item_bias_reg == 12.0  # stored as artist_bias_reg in format 1
    assert list(model.history["iteration"]) == [0, 10, 20]
    # the split was rebuilt: it can train (by gradient descent, as it was)
    model.train(num_iterations=2, learning_rate=0.5, optimizer="sgd")
    assert model.iterations_done == 24
    again = CFModel.load(model.save(tmp_path / "now.mfmodel"), listens=listens)
    np.testing.assert_array_equal(again.item_factors, model.item_factors)


# ------------------------------------------------------------------------------------------------
# persistence
# ------------------------------------------------------------------------------------------------
def test_save_load_round_trip_scores_identically_and_continues(tmp_path):
    df = random_listens(n=120)
    m = build_regularized_model(df, embedding_dim=4, seed=3)
    m.train(num_iterations=12, learning_rate=0.5)
    path = m.save(tmp_path / "reg.mfmodel")
    assert [p.name for p in tmp_path.iterdir()] == ["reg.mfmodel"]  # no temp file left
    loaded = CFModel.load(path)
    u, a = df["userID"].to_numpy(), df["artistID"].to_numpy()
    np.testing.assert_array_equal(loaded.predict(u, a), m.predict(u, a))
    pd.testing.assert_frame_equal(loaded.history, m.history)
    assert loaded.config == m.config and loaded.iterations_done == m.iterations_done
    assert loaded.split.test_hash == m.split.test_hash
    with pytest.raises(ValueError, match="listens"):
        loaded.train(num_iterations=1)
    resumed = CFModel.load(path, listens=df)
    resumed.train(num_iterations=4, learning_rate=0.5)
    m.train(num_iterations=4, learning_rate=0.5)
    np.testing.assert_allclose(resumed.embeddings["userID"], m.embeddings["userID"], rtol=1e-5)
    other = random_listens(n=120, seed=9)
    with pytest.raises(ValueError, match="listens"):
        CFModel.load(path, listens=other)


def test_loading_truncated_or_foreign_files_fails_clearly(tmp_path):
    m = build_model(random_listens(), embedding_dim=3, seed=1)
    good = m.save(tmp_path / "m.mfmodel").read_bytes()
    truncated = tmp_path / "t.mfmodel"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="not a readable mfwidgets model"):
        CFModel.load(truncated)
    foreign = tmp_path / "f.npz"
    np.savez(foreign, U=np.ones((2, 2)))
    with pytest.raises(ValueError, match="not an mfwidgets model"):
        CFModel.load(foreign)
    text = tmp_path / "x.txt"
    text.write_text("hello")
    with pytest.raises(ValueError):
        CFModel.load(text)


def test_save_overwrites_atomically(tmp_path):
    m = build_model(random_listens(), embedding_dim=3, seed=1)
    path = tmp_path / "m.mfmodel"
    m.save(path)
    m.train(num_iterations=3)
    m.save(path)
    assert CFModel.load(path).iterations_done == 4
