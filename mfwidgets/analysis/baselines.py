"""Closed-form baselines fitted on the train split only: global mean, user + item bias, popularity.

Each meets the model contract (``predict``, ``score_users``, ``version``, ``dataset``), so
evaluation, the registry and the widgets treat them as models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import interaction_arrays
from ..data.split import Split
from ..models.contract import check_ids


class Baseline:
    """What the baselines share: fitted on ``train`` (a frame, or a :class:`~mfwidgets.data.Split`
    whose train rows it takes), the model contract (``predict``, ``score_users``, ``version``,
    ``dataset``, ``split``), and the training mean. Sizes default to the dataset's, else the
    largest ids + 1. ``predict`` is ``score_users`` at the pairs."""

    predicts_ratings = True
    version = 0  # fitted once, at construction

    def __init__(
        self,
        train: pd.DataFrame | Split,
        n_users: int | None = None,
        n_items: int | None = None,
        *,
        dataset: Any = None,
    ) -> None:
        self.split = train if isinstance(train, Split) else Split(train)
        if self.split.train is None or len(self.split.train) == 0:
            raise ValueError("train is empty")
        self.pairs = interaction_arrays(self.split.train, "train")
        self.dataset = dataset
        n_users = n_users or (dataset.n_users if dataset is not None else None)
        n_items = n_items or (dataset.n_items if dataset is not None else None)
        self.n_users = int(n_users or self.pairs.users.max() + 1)
        self.n_items = int(n_items or self.pairs.items.max() + 1)
        self.global_mean = float(self.pairs.weights.mean())

    def predict(self, user_ids: Any, item_ids: Any) -> np.ndarray:
        """The scores of paired ids (the training mean for every pair, unless a subclass
        models more)."""
        u = check_ids(user_ids, self.n_users, "user_ids")
        i = check_ids(item_ids, self.n_items, "item_ids")
        if u.shape != i.shape:
            raise ValueError(f"user_ids and item_ids must have one shape; got {u.shape}, {i.shape}")
        return self.user_offsets(u) + self.item_scores()[i]

    def score_users(self, user_ids: Any) -> np.ndarray:
        """(len(user_ids), n_items) scores: the predictions for every item."""
        u = np.atleast_1d(check_ids(user_ids, self.n_users, "user_ids"))
        return self.user_offsets(u)[:, None] + self.item_scores()[None, :]

    def user_offsets(self, users: np.ndarray) -> np.ndarray:
        """What each user adds to every item's score (the training mean)."""
        return np.full(users.shape, self.global_mean)

    def item_scores(self) -> np.ndarray:
        """(n_items,) what each item adds."""
        return np.zeros(self.n_items)


class GlobalMean(Baseline):
    """Predicts the training mean for every pair; ranks nothing (all scores equal)."""


class BiasBaseline(Baseline):
    """μ + b_user + b_item, regularized least squares by alternating closed-form sweeps.

    b_item = Σ(a − μ − b_user) / (reg_item + n_item) and the same for users; unseen users and
    items get bias 0 (the global mean). The default ridges (1 interaction for users, 12 for
    items) were picked on a validation split carved from the Last.fm training split.
    """

    def __init__(
        self,
        train: pd.DataFrame,
        *,
        n_users: int | None = None,
        n_items: int | None = None,
        dataset: Any = None,
        reg_user: float = 1.0,
        reg_item: float = 12.0,
        sweeps: int = 10,
    ) -> None:
        super().__init__(train, n_users, n_items, dataset=dataset)
        u, a, w = self.pairs
        y = w - self.global_mean
        n_u = np.bincount(u, minlength=self.n_users)
        n_a = np.bincount(a, minlength=self.n_items)
        bu, ba = np.zeros(self.n_users), np.zeros(self.n_items)
        for _ in range(sweeps):
            ba = np.bincount(a, y - bu[u], self.n_items) / (reg_item + n_a)
            bu = np.bincount(u, y - ba[a], self.n_users) / (reg_user + n_u)
        self.user_bias, self.item_bias = bu, ba

    def user_offsets(self, users: np.ndarray) -> np.ndarray:
        return self.global_mean + self.user_bias[users]

    def item_scores(self) -> np.ndarray:
        return self.item_bias


class Popularity(Baseline):
    """Ranks items by how many training users interacted with them (its scores are those
    counts, not ratings)."""

    predicts_ratings = False

    def __init__(self, train: pd.DataFrame | Split, *, n_users=None, n_items=None,
                 dataset: Any = None) -> None:  # fmt: skip
        super().__init__(train, n_users, n_items, dataset=dataset)
        self.counts = np.bincount(self.pairs.items, minlength=self.n_items)

    def user_offsets(self, users: np.ndarray) -> np.ndarray:
        return np.zeros(users.shape)

    def item_scores(self) -> np.ndarray:
        return self.counts.astype(np.float64)
