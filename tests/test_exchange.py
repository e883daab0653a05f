"""Factors that travel: implicit's own loader reads our export; implicit's factors, TensorBoard's
projector files and plain arrays come back as the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from synthetic import dataset

from mfwidgets.analysis import recommend
from mfwidgets.models import CFModel, Factors
from mfwidgets.models.exchange import (
    from_implicit,
    load_factors,
    read_projector,
    save_factors,
    to_implicit,
    to_projector,
)
from mfwidgets.widgets import NeighborExplorer

pytestmark = pytest.mark.filterwarnings("ignore:OpenBLAS is configured:RuntimeWarning")
N_USERS, N_ITEMS = 40, 30


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    cells = rng.choice(N_USERS * N_ITEMS, 400, replace=False)
    listens = pd.DataFrame({"userID": cells // N_ITEMS, "artistID": cells % N_ITEMS,
                            "listenCount": rng.uniform(1, 5, len(cells))})  # fmt: skip
    names = [f"artist {i}" for i in range(N_ITEMS)]
    names[3] = "tab\there & <b>new\nline</b>"
    return dataset(listens, N_USERS, N_ITEMS, names=names)


@pytest.fixture(scope="module")
def biased(data):
    model = CFModel.from_listens(data, seed=0, kind="biased", embedding_dim=4,
                                 regularization_coeff=0.05)  # fmt: skip
    model.train(num_iterations=5, optimizer="als")
    return model


def user_items(data) -> sp.csr_matrix:
    li = data.interactions
    return sp.csr_matrix(
        (np.ones(len(li)), (li["userID"], li["artistID"])), shape=(N_USERS, N_ITEMS)
    )


def test_implicit_loads_our_export_and_recommends_the_same_top_10(data, biased, tmp_path):
    from implicit.cpu.als import AlternatingLeastSquares

    path = to_implicit(biased, tmp_path / "model.npz")
    loaded = AlternatingLeastSquares.load(str(path))
    seen = user_items(data)
    for user in (0, 7, 23):
        ids, _ = loaded.recommend(user, seen[user], N=10, filter_already_liked_items=True)
        ours = recommend(biased, data, user, k=10)["item_index"].tolist()
        assert ids.tolist() == ours, user


def test_an_implicit_model_is_explored_as_factors(data):
    from implicit.cpu.als import AlternatingLeastSquares

    als = AlternatingLeastSquares(factors=6, iterations=5, random_state=0)
    als.fit(user_items(data))
    factors = from_implicit(als, data)
    assert isinstance(factors, Factors) and not factors.predicts_ratings
    explorer = NeighborExplorer(data, {"implicit": factors}, k=5, measure="cosine")
    explorer.select(2)
    ids, _ = als.similar_items(2, N=5)
    assert explorer.results[("implicit", "cosine")]["item_index"].tolist() == ids.tolist()


def test_projector_files_round_trip_with_escaped_names(data, biased, tmp_path):
    folder = to_projector(biased, data, tmp_path / "projector")
    vectors, metadata = read_projector(folder)
    np.testing.assert_allclose(vectors, biased.item_factors, rtol=1e-6, atol=1e-7)
    assert list(metadata.columns) == ["name", "tags", "n_users"] and len(metadata) == N_ITEMS
    assert metadata["name"].iloc[3] == "tab here & <b>new line</b>"
    config = (folder / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config


@pytest.mark.parametrize("fmt", ["npz", "parquet"])
def test_plain_arrays_round_trip(data, biased, tmp_path, fmt):
    path = save_factors(biased, tmp_path / f"factors.{fmt}", data, format=fmt)
    back = load_factors(path, data)
    np.testing.assert_array_equal(back.item_factors, biased.item_factors)
    np.testing.assert_allclose(back.item_bias, biased.item_bias)
    users, items = np.array([0, 5, 9]), np.array([1, 2, 3])
    np.testing.assert_allclose(back.predict(users, items), biased.predict(users, items), rtol=1e-6)
    assert back.dataset is data and back.predicts_ratings
    with pytest.raises(ValueError, match="format"):
        save_factors(biased, tmp_path / "x", format="csv")
