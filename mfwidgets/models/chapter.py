"""The chapter's builders and helpers, with its names and signatures."""

from __future__ import annotations

import pandas as pd

from ..data.dataset import check_interactions
from .cfmodel import CFModel


def build_listens_sparse_tensor(
    listens_df: pd.DataFrame, n_users: int | None = None, n_artists: int | None = None
):
    """The listens as a ``tf.SparseTensor`` (users × artists); shape from the data unless given."""
    users, items, weights = check_interactions(listens_df, "listens_df", n_users, n_artists)
    from .backend import sparse_tensor

    shape = (n_users or int(users.max()) + 1, n_artists or int(items.max()) + 1)
    return sparse_tensor(users, items, weights, shape)


def build_model(
    listens: pd.DataFrame,
    embedding_dim: int = 3,
    init_stddev: float = 1.0,
    *,
    holdout_fraction: float = 0.1,
    seed: int | None = None,
) -> CFModel:
    """The chapter's plain model: split ``listens`` (seeded), observed-MSE loss only."""
    return CFModel.from_listens(
        listens,
        holdout_fraction=holdout_fraction,
        seed=seed,
        kind="plain",
        embedding_dim=embedding_dim,
        init_stddev=init_stddev,
    )


def build_regularized_model(
    listens: pd.DataFrame,
    embedding_dim: int = 3,
    regularization_coeff: float = 0.1,
    gravity_coeff: float = 1.0,
    init_stddev: float = 0.1,
    *,
    holdout_fraction: float = 0.1,
    seed: int | None = None,
) -> CFModel:
    """The chapter's regularized model: observed MSE + L2 regularization + gravity."""
    return CFModel.from_listens(
        listens,
        holdout_fraction=holdout_fraction,
        seed=seed,
        kind="regularized",
        embedding_dim=embedding_dim,
        init_stddev=init_stddev,
        regularization_coeff=regularization_coeff,
        gravity_coeff=gravity_coeff,
    )
