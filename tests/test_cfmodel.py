"""CFModel's arguments and the chapter's builders: validation before any TensorFlow work, the
sparse tensor, and the chapter's training on the real data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from synthetic import random_listens

from mfwidgets.models import (
    CFModel,
    TrainConfig,
    build_listens_sparse_tensor,
    build_model,
)


# ------------------------------------------------------------------------------------------------
# validation, before any TensorFlow work
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"embedding_dim": 0}, ValueError, "embedding_dim"),
        ({"embedding_dim": 2.5}, TypeError, "embedding_dim"),
        ({"init_stddev": 0}, ValueError, "init_stddev"),
        ({"init_stddev": -1}, ValueError, "init_stddev"),
        ({"regularization_coeff": -0.1, "kind": "regularized"}, ValueError, "regularization_coeff"),
        ({"gravity_coeff": float("nan"), "kind": "regularized"}, ValueError, "gravity_coeff"),
        ({"regularization_coeff": 0.1}, ValueError, "kind='regularized'"),
        ({"kind": "fancy"}, ValueError, "kind"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"seed": -3}, ValueError, "seed"),
        ({"n_users": 2}, ValueError, r"userID.*\[0, 2\)"),
    ],
)
def test_constructor_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        CFModel(random_listens(), **kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_iterations": -1}, ValueError, "num_iterations"),
        ({"learning_rate": 0}, ValueError, "learning_rate"),
        ({"learning_rate": "fast"}, TypeError, "learning_rate"),
        ({"record_every": 0}, ValueError, "record_every"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
        ({"optimizer": 3}, TypeError, "optimizer"),
        ({"callbacks": [print]}, TypeError, "Callback"),
        ({"num_iterations": 5, "config": TrainConfig(3)}, ValueError, "config replaces them"),
    ],
)
def test_train_validation(kwargs, error, match):
    m = build_model(random_listens(), embedding_dim=2, seed=0)
    with pytest.raises(error, match=match):
        m.train(**kwargs)
    assert m.iterations_done == 0


def test_bad_listens_are_refused():
    df = random_listens()
    with pytest.raises(TypeError, match="DataFrame"):
        build_model(df.to_numpy())
    with pytest.raises(ValueError, match="listenCount"):
        build_model(df.drop(columns="listenCount"))
    with pytest.raises(ValueError, match="userID"):
        build_model(df.assign(userID=df["userID"] - 5))
    with pytest.raises(TypeError, match="integer"):
        build_model(df.assign(artistID=df["artistID"] + 0.5))
    with pytest.raises(ValueError, match="finite"):
        build_model(df.assign(listenCount=np.inf))
    with pytest.raises(ValueError, match="holdout_fraction"):
        build_model(df, holdout_fraction=1.0)
    m = build_model(df, seed=0)
    with pytest.raises(ValueError, match=r"item_ids must lie in \[0, 17\)"):
        m.predict([0], [17])


def test_validation_happens_before_tensorflow_is_imported():
    code = """
import sys, numpy as np, pandas as pd
from mfwidgets import build_model
df = pd.DataFrame({"userID": [0, 1], "artistID": [0, 1], "listenCount": [1.0, 2.0]})
for kwargs in ({"embedding_dim": 0}, {"init_stddev": -1}, {"holdout_fraction": 2}):
    try:
        build_model(df, **kwargs)
    except ValueError:
        pass
print("tensorflow" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------------
# the chapter's helpers
# ------------------------------------------------------------------------------------------------
def test_sparse_tensor_shape_from_data_or_given():
    df = random_listens()
    st = build_listens_sparse_tensor(df)
    assert tuple(st.dense_shape.numpy()) == (df["userID"].max() + 1, df["artistID"].max() + 1)
    dense = tf.sparse.to_dense(st).numpy()
    np.testing.assert_allclose(dense[df["userID"], df["artistID"]], df["listenCount"], rtol=1e-6)
    st = build_listens_sparse_tensor(df, n_users=20, n_artists=30)
    assert tuple(st.dense_shape.numpy()) == (20, 30)
    with pytest.raises(ValueError, match="artistID"):
        build_listens_sparse_tensor(df, n_users=20, n_artists=5)


# ------------------------------------------------------------------------------------------------
# real data
# ------------------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_real_data_train_error_falls_as_in_the_chapter(lastfm):
    model = build_model(lastfm.listens, embedding_dim=30, init_stddev=0.5, seed=0)
    model.train(num_iterations=300, learning_rate=10.0, record_every=50)
    h = model.history.set_index("iteration")["train_error"]
    assert h.is_monotonic_decreasing
    assert h.iloc[-1] < h.iloc[0] / 5  # a sharp drop of the training error (4.7 -> 0.56 here)
    assert model.history["test_error"].iloc[-1] > 2  # while the test error stays high
    low = build_model(lastfm.listens, embedding_dim=30, init_stddev=0.05, seed=0)
    low.train(num_iterations=300, learning_rate=10.0, record_every=50)
    assert low.history["test_error"].iloc[-1] < model.history["test_error"].iloc[-1]


# ------------------------------------------------------------------------------------------------
# made as people make them: from the data and its split, each kind from its own defaults
# ------------------------------------------------------------------------------------------------
def test_a_model_is_made_from_the_data_and_its_split_as_ease_is():
    import pandas as pd

    import mfwidgets as mf

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"user": [f"u{u}" for u in rng.integers(0, 30, 600)],
                          "item": rng.integers(1, 60, 600) * 7,
                          "stars": rng.integers(1, 6, 600).astype(float)})  # fmt: skip
    data = mf.Dataset.from_dataframe(frame, user="user", item="item", weight="stars",
                                     duplicates="last")  # fmt: skip
    split = mf.random_split(data, holdout_fraction=0.2, seed=0)
    first = CFModel(data, split, kind="biased", seed=0)  # as EASE(data, split)
    second = CFModel(split, dataset=data, kind="biased", seed=0)
    assert first.split is split and first.dataset is data and first.config == second.config
    first.train(2)
    second.train(2)
    np.testing.assert_array_equal(first.item_factors, second.item_factors)
    np.testing.assert_array_equal(
        CFModel(data, split=split, kind="biased", seed=0).user_factors,
        CFModel(split, kind="biased", seed=0).user_factors,
    )
    everything = CFModel(data, kind="implicit")  # no split: every interaction trains
    assert len(everything.split.train) == len(data.interactions)
    assert everything.split.test is None
    with pytest.raises(TypeError, match="pass a Split"):
        CFModel(data, split.test)
    with pytest.raises(ValueError, match="dataset= is another"):
        CFModel(data, split, dataset=mf.Dataset.from_dataframe(frame.iloc[:5], user="user",
                                                               item="item"))  # fmt: skip
    # evaluate takes the model alone, on the split it was trained on (one drawn alike counts)
    alike = CFModel(mf.random_split(data, holdout_fraction=0.2, seed=0), kind="biased", seed=0)
    assert len(mf.evaluate([first, alike], data, baselines=False)) == 2
    with pytest.raises(ValueError, match="do not share one Split"):
        mf.evaluate([first, everything], data)
    alone = mf.evaluate(first, data)
    named = mf.evaluate({"biased_model": first}, data, split)
    pd.testing.assert_frame_equal(
        alone.drop(columns="eval_seconds"), named.drop(columns="eval_seconds")
    )


def test_each_kind_starts_from_its_own_defaults(movielens_100k):
    """The chapter's kinds from its builders' own defaults; the kinds beyond from settings
    worth having: by ALS, unasked, the biased kind beats the bias baseline and the implicit
    kind the popularity list on MovieLens 100K."""
    import inspect

    import mfwidgets as mf
    from mfwidgets.models import ModelConfig, build_regularized_model

    for builder, kind in ((build_model, "plain"), (build_regularized_model, "regularized")):
        config = ModelConfig(kind=kind)
        for name, p in inspect.signature(builder).parameters.items():
            if name in ModelConfig.defaults():
                assert getattr(config, name) == p.default, (kind, name)
        assert config.default_optimizer == "sgd"
    assert ModelConfig(kind="biased", embedding_dim=5).embedding_dim == 5  # given: kept
    data = movielens_100k
    split = mf.random_split(data, holdout_fraction=0.1, seed=1)
    biased = CFModel(data, split, kind="biased", seed=0)
    implicit = CFModel(data, split, kind="implicit", seed=0)
    assert biased.config.default_optimizer == implicit.config.default_optimizer == "als"
    biased.train()
    implicit.train()
    assert biased.iterations_done == implicit.iterations_done == 10  # ten sweeps
    table = mf.evaluate([biased, implicit], data)
    assert table.loc["biased_model", "test_rmse"] < table.loc["user+movie bias", "test_rmse"]
    assert table.loc["implicit_model", "recall@10"] > table.loc["popularity", "recall@10"]
    with pytest.raises(ValueError, match="optimizer='sgd'"):  # a learning rate asks for GD
        biased.train(5, learning_rate=0.5)
    with pytest.raises(ValueError, match="ALS only"):
        implicit.train(5, learning_rate=0.5)
