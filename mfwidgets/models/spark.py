"""Spark MLlib's ALS as an engine: train where the data lives, explore the factors here.

Lives on the models floor because what it makes is a model (:class:`SparkFactors`, a
:class:`~mfwidgets.models.Factors`) and it reports through the same training callbacks as
CFModel; analysis and widgets use it like any other model. pyspark is imported only inside the
functions that need a running Spark (``train_als``, ``from_spark``, ``local_spark``);
``read_spark_model`` reads a saved ``ALSModel`` folder with pyarrow alone, with no JVM.

The factors Spark makes, and their ids, are :mod:`.spark_factors`' (re-exported here).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_number, check_seed
from ..data.dataset import Dataset, check_interactions, interaction_arrays
from ..data.split import Split
from .factors import Factors
from .spark_factors import (
    IdReport,
    SparkFactors,
    check_ids,
    from_spark,
    quiet_pandas_check,
    read_spark_model,
)
from .training import FINISHED, INTERRUPTED, STOPPED, Callback, CallbackList, RunInfo

INSTALL = "pip install 'mfwidgets[spark]'"
JAVA = "a Java 17 runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
__all__ = [
    "IdReport", "SparkFactors", "SparkStopped", "from_spark", "local_spark", "read_spark_model",
    "spark_unavailable", "train_als",
]  # fmt: skip
POLL_SECONDS = 0.25
ERROR_CHUNK = 1 << 20  # pairs per chunk when the errors are computed
#: log4j2 settings of the local session: Spark's own INFO/WARN lines hidden, errors kept
QUIET_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


class SparkStopped(RuntimeError):
    """A Spark ALS run was stopped (Stop or cancel) before it finished: Spark keeps no partial
    factors, so no model was made and nothing was written."""


def spark_unavailable() -> str | None:
    """Why Spark ALS cannot run here (the missing piece and how to add it), or None when it can.

    Cheap: looks for pyspark and a Java runtime without starting either."""
    from importlib.util import find_spec

    if find_spec("pyspark") is None:
        return f"Spark ALS needs pyspark: {INSTALL}"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return f"Spark ALS needs {JAVA}; none was found on PATH or in JAVA_HOME"
    return None


def _require_spark() -> None:
    reason = spark_unavailable()
    if reason:
        raise ImportError(reason)


def local_spark(cores: int | str = "*", memory: str | None = None) -> Any:
    """A local ``SparkSession`` (``local[cores]``), quiet, without the web UI, stopped when the
    interpreter exits. An active session is returned as it is (Spark allows one per process),
    so ``memory`` (the driver's heap, e.g. ``"8g"``) applies only to a new one."""
    if cores != "*":
        check_number("cores", cores, minimum=1, strict=False, integer=True)
    _require_spark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    with tempfile.NamedTemporaryFile("w", suffix=".properties", delete=False) as fh:
        fh.write(QUIET_LOG4J)
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("mfwidgets")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{fh.name}")
    )
    if memory is not None:
        builder = builder.config("spark.driver.memory", memory)
    try:
        with quiet_pandas_check():  # (pyspark checks the pandas version while it starts)
            spark = builder.getOrCreate()
    finally:
        os.unlink(fh.name)  # read once, at start
    spark.sparkContext.setLogLevel("ERROR")
    atexit.register(spark.stop)
    return spark


# ------------------------------------------------------------------------------------------------
# training
# ------------------------------------------------------------------------------------------------
def _stages(tracker: Any, group: str) -> tuple[int, int]:
    """(stages done, stages known) of the job group, from Spark's status tracker."""
    done = total = 0
    for job in tracker.getJobIdsForGroup(group):
        info = tracker.getJobInfo(job)
        if info is None:
            continue
        stages = list(info.stageIds)
        total += len(stages)
        if info.status == "SUCCEEDED":  # its skipped stages count as done
            done += len(stages)
            continue
        for stage in stages:
            s = tracker.getStageInfo(stage)
            done += bool(s is not None and s.numTasks and s.numCompletedTasks >= s.numTasks)
    return done, total


def _spark_frame(spark: Any, frame: pd.DataFrame) -> Any:
    """Our interactions as a Spark DataFrame (``user``, ``item`` int32, ``weight`` float32)."""
    import pyarrow as pa

    users, items, weights = interaction_arrays(frame)
    table = pa.table(
        {
            "user": users.astype(np.int32),
            "item": items.astype(np.int32),
            "weight": weights.astype(np.float32),
        }
    )
    with quiet_pandas_check():
        try:
            return spark.createDataFrame(table)  # Spark 4 takes Arrow tables
        except TypeError:
            return spark.createDataFrame(table.to_pandas())


def _is_spark_frame(data: Any) -> bool:
    return hasattr(data, "sparkSession") and hasattr(data, "columns")


def _spark_columns(frame: Any) -> tuple[str, str, str]:
    for cols in (("user", "item", "weight"), ("userID", "artistID", "listenCount")):
        if all(c in frame.columns for c in cols):
            return cols
    raise ValueError(
        "a Spark DataFrame must have columns user, item, weight (or userID, artistID, "
        f"listenCount); found {', '.join(frame.columns) or 'none'}"
    )


def _ensure_checkpoints(spark: Any) -> None:
    """ALS checkpoints every 10 sweeps when it has a checkpoint folder; without one, a long run's
    lineage overflows the JVM's stack (measured: 60 sweeps on Last.fm 2K). A local Spark gets a
    temporary folder, removed at exit; a cluster needs one on shared storage, so say so."""
    sc = spark.sparkContext
    if sc.getCheckpointDir() is not None:
        return
    if sc.master.startswith("local"):
        folder = tempfile.mkdtemp(prefix="mfwidgets-spark-checkpoints-")
        atexit.register(shutil.rmtree, folder, True)
        sc.setCheckpointDir(folder)
    else:
        warnings.warn(
            "this Spark session has no checkpoint folder: ALS runs of more than a few tens of "
            "sweeps can overflow the stack; call spark.sparkContext.setCheckpointDir(...) with "
            "a folder on shared storage",
            UserWarning,
            stacklevel=3,
        )


def _error(factors: Factors, frame: pd.DataFrame, implicit: bool) -> float:
    """Mean squared error on a frame's pairs: against the weights, or against preference 1."""
    users, items, weights = interaction_arrays(frame)
    total = 0.0
    for a in range(0, len(users), ERROR_CHUNK):  # chunks: no (n, rank) copy of the factors
        b = a + ERROR_CHUNK
        target = 1.0 if implicit else weights[a:b]
        total += float(np.sum((target - factors.predict(users[a:b], items[a:b])) ** 2))
    return total / len(users)


def train_als(
    data: Any,
    *,
    rank: int = 10,
    reg_param: float = 0.1,
    max_iter: int = 10,
    implicit_prefs: bool = False,
    alpha: float = 1.0,
    seed: int | None = None,
    spark: Any = None,
    callbacks: Iterable[Callback] | Callback | None = None,
    dataset: Any = None,
    ids: str | None = None,
    test: pd.DataFrame | None = None,
    stop: threading.Event | None = None,
) -> SparkFactors:
    """Train Spark MLlib's ALS and return its factors, tied to the dataset.

    ``data``: one of our datasets; an interactions frame of its rows (``user``, ``item``,
    ``weight``, e.g. a training split) or a :class:`~mfwidgets.data.Split` with ``dataset=``;
    or a Spark DataFrame with those
    columns (``ids`` says whether they hold raw ids or rows). ``spark``: a ``SparkSession``
    (a cluster), else :func:`local_spark`. ``test``: held-out interactions (rows) whose error
    goes in ``history`` with the training error, at iteration ``max_iter`` (Spark reports no
    per-iteration loss). Progress: ``on_progress`` counts Spark stages (done, known so far);
    ``model`` is None until the fit ends. ``stop`` (an Event) or Ctrl-C cancels Spark's job
    group: Stop raises :class:`SparkStopped`, Ctrl-C ``KeyboardInterrupt``; no model is made.
    """
    check_number("rank", rank, minimum=1, strict=False, integer=True)
    check_number("reg_param", reg_param, minimum=0, strict=False)
    check_number("max_iter", max_iter, minimum=1, strict=False, integer=True)
    check_number("alpha", alpha, minimum=0, strict=False)
    check_seed(seed)
    if not isinstance(implicit_prefs, bool):
        raise TypeError(f"implicit_prefs must be True or False, got {implicit_prefs!r}")
    cbs = CallbackList(callbacks)
    source = _Source.read(data, dataset, ids, test)
    _require_spark()
    from pyspark.ml.recommendation import ALS

    t0 = time.perf_counter()
    spark = spark if spark is not None else local_spark()
    startup = time.perf_counter() - t0
    _ensure_checkpoints(spark)
    sdf, cols = source.spark_frame(spark)
    als = ALS(
        rank=int(rank), maxIter=int(max_iter), regParam=float(reg_param),
        implicitPrefs=implicit_prefs, alpha=float(alpha), seed=seed,
        userCol=cols[0], itemCol=cols[1], ratingCol=cols[2], nonnegative=False,
    )  # fmt: skip
    params = {
        "rank": int(rank), "regParam": float(reg_param), "maxIter": int(max_iter),
        "implicitPrefs": implicit_prefs, "alpha": float(alpha), "seed": seed,
        "sparkVersion": spark.version, "master": spark.sparkContext.master,
    }  # fmt: skip
    fitted, fit_seconds = _fit(spark, als, sdf, cbs, stop, RunInfo(0, max_iter, "spark-als", None))
    t1 = time.perf_counter()
    factors = from_spark(fitted, source.dataset, ids=source.ids,
                         predicts_ratings=not implicit_prefs)  # fmt: skip
    factors.params |= params | {"startup_seconds": startup, "fit_seconds": fit_seconds}
    factors.split = source.split if source.split is not None else Split(source.frame, source.test)
    _record(factors, source, implicit_prefs, int(max_iter), fit_seconds, t1, cbs)
    return factors


@dataclass
class _Source:
    """What ``train_als`` trains on, checked: our rows (``frame``) or a Spark DataFrame."""

    data: Any
    frame: pd.DataFrame | None
    test: pd.DataFrame | None
    split: Split | None
    dataset: Any
    ids: str

    @classmethod
    def read(cls, data: Any, dataset: Any, ids: str | None, test: Any) -> _Source:
        frame = split = None
        if isinstance(data, Split):
            if test is not None:
                raise ValueError("data is a Split, which holds the test rows: pass no test=")
            split, data, test = data, data.train, data.test
        if isinstance(data, Dataset):
            if dataset is not None and dataset is not data:
                raise ValueError("dataset= is for frames; a Dataset ties the factors to itself")
            dataset, frame, ids = data, data.interactions, "row"
        elif isinstance(data, pd.DataFrame):
            sizes = (dataset.n_users, dataset.n_items) if dataset is not None else (None, None)
            check_interactions(data, "data", *sizes)
            frame, ids = data, "row"
        elif not _is_spark_frame(data):
            raise TypeError(
                "data must be a Dataset, an interactions DataFrame (user, item, weight) or a "
                f"Spark DataFrame; got {type(data).__name__}"
            )
        ids = check_ids(ids, dataset)
        if test is not None:
            sizes = (dataset.n_users, dataset.n_items) if dataset is not None else (None, None)
            check_interactions(test, "test", *sizes)
        return cls(data, frame, test, split, dataset, ids)

    def spark_frame(self, spark: Any) -> tuple[Any, tuple[str, str, str]]:
        """(the Spark DataFrame, its user, item and weight columns)."""
        if self.frame is not None:
            return _spark_frame(spark, self.frame), ("user", "item", "weight")
        return self.data, _spark_columns(self.data)


def _record(factors, source, implicit: bool, max_iter: int, fit_seconds, t1, cbs) -> None:
    """The run's one history row (train and test error at the end) and its last callbacks."""
    suffix = "_observed" if implicit else ""
    metrics = {}
    if source.frame is not None:
        metrics[f"train_error{suffix}"] = _error(factors, source.frame, implicit)
    if source.test is not None and len(source.test):
        metrics[f"test_error{suffix}"] = _error(factors, source.test, implicit)
    seconds = fit_seconds + time.perf_counter() - t1
    row = {"iteration": max_iter, **metrics, "seconds": seconds}
    factors.history = pd.DataFrame([row]).astype({"iteration": "int64"})
    cbs.on_record(factors, max_iter, metrics, seconds)
    cbs.on_train_end(factors, FINISHED, RunInfo(0, max_iter, "spark-als", None, max_iter, seconds))


def _fit(
    spark: Any, als: Any, sdf: Any, cbs: CallbackList, stop: threading.Event | None, info: RunInfo
) -> tuple[Any, float]:
    """(the fitted ALSModel, seconds): fit in a worker thread under a fresh job group while
    this thread reports the stages and watches for Stop and Ctrl-C (either cancels the group)."""
    sc = spark.sparkContext
    group = f"mfwidgets-als-{uuid.uuid4().hex}"
    out: dict[str, Any] = {}

    def work() -> None:
        sc.setJobGroup(group, "mfwidgets train_als", interruptOnCancel=True)
        try:
            out["model"] = als.fit(sdf)
        except BaseException as exc:  # handed to the caller's thread
            out["error"] = exc

    t0 = time.perf_counter()
    cbs.on_train_begin(None, info)
    worker = threading.Thread(target=work, name=group, daemon=True)
    worker.start()
    reason, shown, tracker = FINISHED, (0, 0), sc.statusTracker()

    def end(why: str, error: str = "") -> None:
        done = RunInfo(0, info.num_steps, info.optimizer, None, 0, time.perf_counter() - t0, error)
        cbs.on_train_end(None, why, done)

    try:
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            if stop is not None and stop.is_set():
                # again at every poll: a cancel reaches only running jobs, and ALS starts
                # new ones (a cancel between two jobs would be lost)
                reason = STOPPED
                sc.cancelJobGroup(group)
            done, total = _stages(tracker, group)
            if (done, total) != shown:
                shown = (done, total)
                cbs.on_progress(None, done, total, time.perf_counter() - t0)
    except KeyboardInterrupt:
        while worker.is_alive():  # (as for Stop: until no job of the group is left)
            sc.cancelJobGroup(group)
            worker.join(POLL_SECONDS)
        end(INTERRUPTED)
        raise
    if reason == STOPPED and "model" not in out:  # (a Stop after the last job changes nothing)
        end(STOPPED)
        raise SparkStopped(
            "the Spark ALS run was stopped before it finished; Spark keeps no partial factors, "
            "so no model was made"
        )
    if "error" in out:
        end(FINISHED, f"{type(out['error']).__name__}: {out['error']}")
        raise out["error"]
    return out["model"], time.perf_counter() - t0
