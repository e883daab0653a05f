"""The Jupyter widgets (the only modules that import ipywidgets or IPython)."""

from .embedding_map import EmbeddingMap
from .neighbors import NeighborExplorer
from .trainer import TrainerWidget

__all__ = ["EmbeddingMap", "NeighborExplorer", "TrainerWidget"]
