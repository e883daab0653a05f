"""Evaluation (numpy/pandas only): rating errors and top-k ranking metrics, with baselines.

Everything here works on any model of the contract (``predict`` for ratings, ``score_users``
for rankings; CFModel, Factors and the baselines all provide both). Ranking metrics follow the
usual offline protocol: for each user with held-out interactions, every item the user did not
interact with in training is a candidate; the held-out items are the relevant ones.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_k
from ..data.dataset import interaction_arrays
from ..data.split import Split
from ..models.contract import FactorScoring, split_of
from ..models.factors import Factors
from .baselines import BiasBaseline, GlobalMean, Popularity
from .scoring import smallest_k


def mse(model: Any, interactions: pd.DataFrame) -> float:
    """Mean squared error of ``model.predict`` on an interactions frame."""
    if len(interactions) == 0:
        raise ValueError("interactions is empty: no error to compute")
    users, items, weights = interaction_arrays(interactions)
    return float(np.mean((weights - model.predict(users, items)) ** 2))


def rmse(model: Any, interactions: pd.DataFrame) -> float:
    return math.sqrt(mse(model, interactions))


def global_mean_mse(model: Any) -> float | None:
    """The test MSE of predicting the model's training mean: the reference line every rating
    model is drawn against (None for models that do not predict ratings, or without a test)."""
    split = split_of(model)
    if not model.predicts_ratings or split is None or split.test is None or split.test.empty:
        return None
    return mse(GlobalMean(split.train), split.test)


def mae(model: Any, interactions: pd.DataFrame) -> float:
    """Mean absolute error of ``model.predict`` on an interactions frame."""
    if len(interactions) == 0:
        raise ValueError("interactions is empty: no error to compute")
    users, items, weights = interaction_arrays(interactions)
    return float(np.mean(np.abs(weights - model.predict(users, items))))


def user_csr(df: pd.DataFrame, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, item ids) of each user's items, users 0..n_users-1."""
    users, items, _ = interaction_arrays(df)
    order = np.argsort(users, kind="stable")
    indptr = np.searchsorted(users[order], np.arange(n_users + 1))
    return indptr, items[order]


def held_out_users(test: pd.DataFrame, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    """(users with held-out interactions, in id order; how many each holds)."""
    t_indptr, _ = user_csr(test, n_users)
    counts = np.diff(t_indptr)
    users = np.flatnonzero(counts > 0)
    if not len(users):
        raise ValueError("test has no interactions: no ranking to evaluate")
    return users, counts[users]


def _chunks(ids: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def read_once(model: Any) -> Any:
    """A model that scores with the contract's own ``score_users`` as a frozen copy of its
    factors: a CFModel's live in TensorFlow variables, read once here instead of once per
    chunk. Any other model is returned as it is (its own scoring is used)."""
    if isinstance(model, Factors) or type(model).score_users is not FactorScoring.score_users:
        return model
    return Factors.of(model)


def recommend_batch(
    model: Any,
    user_ids: np.ndarray,
    exclude: tuple[np.ndarray, np.ndarray] | None,
    k: int,
    chunk_size: int = 256,
) -> np.ndarray:
    """(len(user_ids), k) top-k item ids per user, scoring ``chunk_size`` users at a time.

    ``exclude`` is an (indptr, ids) CSR of items to skip per user (their training items).
    Memory stays at chunk_size × n_items scores however many users there are.
    """
    out = np.empty((len(user_ids), min(k, model.n_items)), dtype=np.int64)
    model = read_once(model)
    row = 0
    for chunk in _chunks(np.asarray(user_ids), chunk_size):
        costs = np.negative(model.score_users(chunk), dtype=np.float64)  # (a new array)
        if exclude is not None:
            indptr, ids = exclude
            lengths = indptr[chunk + 1] - indptr[chunk]
            rows = np.repeat(np.arange(len(chunk)), lengths)
            cols = np.concatenate([ids[indptr[u] : indptr[u + 1]] for u in chunk])
            costs[rows, cols] = np.inf
        out[row : row + len(chunk)] = smallest_k(costs, k)
        row += len(chunk)
    return out


def ranking_metrics(
    model: Any,
    train: pd.DataFrame,
    test: pd.DataFrame,
    k: int = 10,
    *,
    chunk_size: int = 256,
    popularity: np.ndarray | None = None,
) -> dict[str, float]:
    """Top-k metrics averaged over users with held-out interactions.

    precision@k = hits / k; recall@k = hits / (number held out); ndcg@k with binary gains;
    hit_rate@k = share of users with at least one hit; coverage = share of the catalogue
    recommended to anyone; mean_popularity = mean number of training users of the recommended
    items;
    novelty = mean −log2(share of users who interacted) of the recommended items.
    """
    check_k(k)
    per_user, recs = user_ranking_metrics(
        model, train, test, k, chunk_size=chunk_size, popularity=popularity
    )
    out = per_user.drop(columns=["user", "raw_id"]).mean().to_dict()
    out["coverage"] = len(np.unique(recs)) / model.n_items
    return {c: float(out[c]) for c in ranking_columns(k)}


def user_ranking_metrics(
    model: Any,
    train: pd.DataFrame,
    test: pd.DataFrame,
    k: int = 10,
    *,
    chunk_size: int = 256,
    popularity: np.ndarray | None = None,
    recs: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Each test user's top-k metrics (a row per user with held-out interactions: ``user``, its
    index; ``raw_id``, the data's own id when the model knows its dataset, else the index;
    precision, recall, ndcg, hit_rate, mean_popularity, novelty, as in :func:`ranking_metrics`)
    and the (users, k) recommendations. ``recs``: those users' ranked lists already computed
    (at least k long), for example once at a large k and cut for each smaller one."""
    n_users, n_items = model.n_users, model.n_items
    users, n_relevant = held_out_users(test, n_users)
    if recs is None:
        recs = recommend_batch(model, users, user_csr(train, n_users), k, chunk_size)
    recs = recs[:, :k]
    train_users, train_items, _ = interaction_arrays(train)
    if popularity is None:
        popularity = np.bincount(train_items, minlength=n_items)
    # hit[r, j]: the j-th recommendation of user r is one of their held-out items
    test_users, test_items, _ = interaction_arrays(test)
    held = np.unique(test_users * n_items + test_items)
    keys = users[:, None] * n_items + recs
    hit = np.isin(keys, held)
    discounts = 1.0 / np.log2(np.arange(2, recs.shape[1] + 2))
    ideal = np.cumsum(discounts)[np.minimum(n_relevant, recs.shape[1]) - 1]
    share = np.maximum(popularity[recs], 1) / max(len(np.unique(train_users)), 1)
    dataset = getattr(model, "dataset", None)
    frame = pd.DataFrame(
        {
            "user": users,
            "raw_id": users if dataset is None else np.asarray(dataset.user_raw_ids)[users],
            f"precision@{k}": hit.sum(1) / k,
            f"recall@{k}": hit.sum(1) / n_relevant,
            f"ndcg@{k}": (hit * discounts).sum(1) / ideal,
            f"hit_rate@{k}": (hit.sum(1) > 0).astype(float),
            "mean_popularity": popularity[recs].mean(1),
            "novelty": (-np.log2(share)).mean(1),
        }
    )
    return frame, recs


def ranking_columns(k: int) -> list[str]:
    """The names :func:`ranking_metrics` returns, in order."""
    return [
        f"precision@{k}", f"recall@{k}", f"ndcg@{k}", f"hit_rate@{k}",
        "coverage", "mean_popularity", "novelty",
    ]  # fmt: skip


def split_frames(split: Split | pd.DataFrame, test: pd.DataFrame | None) -> tuple[Any, Any]:
    """(train, test) of a :class:`Split`, or the two frames given."""
    if isinstance(split, Split):
        if test is not None:
            raise TypeError("split is a Split, which holds the test rows: pass no test=")
        train, test = split.train, split.test
    else:
        train = split
    if not isinstance(train, pd.DataFrame) or not isinstance(test, pd.DataFrame):
        raise TypeError("pass a Split, or the train and test interaction frames")
    return train, test


def named_models(models: Any) -> dict[str, Any]:
    """``models`` as a dict name -> model: a dict as given, or one model or a list of them,
    each named by its kind's run name (else its class), numbered when names repeat."""
    if isinstance(models, dict):
        return models
    listed = list(models) if isinstance(models, list | tuple) else [models]
    if not listed or not all(hasattr(m, "score_users") for m in listed):
        raise TypeError(
            f"models must be a model, a list of models or a dict name -> model, got "
            f"{type(models).__name__}"
        )
    named: dict[str, Any] = {}
    for model in listed:
        spec = getattr(getattr(model, "config", None), "spec", None)
        base = spec.run_name if spec is not None else type(model).__name__
        name, n = base, 1
        while name in named:
            n += 1
            name = f"{base} {n}"
        named[name] = model
    return named


def models_split(models: dict[str, Any]) -> Split:
    """The Split every model in ``models`` was trained on (what ``evaluate`` uses when given
    none: splits drawn alike count as one); an error when they have none or different ones."""
    found = [getattr(m, "split", None) for m in models.values()]
    usable = all(isinstance(s, Split) and s.train is not None for s in found)
    if not usable or len({(s.test_hash, len(s.train)) for s in found}) != 1:
        raise ValueError(
            "split is needed: the models do not share one Split (pass split=, e.g. the one "
            "they were trained on)"
        )
    return found[0]


def evaluate(
    models: Any,
    data: Any,
    split: Split | pd.DataFrame | None = None,
    test: pd.DataFrame | None = None,
    k: int = 10,
    *,
    baselines: bool = True,
    chunk_size: int = 256,
) -> pd.DataFrame:
    """One row per model (baselines first), one column per metric: test MSE/RMSE and top-k.

    ``split`` is a :class:`~mfwidgets.data.Split` (or the train frame, with ``test``); none:
    the one every model was trained on. ``models`` maps a name to a model (CFModel, Factors,
    or anything with ``predict`` and ``score_users``), or is one model or a list of them
    (named by kind). Rating errors are NaN for models whose scores are not ratings
    (``predicts_ratings`` False). Baselines are fitted on the train rows only. Deterministic.
    """
    models = named_models(models)
    if split is None and test is None:
        split = models_split(models)
    train, test = split_frames(split, test)
    sizes = {"n_users": data.n_users, "n_items": data.n_items}
    candidates: dict[str, Any] = {}
    if baselines:  # named in the dataset's words: "user+artist bias", "user+movie bias"
        candidates["global mean"] = GlobalMean(train, **sizes)
        candidates[f"user+{data.item_noun} bias"] = BiasBaseline(train, **sizes)
        candidates["popularity"] = Popularity(train, **sizes)
    candidates.update(models)
    popularity = np.bincount(interaction_arrays(train).items, minlength=data.n_items)
    rows: dict[str, dict[str, float]] = {}
    for name, model in candidates.items():
        t0 = time.perf_counter()
        rates = getattr(model, "predicts_ratings", True)
        row = {
            "test_mse": mse(model, test) if rates else np.nan,
            "test_rmse": rmse(model, test) if rates else np.nan,
        }
        if isinstance(model, GlobalMean):  # every score ties: ranking would measure tie order
            row |= {m: np.nan for m in ranking_columns(k)}
        else:
            row |= ranking_metrics(
                model, train, test, k, chunk_size=chunk_size, popularity=popularity
            )
        row["eval_seconds"] = time.perf_counter() - t0
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


# ------------------------------------------------------------------------------------------------
# one metric by name: what tune ranks by and cross_validate reports
# ------------------------------------------------------------------------------------------------
RATING_METRICS = ("rmse", "mae", "mse")
_RANKING = re.compile(r"^(precision|recall|ndcg|hit_rate)@([1-9]\d*)$")


def check_metric(metric: Any, predicts_ratings: bool | None = None) -> str:
    """A metric name: ``rmse``/``mae``/``mse`` (rating models only) or ``recall@k``,
    ``ndcg@k``, ``precision@k``, ``hit_rate@k``; a ranking model measured by a rating error
    is refused (its scores are not ratings)."""
    if not isinstance(metric, str) or not (metric in RATING_METRICS or _RANKING.match(metric)):
        raise ValueError(
            f"metric must be 'rmse', 'mae', 'mse' (rating kinds) or 'recall@k', 'ndcg@k', "
            f"'precision@k', 'hit_rate@k' (any kind); got {metric!r}"
        )
    if metric in RATING_METRICS and predicts_ratings is False:
        raise ValueError(
            f"metric={metric!r} measures predicted ratings, and this kind's scores only rank: "
            "use 'recall@10' or 'ndcg@10'"
        )
    return metric


def higher_is_better(metric: str) -> bool:
    return metric not in RATING_METRICS


def metric_value(model: Any, train: pd.DataFrame, test: pd.DataFrame, metric: str) -> float:
    """``metric`` (see :func:`check_metric`) of ``model`` on ``test``, training rows excluded
    from the rankings."""
    if metric in RATING_METRICS:
        return {"rmse": rmse, "mae": mae, "mse": mse}[metric](model, test)
    k = int(_RANKING.match(metric).group(2))
    per_user, _ = user_ranking_metrics(model, train, test, k)
    return float(per_user[metric].mean())
