"""The analysis floor (numpy, pandas, scikit-learn): scoring, lookup, evaluation, recommendations,
projections and the data behind the embedding views."""

from .baselines import BiasBaseline, GlobalMean, Popularity
from .bias import PopularityBias, gini, long_tail, popularity_bias
from .crossval import CrossValidation, cross_validate
from .embeddings import item_norms, map_points, norm_popularity, spearman
from .evaluation import evaluate, mae, mse, ranking_metrics, rmse, user_ranking_metrics
from .explain import Explanation, explain
from .lookup import ArtistIndex, ItemIndex, normalize
from .projection import project
from .recommend import (
    fold_in,
    predict,
    recommend,
    recommend_for_artists,
    recommend_for_items,
)
from .scoring import (
    COSINE,
    DOT,
    ItemEmbeddings,
    artist_neighbors,
    compute_scores,
    item_neighbors,
    top_k,
)
from .tables import item_table, mark_shared, user_top_items
from .tuning import TuneResult, tune

__all__ = [
    "COSINE",
    "DOT",
    "ArtistIndex",
    "BiasBaseline",
    "CrossValidation",
    "Explanation",
    "GlobalMean",
    "ItemEmbeddings",
    "ItemIndex",
    "Popularity",
    "PopularityBias",
    "TuneResult",
    "artist_neighbors",
    "compute_scores",
    "cross_validate",
    "evaluate",
    "explain",
    "fold_in",
    "gini",
    "item_neighbors",
    "item_norms",
    "item_table",
    "long_tail",
    "mae",
    "map_points",
    "mark_shared",
    "mse",
    "norm_popularity",
    "normalize",
    "popularity_bias",
    "predict",
    "project",
    "ranking_metrics",
    "recommend",
    "recommend_for_artists",
    "recommend_for_items",
    "rmse",
    "spearman",
    "top_k",
    "tune",
    "user_ranking_metrics",
    "user_top_items",
]
