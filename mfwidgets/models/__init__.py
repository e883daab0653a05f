"""The models floor: the model contract, CFModel (TensorFlow, imported lazily), its training
engine and file format, factors from other libraries, the item–item references (EASE,
item-kNN), and the registry of runs.

Importing this package does not import TensorFlow: ``cfmodel`` loads the kernels when a model is
built.
"""

from .cfmodel import CFModel, ModelState, chapter_shape
from .chapter import build_listens_sparse_tensor, build_model, build_regularized_model
from .config import (
    KINDS,
    OPTIMIZERS,
    REFERENCE_KINDS,
    Config,
    ModelConfig,
    Param,
    SplitConfig,
    TrainConfig,
)
from .contract import FactorModel, Recommender, check_model, has_factors
from .exchange import (
    from_implicit,
    load_factors,
    read_projector,
    save_factors,
    to_implicit,
    to_projector,
)
from .factors import Factors
from .itemitem import EASE, ItemKNN, reference
from .kinds import Kind, kind_spec, register_kind, unregister_kind
from .registry import Runs
from .training import END_REASONS, Callback, History, RunInfo, TrainingDiverged

__all__ = [
    "EASE",
    "END_REASONS",
    "KINDS",
    "OPTIMIZERS",
    "REFERENCE_KINDS",
    "CFModel",
    "Callback",
    "Config",
    "FactorModel",
    "Factors",
    "History",
    "ItemKNN",
    "Kind",
    "ModelConfig",
    "ModelState",
    "Param",
    "Recommender",
    "RunInfo",
    "Runs",
    "SplitConfig",
    "TrainConfig",
    "TrainingDiverged",
    "build_listens_sparse_tensor",
    "build_model",
    "build_regularized_model",
    "chapter_shape",
    "check_model",
    "from_implicit",
    "has_factors",
    "kind_spec",
    "load_factors",
    "read_projector",
    "reference",
    "register_kind",
    "save_factors",
    "to_implicit",
    "to_projector",
    "unregister_kind",
]
