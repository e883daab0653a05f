"""The widgets floor (the only modules that import ipywidgets or IPython)."""

from .board import ComparisonBoard
from .display import LiveChart, offline_chart, set_chart
from .embedding_map import EmbeddingMap
from .neighbors import NeighborExplorer
from .trainer import TrainerWidget
from .whatif import WhatIfPanel

__all__ = [
    "ComparisonBoard",
    "EmbeddingMap",
    "LiveChart",
    "NeighborExplorer",
    "TrainerWidget",
    "WhatIfPanel",
    "offline_chart",
    "set_chart",
]
