"""The charts floor: altair chart builders. Charts are values; showing them is the widgets' job."""

from .compare import popularity_bins, popularity_curve_chart, runs_curves_chart
from .embeddings import embedding_map_chart, embedding_norm_chart
from .figure import Figure, as_figure, hconcat, to_html, to_png, vconcat
from .training import line_chart, metric_chart, metric_panels, training_charts

__all__ = [
    "Figure",
    "as_figure",
    "embedding_map_chart",
    "embedding_norm_chart",
    "hconcat",
    "line_chart",
    "metric_chart",
    "metric_panels",
    "popularity_bins",
    "popularity_curve_chart",
    "runs_curves_chart",
    "to_html",
    "to_png",
    "training_charts",
    "vconcat",
]
