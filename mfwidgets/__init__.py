"""mfwidgets: train, inspect and evaluate matrix-factorization recommenders in Jupyter.

Importing the package is cheap and has no side effects: TensorFlow, altair and ipywidgets are
imported only when something that needs them is first used (PEP 562 lazy attributes). The
subpackages are attributes too (``mfwidgets.spark.read_spark_model``), imported on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    # data
    "load_lastfm": "data",
    "LastfmData": "data",
    "Dataset": "data",
    "load_dataset": "data",
    "datasets": "data",
    "DataError": "data",
    "split_dataframe": "data",
    "Split": "data",
    "random_split": "data",
    "leave_k_out": "data",
    "user_fraction_split": "data",
    "temporal_split": "data",
    "last_n_split": "data",
    "kfold": "data",
    "item_tags": "data",
    "ItemTags": "data",
    # models
    "CFModel": "models",
    "ModelConfig": "models",
    "TrainConfig": "models",
    "Factors": "models",
    "EASE": "models",
    "ItemKNN": "models",
    "Runs": "models",
    "FactorModel": "models",
    "TrainingDiverged": "models",
    "build_model": "models",
    "build_regularized_model": "models",
    "build_listens_sparse_tensor": "models",
    "Callback": "models",
    # analysis
    "DOT": "analysis",
    "COSINE": "analysis",
    "compute_scores": "analysis",
    "artist_neighbors": "analysis",
    "item_neighbors": "analysis",
    "tune": "analysis",
    "evaluate": "analysis",
    "recommend": "analysis",
    "recommend_for_artists": "analysis",
    "recommend_for_items": "analysis",
    "predict": "analysis",
    "cross_validate": "analysis",
    "popularity_bias": "analysis",
    "explain": "analysis",
    # widgets
    "TrainerWidget": "widgets",
    "NeighborExplorer": "widgets",
    "ComparisonBoard": "widgets",
    "WhatIfPanel": "widgets",
    "EmbeddingMap": "widgets",
}

#: the floors, reachable as ``mfwidgets.<name>`` without importing them first
SUBPACKAGES = ("analysis", "charts", "data", "models", "spark", "widgets")

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in SUBPACKAGES:
        return importlib.import_module(f"mfwidgets.{name}")  # (the import sets the attribute)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mfwidgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mfwidgets.{module}"), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, *SUBPACKAGES])
