"""Factors that travel: to and from the formats people already use (no TensorFlow here).

- implicit: its ``AlternatingLeastSquares.save`` file (an ``.npz``), both ways. A model with
  biases is exported with two extra columns, ``[U, μ + b_u, 1]`` and ``[V, 1, b_i]``, so implicit's
  dot product gives exactly mfwidgets' scores (and the same top-k).
- TensorBoard's embedding projector: ``vectors.tsv``, ``metadata.tsv``, ``projector_config.pbtxt``.
- Plain arrays: an ``.npz`` of ids, names, factors and biases, or a parquet folder (pyarrow) for
  large catalogues.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .contract import check_model
from .factors import Factors
from .persistence import write_atomic

FORMAT = "mfwidgets.Factors"


def _dense(x: Any) -> np.ndarray:
    """implicit's GPU arrays have ``to_numpy``; CPU ones are numpy already."""
    return np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x, dtype=np.float32)


# ------------------------------------------------------------------------------------------------
# implicit
# ------------------------------------------------------------------------------------------------
def to_implicit(model: Any, path: str | os.PathLike) -> Path:
    """Write ``model``'s factors as implicit's ``AlternatingLeastSquares`` file (``.npz``)."""
    check_model(model, factors=True, needs="to_implicit")
    U, V = np.asarray(model.user_factors, np.float32), np.asarray(model.item_factors, np.float32)
    bu, bi = model.user_bias, model.item_bias
    if bu is not None or model.global_mean:
        mean = np.float32(model.global_mean)
        bu = np.zeros(len(U), np.float32) if bu is None else np.asarray(bu, np.float32)
        bi = np.zeros(len(V), np.float32) if bi is None else np.asarray(bi, np.float32)
        U = np.column_stack([U, mean + bu, np.ones(len(U), np.float32)])
        V = np.column_stack([V, np.ones(len(V), np.float32), bi])
    args = {"user_factors": U, "item_factors": V, "factors": U.shape[1], "dtype": "float32"}
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")  # implicit's load adds it to a bare name
    return write_atomic(path, lambda fh: np.savez(fh, **args))


def from_implicit(model_or_path: Any, dataset: Any = None) -> Factors:
    """An implicit model (fitted in memory, CPU or GPU) or its saved ``.npz`` as Factors.

    implicit fits preferences, not ratings: the result ranks but reports no rating error.
    """
    if isinstance(model_or_path, (str, os.PathLike)):
        with np.load(model_or_path, allow_pickle=False) as npz:
            U, V = npz["user_factors"], npz["item_factors"]
    else:
        U, V = _dense(model_or_path.user_factors), _dense(model_or_path.item_factors)
    return Factors(U, V, dataset=dataset, predicts_ratings=False)


# ------------------------------------------------------------------------------------------------
# TensorBoard's embedding projector
# ------------------------------------------------------------------------------------------------
def _tsv_cell(value: Any) -> str:
    """One metadata cell: the projector splits on tabs and lines, so those become spaces."""
    text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    return " ".join(text.replace("\t", " ").splitlines())


def to_projector(model: Any, data: Any, folder: str | os.PathLike, name: str = "items") -> Path:
    """The item factors as TensorBoard projector files in ``folder``: ``vectors.tsv``,
    ``metadata.tsv`` (name, tags, users per item) and ``projector_config.pbtxt``."""
    check_model(model, factors=True, needs="to_projector")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    V = np.asarray(model.item_factors, np.float64)
    vectors = "\n".join("\t".join(f"{x:.7g}" for x in row) for row in V) + "\n"
    columns = {"name": data.item_names, "tags": data.items["tags"], "n_users": data.item_popularity}
    lines = ["\t".join(columns)]
    lines += ["\t".join(_tsv_cell(v) for v in row) for row in zip(*columns.values(), strict=True)]
    config = (
        "embeddings {\n"
        f'  tensor_name: "{name}"\n'
        f"  tensor_shape: {V.shape[0]}\n  tensor_shape: {V.shape[1]}\n"
        '  tensor_path: "vectors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n'
        "}\n"
    )
    for file, text in (("vectors.tsv", vectors), ("metadata.tsv", "\n".join(lines) + "\n"),
                       ("projector_config.pbtxt", config)):  # fmt: skip
        write_atomic(folder / file, lambda fh, t=text: fh.write(t.encode("utf-8")))
    return folder


def read_projector(folder: str | os.PathLike) -> tuple[np.ndarray, pd.DataFrame]:
    """(vectors, metadata) of a projector folder, as the standalone projector reads them."""
    folder = Path(folder)
    vectors = np.loadtxt(folder / "vectors.tsv", delimiter="\t", ndmin=2)
    metadata = pd.read_csv(folder / "metadata.tsv", sep="\t", keep_default_na=False, quoting=3)
    if len(metadata) != len(vectors):
        raise ValueError(f"{folder}: {len(vectors)} vectors but {len(metadata)} metadata rows")
    return vectors, metadata


# ------------------------------------------------------------------------------------------------
# plain arrays: npz, parquet
# ------------------------------------------------------------------------------------------------
def _tables(model: Any, data: Any) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    U, V = np.asarray(model.user_factors, np.float32), np.asarray(model.item_factors, np.float32)
    users = pd.DataFrame({"id": np.arange(len(U))})
    items = pd.DataFrame({"id": np.arange(len(V))})
    if data is not None:
        users["raw_id"] = np.asarray(data.user_raw_ids).astype(str)
        items["raw_id"] = np.asarray(data.item_raw_ids).astype(str)
        items["name"] = np.asarray(data.item_names).astype(str)
    if model.user_bias is not None:
        users["bias"], items["bias"] = model.user_bias, model.item_bias
    users["factors"], items["factors"] = list(U), list(V)
    meta = {"format": FORMAT, "global_mean": float(model.global_mean),
            "predicts_ratings": bool(model.predicts_ratings)}  # fmt: skip
    return users, items, meta


def _plain(column: pd.Series) -> np.ndarray:
    """A column as an array ``np.load`` reads without pickle (text as fixed-width unicode)."""
    values = column.to_numpy()
    return values.astype(str) if values.dtype == object else values


def save_factors(
    model: Any, path: str | os.PathLike, data: Any = None, *, format: str = "npz"
) -> Path:
    """Write any model's factors (with ids and names when ``data`` is given) as an ``.npz``
    file or, with ``format="parquet"``, a folder of ``users.parquet`` and ``items.parquet``."""
    check_model(model, factors=True, needs="save_factors")
    if format not in ("npz", "parquet"):
        raise ValueError(f"format must be 'npz' or 'parquet', got {format!r}")
    users, items, meta = _tables(model, data)
    path = Path(path)
    if format == "parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise ImportError("format='parquet' needs pyarrow: pip install pyarrow") from exc
        path.mkdir(parents=True, exist_ok=True)
        for name, table in (("users", users), ("items", items)):
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            arrow = arrow.replace_schema_metadata({"mfwidgets": json.dumps(meta)})
            write_atomic(path / f"{name}.parquet", lambda fh, t=arrow: pq.write_table(t, fh))
        return path
    arrays = {
        f"{side}_{col}": np.stack(t[col]) if col == "factors" else _plain(t[col])
        for side, t in (("user", users), ("item", items))
        for col in t.columns
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    return write_atomic(path, lambda fh: np.savez(fh, **arrays))


def load_factors(path: str | os.PathLike, dataset: Any = None) -> Factors:
    """Read what :func:`save_factors` wrote (an ``.npz`` file or a parquet folder)."""
    path = Path(path)
    if path.is_dir():
        import pyarrow.parquet as pq

        tables = {n: pq.read_table(path / f"{n}.parquet") for n in ("users", "items")}
        meta = json.loads(tables["users"].schema.metadata[b"mfwidgets"])
        frames = {n: t.to_pandas() for n, t in tables.items()}
        U, V = (np.stack(frames[n]["factors"]) for n in ("users", "items"))
        bu, bi = (frames[n]["bias"].to_numpy() if "bias" in frames[n] else None
                  for n in ("users", "items"))  # fmt: skip
    else:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays["meta"].tobytes().decode())
        U, V = arrays["user_factors"], arrays["item_factors"]
        bu, bi = arrays.get("user_bias"), arrays.get("item_bias")
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not an mfwidgets factors file")
    return Factors(
        U, V, dataset=dataset, user_bias=bu, item_bias=bi, global_mean=meta["global_mean"],
        predicts_ratings=meta["predicts_ratings"],
    )  # fmt: skip
