"""Popularity bias, measured for every user: who gets recommended what, against popularity.

For each model and measure, every user's top-k (items they interacted with excluded) is computed
in chunks of users, never a dense users × items matrix beyond a chunk. Popularity is the number
of users who interacted with an item (``data.item_popularity``).

Definitions (after Abdollahpouri et al., "The unfairness of popularity bias", 2019):

- ``coverage``: share of the catalogue recommended to at least one user;
- ``gini``: Gini index of how often each item is recommended, over the whole catalogue
  (0: every item equally often; 1 − k/n: the same k items for everyone);
- ``long_tail_share``: share of recommendations that are long-tail items, the least popular
  items that together hold 20 % of the interactions (the head holds the other 80 %);
- ``mean_popularity`` of the recommendations against ``profile_popularity``, the mean
  popularity of the users' own items (each user weighted once); ``popularity_lift`` =
  mean_popularity / profile_popularity − 1 (0: recommendations as popular as the profiles).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_k
from ..data.dataset import interaction_arrays
from ..models.contract import check_model, has_factors
from ..models.factors import Factors
from .evaluation import recommend_batch, user_csr
from .scoring import COSINE, DOT, normalize_rows

MEASURES = ("dot", "cosine", "both")
LONG_TAIL_SHARE = 0.2
COLUMNS = [
    "coverage", "gini", "long_tail_share", "mean_popularity", "profile_popularity",
    "popularity_lift",
]  # fmt: skip


def gini(counts: Any) -> float:
    """Gini index of non-negative counts: Σ (2i − n − 1)·x₍ᵢ₎ / (n·Σx) over ascending x."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return 0.0
    return float(np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / (n * total))


def long_tail(popularity: Any, share: float = LONG_TAIL_SHARE) -> np.ndarray:
    """Boolean mask of the long-tail items: the least popular items that together hold
    ``share`` of all interactions (ties broken by id, for a deterministic cut)."""
    pop = np.asarray(popularity, dtype=np.float64)
    order = np.lexsort((np.arange(len(pop)), pop))  # ascending popularity
    held = np.cumsum(pop[order]) / max(pop.sum(), 1.0)
    tail = np.zeros(len(pop), dtype=bool)
    tail[order[held <= share]] = True
    return tail


def cosine_view(model: Any) -> Factors:
    """The model ranked by cosine: unit item vectors and no biases (a user's own norm does not
    change their ranking)."""
    return Factors(model.user_factors, normalize_rows(np.asarray(model.item_factors)),
                   predicts_ratings=False)  # fmt: skip


def user_top_lists(
    model: Any, data: Any, measure: str, k: int, chunk_size: int = 64, seen: Any = None
) -> np.ndarray:
    """(n_users, k) every user's top-k under ``measure``, their own items excluded (``seen``:
    those items as a :func:`~.evaluation.user_csr` of the data, when already built)."""
    view = model if measure == DOT else cosine_view(model)
    seen = user_csr(data.interactions, data.n_users) if seen is None else seen
    return recommend_batch(view, np.arange(data.n_users), seen, k, chunk_size)


@dataclass(frozen=True)
class PopularityBias:
    """``table``: one row per (model, measure), the figures of the module notes; ``curve``: how
    often each item is recommended against its popularity rank (1 = the most popular), columns
    model, measure, popularity_rank, item_id, n_users, recommended."""

    table: pd.DataFrame
    curve: pd.DataFrame

    def _repr_html_(self) -> str:
        return self.table._repr_html_()


def bias_table(recs: dict[str, dict[str, np.ndarray]], data: Any) -> PopularityBias:
    """The figures of :func:`popularity_bias` from every user's lists, ``recs[model][measure]``
    (users × k item ids)."""
    users, items, _ = interaction_arrays(data.interactions)
    popularity = np.asarray(data.item_popularity, dtype=np.float64)
    profile = float(pd.Series(popularity[items]).groupby(users).mean().mean())  # users once
    tail = long_tail(popularity)
    rank = np.empty(data.n_items, dtype=np.int64)
    rank[np.lexsort((np.arange(data.n_items), -popularity))] = np.arange(1, data.n_items + 1)
    rows, curves = {}, []
    for name, by_measure in recs.items():
        for m, lists in by_measure.items():
            counts = np.bincount(lists.ravel(), minlength=data.n_items)
            mean_pop = float(popularity[lists].mean())
            rows[(name, m)] = {
                "coverage": np.count_nonzero(counts) / data.n_items,
                "gini": gini(counts),
                "long_tail_share": float(tail[lists].mean()),
                "mean_popularity": mean_pop,
                "profile_popularity": profile,
                "popularity_lift": mean_pop / profile - 1.0,
            }
            curve = pd.DataFrame(
                {"model": name, "measure": m, "popularity_rank": rank,
                 "item_index": np.arange(data.n_items), "n_users": popularity.astype(np.int64),
                 "recommended": counts}
            )  # fmt: skip
            curves.append(curve.sort_values("popularity_rank"))
    out = pd.DataFrame.from_dict(rows, orient="index")[COLUMNS]
    out.index = pd.MultiIndex.from_tuples(out.index, names=["model", "measure"])
    return PopularityBias(out, pd.concat(curves, ignore_index=True))


def popularity_bias(
    models: dict[str, Any] | Any,
    data: Any,
    *,
    k: int = 10,
    measure: str = "both",
    chunk_size: int = 512,
) -> PopularityBias:
    """Popularity-bias figures per model and measure (see the module notes and
    :class:`PopularityBias`): ``result.table`` is indexed by (model, measure). A model without
    factors (EASE, ItemKNN) has one row, ``"dot"``: its own scores."""
    if not isinstance(models, dict):
        models = {"model": models}
    if measure not in MEASURES:
        raise ValueError(
            f"measure must be one of {', '.join(map(repr, MEASURES))}, got {measure!r}"
        )
    k = check_k(k)
    for name, model in models.items():
        check_model(model, name, factors=measure == COSINE, needs="measure='cosine'")
    measures = [DOT, COSINE] if measure == "both" else [measure]
    seen = user_csr(data.interactions, data.n_users)
    recs = {  # (a model without factors ranks by its own scores only: its "dot" row)
        name: {
            m: user_top_lists(model, data, m, k, chunk_size, seen)
            for m in (measures if has_factors(model) else [DOT])
        }
        for name, model in models.items()
    }
    return bias_table(recs, data)
