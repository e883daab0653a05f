"""Spark ALS as an engine, against a real local Spark (no mocks of pyspark).

Marked ``spark``; without pyspark or Java the Spark tests skip with the reason, unless
``MFWIDGETS_REQUIRE_SPARK=1`` (set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from synthetic import dataset

from mfwidgets.analysis import artist_neighbors, evaluate
from mfwidgets.analysis.evaluation import mse
from mfwidgets.data import split_dataframe
from mfwidgets.models import Callback, ModelConfig
from mfwidgets.spark import (
    SparkFactors,
    SparkStopped,
    from_spark,
    local_spark,
    read_spark_model,
    spark_unavailable,
    train_als,
)

REQUIRE = os.environ.get("MFWIDGETS_REQUIRE_SPARK") == "1"
spark_test = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    reason = spark_unavailable()
    if reason:
        if REQUIRE:
            pytest.fail(f"{reason} (MFWIDGETS_REQUIRE_SPARK=1 forbids skipping)")
        pytest.skip(reason)
    return local_spark(2)


def _synthetic(n_users=40, n_items=30, seed=0):
    rng = np.random.default_rng(seed)
    pairs = {(int(u), int(i)) for u, i in rng.integers(0, [n_users, n_items], (600, 2))}
    users, items = np.array(sorted(pairs)).T
    weights = 1 + 4 * rng.random(len(users))
    listens = pd.DataFrame({"userID": users, "artistID": items, "listenCount": weights})
    return dataset(listens, n_users, n_items)


def _raw_frame(spark, data, frame):
    """A Spark DataFrame of ``frame``'s pairs under the dataset's raw ids (as a cluster has)."""
    u, i, w = frame.columns[:3]
    raw = {
        "user": data.user_raw_ids[frame[u].to_numpy()].astype("int32"),
        "item": data.item_raw_ids[frame[i].to_numpy()].astype("int32"),
        "weight": frame[w].to_numpy("float32"),
    }
    return spark.createDataFrame(pa.table(raw))  # (Arrow: pyspark warns on pandas >= 3)


class Recorder(Callback):
    def __init__(self, on_progress=None):
        self.events, self.reason, self._on_progress = [], None, on_progress

    def on_train_begin(self, model, info):
        self.events.append("begin")

    def on_progress(self, model, steps_done, num_steps, seconds):
        self.events.append(("progress", steps_done, num_steps))
        if self._on_progress:
            self._on_progress()

    def on_record(self, model, iteration, metrics, seconds):
        self.events.append(("record", iteration, dict(metrics)))

    def on_train_end(self, model, reason, info):
        self.reason = reason


# -- no Spark needed ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"rank": 0}, ValueError, "rank"),
        ({"rank": 2.5}, TypeError, "rank"),
        ({"reg_param": -1.0}, ValueError, "reg_param"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"alpha": float("nan")}, ValueError, "alpha"),
        ({"seed": -1}, ValueError, "seed"),
        ({"implicit_prefs": "yes"}, TypeError, "implicit_prefs"),
    ],
)
def test_bad_arguments_are_refused_before_spark_starts(kwargs, error, words):
    with pytest.raises(error, match=words):
        train_als(_synthetic(), **kwargs)


def test_bad_data_and_ids_are_refused():
    with pytest.raises(TypeError, match="data must be a Dataset"):
        train_als([1, 2, 3])
    data = _synthetic()
    bad = data.interactions.assign(artistID=data.interactions["artistID"] + 100)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 30\)"):
        train_als(bad, dataset=data)
    with pytest.raises(ValueError, match="ids must be one of 'raw', 'row'"):
        read_spark_model("nowhere", data, ids="codes")
    with pytest.raises(ValueError, match="ids='raw' needs the dataset"):
        read_spark_model("nowhere", ids="raw")
    with pytest.raises(FileNotFoundError, match="not a saved Spark ALSModel"):
        read_spark_model("nowhere", data)


def test_missing_pyspark_says_what_to_install():
    code = """
import sys
sys.modules["pyspark"] = None  # makes pyspark unimportable
sys.path.insert(0, "tests")
from synthetic import dataset
import pandas as pd
from mfwidgets.spark import train_als, spark_unavailable
print(spark_unavailable())
listens = pd.DataFrame({"userID": [0, 1], "artistID": [0, 1], "listenCount": [1.0, 2.0]})
data = dataset(listens, 2, 2)
try:
    train_als(data)
except ImportError as e:
    print("ImportError:", e)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("pip install 'mfwidgets[spark]'") == 2, out.stdout
    assert "ImportError: Spark ALS needs pyspark" in out.stdout


# -- a real local Spark -------------------------------------------------------------------------
@spark_test
def test_train_als_on_a_small_dataset_matches_sparks_predictions(spark):
    from pyspark.ml.recommendation import ALS

    data = _synthetic()
    train, test = split_dataframe(data.interactions, 0.2, seed=0)
    rec = Recorder()
    factors = train_als(
        train, dataset=data, test=test, rank=4, reg_param=0.1, max_iter=5, seed=1,
        spark=spark, callbacks=rec,
    )  # fmt: skip
    assert isinstance(factors, SparkFactors) and factors.dataset is data
    assert (factors.n_users, factors.n_items, factors.embedding_dim) == (40, 30, 4)
    assert factors.predicts_ratings and rec.reason == "finished"
    assert rec.events[0] == "begin" and any(e[0] == "progress" for e in rec.events[1:-1])
    # the recorded errors are the analysis floor's own MSE of the factors
    assert factors.history["iteration"].tolist() == [5]
    last = factors.history.iloc[-1]
    assert last["train_error"] == pytest.approx(mse(factors, train), rel=1e-6)
    assert last["test_error"] == pytest.approx(mse(factors, test), rel=1e-6)
    assert rec.events[-1] == ("record", 5, {"train_error": last["train_error"],
                                            "test_error": last["test_error"]})  # fmt: skip

    # the same fit made in Spark directly: from_spark gives Spark's own predictions
    sdf = spark.createDataFrame(
        pa.Table.from_pandas(train.rename(columns={"userID": "u", "artistID": "i"}))
    )
    model = ALS(rank=4, maxIter=5, regParam=0.1, seed=1, userCol="u", itemCol="i",
                ratingCol="listenCount").fit(sdf)  # fmt: skip
    own = model.transform(sdf).toArrow().to_pandas()
    mine = from_spark(model, data, ids="row")
    assert np.allclose(
        mine.predict(own["u"].to_numpy(), own["i"].to_numpy()), own["prediction"], atol=1e-5
    )


@spark_test
def test_neighbours_agree_between_from_spark_the_saved_folder_and_spark(spark, lastfm, tmp_path):
    """An ALS fitted in Spark on Last.fm's raw ids, read three ways: in memory, from its saved
    folder without Spark, and by Spark's own dot products and recommendForItemSubset."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    sdf = _raw_frame(spark, lastfm, lastfm.interactions)
    model = ALS(rank=8, maxIter=4, regParam=0.1, seed=0, userCol="user", itemCol="item",
                ratingCol="weight").fit(sdf)  # fmt: skip
    model.write().overwrite().save(str(tmp_path / "als"))
    memory = from_spark(model, lastfm)
    saved = read_spark_model(tmp_path / "als", lastfm)
    assert np.array_equal(memory.item_factors, saved.item_factors)
    assert np.array_equal(memory.user_factors, saved.user_factors)
    assert saved.params["rank"] == 8 and saved.params["sparkVersion"] == spark.version

    artist = int(lastfm.items["n_users"].idxmax())
    raw = int(lastfm.item_raw_ids[artist])
    ours = [artist_neighbors(f, lastfm, artist, k=11).index.tolist() for f in (memory, saved)]
    query = model.itemFactors.where(F.col("id") == raw).select(F.col("features").alias("q"))
    dots = (
        model.itemFactors.crossJoin(query)
        .select(
            "id",
            F.aggregate(
                F.zip_with("features", "q", lambda a, b: a * b), F.lit(0.0), lambda s, x: s + x
            ).alias("dot"),
        )
        .orderBy(F.desc("dot"))
        .limit(11)
        .toArrow()
        .to_pandas()
    )
    theirs = pd.Index(lastfm.item_raw_ids).get_indexer(dots["id"]).tolist()
    assert ours[0] == ours[1] == theirs

    # top listeners of the artist: Spark's recommendForItemSubset against U · v
    top = model.recommendForItemSubset(query.select(F.lit(raw).alias("item")), 10).first()
    spark_users = [int(r["user"]) for r in top["recommendations"]]
    scores = saved.user_factors @ saved.item_factors[artist]
    mine = lastfm.user_raw_ids[np.argsort(-scores, kind="stable")[:10]].tolist()
    assert mine == spark_users


@spark_test
def test_train_als_on_lastfm_ties_factors_to_the_dataset(spark, lastfm, lastfm_split):
    train, test = lastfm_split
    factors = train_als(train, dataset=lastfm, test=test, rank=10, max_iter=5, seed=0,
                        implicit_prefs=True, alpha=5.0, spark=spark)  # fmt: skip
    assert not factors.predicts_ratings and factors.dataset is lastfm
    assert set(factors.history.columns) == {
        "iteration",
        "train_error_observed",
        "test_error_observed",
        "seconds",
    }
    # artists never listened to in the training split have no Spark factors: zero rows
    unseen = np.setdiff1d(np.arange(lastfm.n_items), train["artistID"].unique())
    assert factors.id_report.items_without_factors == len(unseen)
    assert not np.abs(factors.item_factors[unseen]).any()
    table = evaluate({"spark implicit": factors}, lastfm, train, test, baselines=True)
    assert np.isnan(table.loc["spark implicit", "test_mse"])
    # a real ranking model: clearly better than recommending by popularity
    assert table.loc["spark implicit", "recall@10"] > table.loc["popularity", "recall@10"]


@spark_test
def test_unknown_ids_are_reported_not_dropped(spark, tmp_path):
    from pyspark.ml.recommendation import ALS

    data = _synthetic()
    sdf = _raw_frame(spark, data, data.interactions)
    ALS(rank=3, maxIter=2, seed=0, userCol="user", itemCol="item", ratingCol="weight").fit(
        sdf
    ).save(str(tmp_path / "m"))
    # a dataset that knows only the first 25 items (ids 0..24)
    kept = data.interactions[data.interactions["artistID"] < 25]
    small = dataset(kept.reset_index(drop=True), 40, 25)
    with pytest.warns(UserWarning, match=r"item id\(s\) of the Spark model are not in the dataset"):
        factors = read_spark_model(tmp_path / "m", small)
    seen = np.unique(data.interactions["artistID"])
    assert factors.id_report.unknown_item_ids.tolist() == [i for i in seen if i >= 25]
    assert factors.id_report.unknown_user_ids.size == 0
    assert factors.n_items == 25


@spark_test
def test_read_spark_model_needs_no_spark(spark, tmp_path):
    from pyspark.ml.recommendation import ALS

    data = _synthetic()
    sdf = _raw_frame(spark, data, data.interactions)
    model = ALS(rank=3, maxIter=2, seed=0, userCol="user", itemCol="item", ratingCol="weight")
    model.fit(sdf).save(str(tmp_path / "m"))
    expected = read_spark_model(tmp_path / "m", data).item_factors
    np.save(tmp_path / "expected.npy", expected)
    code = f"""
import sys
sys.modules["pyspark"] = None
sys.modules["py4j"] = None
sys.path.insert(0, "tests")
import numpy as np, pandas as pd
from synthetic import dataset
from mfwidgets.spark import read_spark_model
rng = np.random.default_rng(0)
listens = pd.read_pickle({str(tmp_path / "listens.pkl")!r})
factors = read_spark_model({str(tmp_path / "m")!r}, dataset(listens, 40, 30))
assert np.array_equal(factors.item_factors, np.load({str(tmp_path / "expected.npy")!r}))
print("read without pyspark")
"""
    data.interactions.to_pickle(tmp_path / "listens.pkl")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "read without pyspark" in out.stdout


@spark_test
def test_a_stopped_run_cancels_sparks_jobs_and_makes_no_model(spark, lastfm):
    stop = threading.Event()
    rec = Recorder(on_progress=stop.set)
    with pytest.raises(SparkStopped, match="no model was made"):
        train_als(lastfm, rank=16, max_iter=50, seed=0, spark=spark, callbacks=rec, stop=stop)
    assert rec.reason == "stopped"
    assert list(spark.sparkContext.statusTracker().getActiveJobsIds()) == []
    assert spark.range(5).count() == 5  # the session is still usable


@spark_test
def test_ctrl_c_cancels_sparks_jobs_and_propagates(spark, lastfm):
    def interrupt():
        raise KeyboardInterrupt

    rec = Recorder(on_progress=interrupt)
    with pytest.raises(KeyboardInterrupt):
        train_als(lastfm, rank=16, max_iter=50, seed=0, spark=spark, callbacks=rec)
    assert rec.reason == "interrupted"
    assert list(spark.sparkContext.statusTracker().getActiveJobsIds()) == []


@spark_test
def test_a_local_spark_starts_and_trains_without_the_pandas_warning(spark):
    """pyspark 4 warns that pandas >= 3 is "not yet fully supported" when it starts; data
    crosses as Arrow here, so local_spark and train_als silence it (a fresh process: the
    warning comes once per process, at pyspark's start)."""
    code = """
import sys
sys.path.insert(0, "tests")
from test_spark import _synthetic
from mfwidgets.spark import local_spark, train_als
train_als(_synthetic(), rank=2, max_iter=1, seed=0, spark=local_spark(1))
print("trained")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "trained" in out.stdout and "does not yet fully support pandas" not in out.stderr


@spark_test
def test_a_long_local_run_checkpoints_instead_of_overflowing_the_stack(spark):
    """Without a checkpoint folder, 60 sweeps overflowed the JVM's stack (and killed Spark)."""
    factors = train_als(_synthetic(), rank=2, max_iter=60, seed=0, spark=spark)
    assert spark.sparkContext.getCheckpointDir() is not None
    assert np.isfinite(factors.item_factors).all()


# -- the TrainerWidget's Spark engine -----------------------------------------------------------
@spark_test
def test_trainer_trains_on_spark_and_keeps_the_run(spark):
    from mfwidgets.widgets.trainer import TrainerWidget

    data = _synthetic()
    t = TrainerWidget(data)
    assert not t.w["engine"].disabled and t.engine_note.value == ""
    t.w["engine"].value = "spark"  # moves the chapter's settings where Spark's ALS works
    assert (t.w["kind"].value, t.w["num_iterations"].value) == ("regularized", 10)
    assert t.w["learning_rate"].disabled and t.w["init_stddev"].disabled
    assert t.tune_button.disabled and not t.w["embedding_dim"].disabled
    t.w["embedding_dim"].value = 3
    model = t.train(block=True)
    assert t.last_error == "" and isinstance(model, SparkFactors), t.status.value
    assert t.runs.names == ["spark_reg_model"] and model.embedding_dim == 3
    assert "finished: spark_reg_model on Spark ALS (10 sweeps" in t.status.value
    assert "stage" in t.progress_label.value and t.progress.value == t.progress.max
    assert t.continue_button.disabled  # a Spark run does not continue
    # the live plot shows what Spark gives: train and test error at the last sweep
    assert t.history[["train_error", "test_error"]].notna().all().all()
    # the same split as a TensorFlow run of the same settings
    assert model.split.test.equals(
        split_dataframe(data.interactions, 0.1, t.form.fields(ModelConfig)["seed"])[1]
    )


@spark_test
def test_trainer_stop_on_spark_adds_no_run(spark, lastfm):
    from mfwidgets.widgets.trainer import TrainerWidget

    t = TrainerWidget(lastfm, engine="spark", kind="implicit", num_iterations=40)
    # Spark's regParam is not our implicit kind's λ: the kind's defaults are TensorFlow's
    suggested = ModelConfig.suggestions()["regularization_coeff"]
    assert (
        t.w["regularization_coeff"].value
        == suggested
        != ModelConfig(kind="implicit").regularization_coeff
    )
    t.train()
    deadline = time.monotonic() + 60
    while t.progress.max <= 1 and time.monotonic() < deadline:  # wait for Spark's first stages
        time.sleep(0.1)
    t.stop()
    assert t.wait(60)
    assert "stopped: Spark keeps no partial factors" in t.status.value
    assert len(t.runs) == 0 and not t.train_button.disabled


def test_trainer_greys_out_spark_with_the_reason_when_pyspark_is_missing():
    code = """
import sys
sys.modules["pyspark"] = None
sys.path.insert(0, "tests")
from test_spark import _synthetic
from mfwidgets.widgets.trainer import TrainerWidget
t = TrainerWidget(_synthetic())
print(t.w["engine"].disabled, t.engine_note.value)
try:
    TrainerWidget(_synthetic(), engine="spark")
except ValueError as e:
    print("ValueError:", e)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # greyed out, the reason shown (escaped, as everything that goes into HTML)
    assert "True <small>Spark ALS needs pyspark: pip install &#x27;mfwidgets[spark]&#x27;" in (
        out.stdout
    )
    assert "ValueError: engine='spark' is not available" in out.stdout
