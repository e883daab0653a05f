"""The data floor: datasets, loaders, splits and side information (numpy, pandas, scipy)."""

from .catalog import datasets, load_dataset
from .cleaning import clean_weights
from .dataset import (
    CHAPTER_COLUMNS,
    NEUTRAL_COLUMNS,
    NO_TAGS,
    Dataset,
    Interactions,
    check_interactions,
    interaction_arrays,
    interaction_columns,
)
from .lastfm import (
    DATASET_NAME,
    ENV_DATA,
    GROUPLENS_URL,
    LastfmData,
    fetch_lastfm,
    load_lastfm,
)
from .lastfm360k import load_lastfm_360k
from .movielens import load_movielens_1m, load_movielens_100k
from .sources import Archive, DataError, default_cache_dir, fetch, safe_extract
from .split import (
    Split,
    check_holdout_fraction,
    kfold,
    last_n_split,
    leave_k_out,
    pairs_hash,
    random_split,
    split_dataframe,
    temporal_split,
    user_fraction_split,
)
from .tags import ItemTags, item_tags

__all__ = [
    "CHAPTER_COLUMNS",
    "DATASET_NAME",
    "ENV_DATA",
    "GROUPLENS_URL",
    "NEUTRAL_COLUMNS",
    "NO_TAGS",
    "Archive",
    "DataError",
    "Dataset",
    "Interactions",
    "ItemTags",
    "LastfmData",
    "Split",
    "check_holdout_fraction",
    "check_interactions",
    "clean_weights",
    "datasets",
    "default_cache_dir",
    "fetch",
    "fetch_lastfm",
    "interaction_arrays",
    "interaction_columns",
    "item_tags",
    "kfold",
    "last_n_split",
    "leave_k_out",
    "load_dataset",
    "load_lastfm",
    "load_lastfm_360k",
    "load_movielens_1m",
    "load_movielens_100k",
    "pairs_hash",
    "random_split",
    "safe_extract",
    "split_dataframe",
    "temporal_split",
    "user_fraction_split",
]
