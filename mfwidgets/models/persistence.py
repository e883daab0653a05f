"""The saved-model file: an ``.npz`` of the parameters, the history and a JSON header, written
atomically. Files of every format version written so far load (version 1 named the item bias
ridge ``artist_bias_reg`` and the item count ``n_artists``; version 3 added the hybrid kinds,
whose file also holds the items × tags matrix and the tag names)."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import __version__
from ..data.dataset import Dataset, check_interactions
from ..data.split import Split, pairs_hash
from ..data.tags import ItemTags
from .config import ModelConfig
from .training import History

FILE_FORMAT = "mfwidgets.CFModel"
#: 3: the hybrid kinds (tag embeddings "T", "tb" and the items × tags matrix); 4: the split
#: as a protocol and its arguments (Split.method, Split.params)
FILE_VERSION = 4
#: version 1 names -> today's
_RENAMED = {"artist_bias_reg": "item_bias_reg"}


def write_atomic(path: Path, write: Any) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_model(model: Any, path: str | os.PathLike) -> Path:
    """Write a CFModel's embeddings, configuration, history and split identity to ``path``."""
    hist = model.history
    meta = {
        "format": FILE_FORMAT,
        "format_version": FILE_VERSION,
        "mfwidgets_version": __version__,
        "config": asdict(model.config),
        "n_users": model.n_users,
        "n_items": model.n_items,
        "global_mean": model.global_mean,
        "steps_done": model.iterations_done,
        "split": {
            "method": model.split.method,
            "params": model.split.params,
            "test_hash": model.split.test_hash,
        },
        "history_columns": list(hist.columns),
    }
    arrays = {k: v.numpy() for k, v in model.variables.items()}
    if model.item_tags is not None:  # the matrix the tag embeddings were learned on
        m = model.item_tags.matrix
        arrays |= {"tags_data": m.data, "tags_indices": m.indices, "tags_indptr": m.indptr}
        meta["tag_names"] = list(model.item_tags.names)
    arrays["history"] = hist.to_numpy(dtype=np.float64)
    arrays["test_index"] = np.asarray(model.split.test_index, dtype=np.int64)
    arrays["meta"] = np.frombuffer(json.dumps(meta, default=_plain).encode(), dtype=np.uint8)
    return write_atomic(Path(path), lambda fh: np.savez(fh, **arrays))


def _plain(value: Any) -> Any:
    """A split parameter as JSON can hold it (numpy scalars as numbers, times as text)."""
    return value.item() if isinstance(value, np.generic) else str(value)


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable mfwidgets model file ({exc})") from exc
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode())
        if meta.get("format") != FILE_FORMAT:
            raise KeyError("format")
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not an mfwidgets model file") from exc
    if meta["format_version"] > FILE_VERSION:
        raise ValueError(
            f"{path}: written by a newer mfwidgets (format {meta['format_version']}); upgrade"
        )
    meta["config"] = {_RENAMED.get(k, k): v for k, v in meta["config"].items()}
    meta.setdefault("n_items", meta.get("n_artists"))
    return meta, arrays


def _split(path: Path, listens: pd.DataFrame | None, meta: dict, test_index: np.ndarray, sizes):
    """The Split rebuilt from the frame the model was split from, checked against the file
    (train None without the frame). Files before format 4 stored the chapter's split only."""
    s = meta["split"]
    method, params = s.get("method"), s.get("params")
    if method is None:  # formats 1-3
        method = "random" if s.get("holdout_fraction") is not None else "given"
        params = {"holdout_fraction": s["holdout_fraction"], "seed": s["seed"]}
        params = params if method == "random" else {}
    if listens is None:
        return Split(None, None, method, params, test_hash=s["test_hash"])
    check_interactions(listens, "listens", *sizes)
    if not set(test_index.tolist()) <= set(listens.index):
        raise ValueError(f"{path}: listens do not contain this model's test rows")
    test = listens.loc[test_index.tolist()]
    if pairs_hash(test) != s["test_hash"]:
        raise ValueError(f"{path}: listens differ from the ones this model was split from")
    train = listens[~listens.index.isin(test.index)]
    return Split(train, test if len(test) else None, method, params)


def variable_names(config: ModelConfig) -> tuple[str, ...]:
    """The arrays a model of ``config``'s kind holds: its family's (and the tag tower's)."""
    from .tagtower import tower_variables

    family = config.spec.family_class()
    return tower_variables(family) if config.tagged else family.variables


def load_model(cls: type, path: str | os.PathLike, listens: pd.DataFrame | Dataset | None) -> Any:
    """Read a file written by :func:`save_model` into a ``cls`` (a CFModel) through its one
    constructor, starting from the stored parameters."""
    from .cfmodel import ModelState

    path = Path(path)
    meta, arrays = _read(path)
    config = ModelConfig(**meta["config"])
    n_users, n_items = int(meta["n_users"]), int(meta["n_items"])
    dataset = listens if isinstance(listens, Dataset) else None
    frame = dataset.interactions if dataset is not None else listens
    split = _split(path, frame, meta, arrays.pop("test_index"), (n_users, n_items))
    values = arrays.pop("history")
    history = History.from_frame(pd.DataFrame(values, columns=meta["history_columns"]))
    tags = None
    if config.tagged and {"tags_data", "tags_indices", "tags_indptr"} <= set(arrays):
        parts = (arrays.pop("tags_data"), arrays.pop("tags_indices"), arrays.pop("tags_indptr"))
        matrix = sp.csr_matrix(parts, shape=(n_items, len(meta.get("tag_names", ()))))
        tags = ItemTags(matrix, tuple(meta["tag_names"]), config.tag_pooling)
    expected = set(variable_names(config))
    if set(arrays) != expected or (config.tagged and tags is None):
        raise ValueError(f"{path}: damaged model file (arrays {sorted(arrays)})")
    state = ModelState(arrays, history, int(meta["steps_done"]), float(meta["global_mean"]))
    return cls(
        split.train, split.test, config=config, n_users=n_users, n_items=n_items, split=split,
        dataset=dataset, state=state, item_tags=tags,
    )  # fmt: skip
