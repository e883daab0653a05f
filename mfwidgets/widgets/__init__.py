"""The Jupyter widgets (the only modules that import ipywidgets or IPython)."""

from .neighbors import NeighborExplorer
from .trainer import TrainerWidget

__all__ = ["NeighborExplorer", "TrainerWidget"]
