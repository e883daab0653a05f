"""The saved-model format: files written by earlier releases still load, exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mfwidgets.models import CFModel

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
    model.train(num_iterations=2, learning_rate=0.5)  # the split was rebuilt: it can train
    assert model.iterations_done == 24
    again = CFModel.load(model.save(tmp_path / "now.mfmodel"), listens=listens)
    np.testing.assert_array_equal(again.item_factors, model.item_factors)
