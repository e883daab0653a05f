"""Factors from Spark's ALS, mapped to a dataset's rows: from a fitted ``ALSModel``
(:func:`from_spark`) or from the folder ``ALSModel.save`` wrote (:func:`read_spark_model`, with
pyarrow alone: no Spark, no JVM).

Ids: Spark's ALS needs integer ids. ``ids="raw"`` means Spark's ids are the dataset's own raw
ids (Last.fm's ``userID``/``artistID``, MovieLens' ids: what a cluster table holds);
``ids="row"`` means they are the dataset's 0-based rows (what ``train_als`` sends for one of our
datasets). Ids the dataset does not know are reported (a warning and ``factors.id_report``),
never silently dropped; rows Spark has no factors for (never seen in training) get zero vectors.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .factors import Factors

IDS = ("raw", "row")


@contextlib.contextmanager
def quiet_pandas_check() -> Iterator[None]:
    """pyspark 4.x warns that pandas >= 3 is "not yet fully supported" when it starts and on
    conversions; data crosses here as Arrow, not through pandas, so the warning does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PySpark does not yet fully", FutureWarning)
        yield


@dataclass(frozen=True)
class IdReport:
    """How Spark's ids met the dataset: ids it does not know (left out), rows with no factors."""

    unknown_user_ids: np.ndarray
    unknown_item_ids: np.ndarray
    users_without_factors: int
    items_without_factors: int


class SparkFactors(Factors):
    """Factors from Spark's ALS: ``params`` (what Spark ran), ``id_report`` (how the ids mapped)
    and ``history`` (the metrics at the end of the run; Spark reports none per iteration)."""

    def __init__(
        self,
        user_factors: Any,
        item_factors: Any,
        *,
        dataset: Any,
        predicts_ratings: bool,
        id_report: IdReport,
        params: dict[str, Any],
    ) -> None:
        super().__init__(
            user_factors, item_factors, dataset=dataset, predicts_ratings=predicts_ratings
        )
        self.id_report = id_report
        self.params = dict(params)
        self.history = pd.DataFrame({"iteration": pd.Series(dtype="int64")})

    def __repr__(self) -> str:
        return f"Spark{super().__repr__()}"


def check_ids(ids: str | None, dataset: Any) -> str:
    if ids is None:
        return "raw" if dataset is not None else "row"
    if ids not in IDS:
        raise ValueError(f"ids must be one of {', '.join(map(repr, IDS))}, got {ids!r}")
    if ids == "raw" and dataset is None:
        raise ValueError("ids='raw' needs the dataset that holds the raw ids (dataset=...)")
    return ids


def _rows(ids: np.ndarray, raw: np.ndarray | None, n: int) -> np.ndarray:
    """The dataset row of each Spark id (-1 when the dataset does not know it)."""
    if raw is not None:
        return pd.Index(raw).get_indexer(ids)
    return np.where((ids >= 0) & (ids < n), ids, -1)


def _place(
    ids: np.ndarray, F: np.ndarray, raw: np.ndarray | None, n: int, what: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """(n, rank) factors in row order, the unknown ids, and how many rows got no factors."""
    rows = _rows(ids, raw, n)
    known = rows >= 0
    unknown = np.sort(ids[~known])
    if len(unknown):
        shown = ", ".join(map(str, unknown[:5])) + (", …" if len(unknown) > 5 else "")
        warnings.warn(
            f"{len(unknown)} {what} id(s) of the Spark model are not in the dataset ({shown}); "
            f"their factors were left out (see .id_report)",
            UserWarning,
            stacklevel=4,
        )
    out = np.zeros((n, F.shape[1]), np.float32)
    out[rows[known]] = F[known]
    return out, unknown, n - len(np.unique(rows[known]))


def _arrow_factors(table: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(ids, (n, rank) float32) from Spark's factors table: ``id: int``, ``features: list``."""
    if table.num_rows == 0:
        raise ValueError(f"the Spark model has no {what} factors")
    ids = table.column("id").to_numpy().astype(np.int64)
    features = table.column("features").combine_chunks()
    lengths = features.value_lengths().to_numpy(zero_copy_only=False)
    if lengths.min() != lengths.max():
        raise ValueError(f"the Spark model's {what} factors have rows of different lengths")
    flat = features.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    return ids, flat.reshape(len(ids), int(lengths[0]))


def _assemble(
    users: tuple[np.ndarray, np.ndarray],
    items: tuple[np.ndarray, np.ndarray],
    dataset: Any,
    ids: str | None,
    predicts_ratings: bool,
    params: dict[str, Any],
) -> SparkFactors:
    ids = check_ids(ids, dataset)
    raw = ids == "raw"
    placed = []
    for (spark_ids, F), what in ((users, "user"), (items, "item")):
        if dataset is not None:
            n = dataset.n_users if what == "user" else dataset.n_items
        else:
            if spark_ids.min() < 0:
                raise ValueError(f"{what} ids must be >= 0 to be used as rows (ids='row')")
            n = int(spark_ids.max()) + 1
        table = getattr(dataset, f"{what}_raw_ids") if raw else None
        placed.append(_place(spark_ids, F, table, n, what))
    (U, unknown_u, missing_u), (V, unknown_i, missing_i) = placed
    report = IdReport(unknown_u, unknown_i, missing_u, missing_i)
    return SparkFactors(
        U, V, dataset=dataset, predicts_ratings=predicts_ratings, id_report=report, params=params
    )


def _to_arrow(frame: Any) -> Any:
    """A Spark DataFrame as a pyarrow Table (``toArrow`` from Spark 4; pandas before)."""
    with quiet_pandas_check():
        if hasattr(frame, "toArrow"):
            return frame.toArrow()
        import pyarrow as pa

        return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)


def from_spark(
    als_model: Any, dataset: Any = None, *, ids: str | None = None, predicts_ratings: bool = True
) -> SparkFactors:
    """A fitted ``pyspark.ml.recommendation.ALSModel`` as :class:`SparkFactors`.

    ``ids``: ``"raw"`` (the default with a dataset) or ``"row"`` (the default without one); see
    the module notes. Spark does not store whether ALS ran with ``implicitPrefs``: pass
    ``predicts_ratings=False`` for implicit models, so no rating error is reported for them.
    """
    ids = check_ids(ids, dataset)
    users = _arrow_factors(_to_arrow(als_model.userFactors), "user")
    items = _arrow_factors(_to_arrow(als_model.itemFactors), "item")
    return _assemble(users, items, dataset, ids, predicts_ratings, {"rank": als_model.rank})


def read_spark_model(
    path: str | os.PathLike,
    dataset: Any = None,
    *,
    ids: str | None = None,
    predicts_ratings: bool = True,
) -> SparkFactors:
    """The folder written by ``ALSModel.save(path)``, read with pyarrow alone (no Spark, no JVM).

    ``path`` is a local folder or a URI pyarrow understands (``s3://…``, ``hdfs://…``, ``gs://…``).
    ``ids`` and ``predicts_ratings`` as in :func:`from_spark`.
    """
    ids = check_ids(ids, dataset)
    try:
        import pyarrow.fs as pafs
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError(
            "read_spark_model needs pyarrow: pip install 'mfwidgets[parquet]'"
        ) from exc
    text = os.fspath(path)
    fs, root = pafs.FileSystem.from_uri(text) if "://" in text else (pafs.LocalFileSystem(), text)
    root = root.rstrip("/")
    params: dict[str, Any] = {}
    if fs.get_file_info(f"{root}/metadata").type != pafs.FileType.Directory:
        raise FileNotFoundError(
            f"{text} is not a saved Spark ALSModel (no metadata folder); write one with "
            "ALSModel.save(path)"
        )
    for info in fs.get_file_info(pafs.FileSelector(f"{root}/metadata")):
        if info.base_name.startswith("part-"):
            with fs.open_input_stream(info.path) as fh:
                meta = json.loads(fh.read().decode().splitlines()[0])
            if not meta.get("class", "").endswith("ALSModel"):
                raise ValueError(f"{text} holds a {meta.get('class')}, not an ALSModel")
            params = {"rank": meta.get("rank"), "sparkVersion": meta.get("sparkVersion")}
            params |= meta.get("paramMap", {})
    tables = [pq.read_table(f"{root}/{side}Factors", filesystem=fs) for side in ("user", "item")]
    users, items = (_arrow_factors(t, w) for t, w in zip(tables, ("user", "item"), strict=True))
    return _assemble(users, items, dataset, ids, predicts_ratings, params)
