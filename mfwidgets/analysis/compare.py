"""Comparing runs on one split: per-user metrics, paired tests, neighbour overlap.

Each run's expensive part (its top-50 lists for the test users and each test user's squared
error) is a :class:`RunProfile`, computed once per model version; any k ≤ 50 and any reference
run are then a cut and a few vector operations.

Significance: for every metric defined per user, a two-sided paired t-test over the test users
(the same users for every run) of the run against the reference, with Holm's step-down
correction over all the table's tested cells (family-wise error 5 %). The rating error is
tested on each user's mean squared error. Coverage (a catalogue figure) and training seconds
have no per-user value and are not tested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_k
from ..data.dataset import interaction_arrays
from .embeddings import item_norms, spearman
from .evaluation import (
    held_out_users,
    mse,
    ranking_columns,
    ranking_metrics,
    recommend_batch,
    user_csr,
    user_ranking_metrics,
)
from .scoring import ItemEmbeddings

K_MAX = 50  #: the longest list a comparison ranks (any smaller k is a cut of it)
ALPHA = 0.05
NOT_TESTED = ("coverage", "train_seconds")


@dataclass(frozen=True)
class RunProfile:
    """One run's top-``K_MAX`` lists for the test users, their squared errors, its seconds."""

    recs: np.ndarray  #: (test users, K_MAX) item ids, best first
    user_mse: pd.Series | None  #: each test user's mean squared error (None: no ratings)
    test_mse: float  #: over the test pairs (NaN: no ratings)
    seconds: float  #: training seconds (NaN when the model does not say)
    #: per-user metrics already cut at some k, by (k, train, test): a board asks again per run
    cuts: dict = field(default_factory=dict, repr=False, compare=False)

    def user_metrics(
        self, model: Any, train: pd.DataFrame, test: pd.DataFrame, k: int, popularity: np.ndarray
    ) -> pd.DataFrame:
        """Each test user's metrics at ``k`` (indexed by user; ``test_mse`` when it rates),
        computed once per k from the top-``K_MAX`` lists."""
        key = (k, id(train), id(test))
        if key not in self.cuts:
            frame, _ = user_ranking_metrics(
                model, train, test, k, popularity=popularity, recs=self.recs
            )
            frame = frame.set_index("user").drop(columns="raw_id")
            if self.user_mse is not None:
                frame["test_mse"] = self.user_mse.reindex(frame.index)
            self.cuts[key] = frame
        return self.cuts[key]


def training_seconds(model: Any) -> float:
    """The seconds a model's history records at its end, or those Spark reports, else NaN."""
    history = getattr(model, "history", None)
    if isinstance(history, pd.DataFrame) and "seconds" in history and len(history):
        return float(history["seconds"].iloc[-1])
    return float(getattr(model, "params", {}).get("fit_seconds", math.nan))


def profile(
    model: Any, train: pd.DataFrame, test: pd.DataFrame, chunk_size: int = 64
) -> RunProfile:
    """What the comparison needs of one model (the only step that scores every item)."""
    users, _ = held_out_users(test, model.n_users)
    recs = recommend_batch(model, users, user_csr(train, model.n_users), K_MAX, chunk_size)
    user_mse, test_mse = None, math.nan
    if model.predicts_ratings:
        u, i, w = interaction_arrays(test)
        squared = pd.Series((w - model.predict(u, i)) ** 2)
        user_mse, test_mse = squared.groupby(u).mean(), float(squared.mean())
    return RunProfile(recs, user_mse, test_mse, training_seconds(model))


def holm(p: Any) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stay NaN)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    flat, done = p.ravel(), np.isfinite(p.ravel())
    values = flat[done]
    order = np.argsort(values, kind="stable")
    m = len(values)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * values[order])
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out.ravel()[np.flatnonzero(done)] = result
    return out


def paired_p(a: Any, b: Any) -> float:
    """Two-sided paired t-test p-value of a − b (1.0 when they never differ)."""
    a, b = (np.asarray(x, dtype=np.float64).reshape(-1, 1) for x in (a, b))
    return float(paired_p_columns(a, b)[0])


def paired_p_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`paired_p` of each column of ``a`` against the same column of ``b`` (users ×
    metrics, rows aligned), rows with a NaN in that column left out: one vectorised pass."""
    from scipy import special

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    valid = np.isfinite(d)
    n = valid.sum(axis=0)
    d = np.where(valid, d, 0.0)
    mean = d.sum(axis=0) / np.maximum(n, 1)
    var = (np.where(valid, d - mean, 0.0) ** 2).sum(axis=0) / np.maximum(n - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / np.sqrt(var / np.maximum(n, 1))
    p = 2.0 * special.stdtr(np.maximum(n - 1, 1), -np.abs(t))
    same = (n < 2) | np.all(np.isclose(d, 0.0) | ~valid, axis=0)
    return np.where(same, 1.0, np.where(np.isnan(t), 1.0, p))


def metric_columns(k: int) -> list[str]:
    return ["test_mse", "test_rmse", *ranking_columns(k), "train_seconds"]


def compare(
    models: dict[str, Any],
    profiles: dict[str, RunProfile],
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    reference: str,
    k: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(metrics, raw p-values, Holm-adjusted p-values), one row per run; p-values are NaN for
    the reference and for cells not tested (see the module notes)."""
    k = check_k(k)
    if k > K_MAX:
        raise ValueError(f"k must be at most {K_MAX}, got {k}")
    if reference not in models:
        raise ValueError(
            f"reference must be one of the runs ({', '.join(models)}), got {reference!r}"
        )
    n_items = next(iter(models.values())).n_items
    popularity = np.bincount(interaction_arrays(train).items, minlength=n_items)
    per_user, rows = {}, {}
    for name, model in models.items():
        prof = profiles[name]
        frame = per_user[name] = prof.user_metrics(model, train, test, k, popularity)
        row = frame.mean().to_dict()
        # the table's MSE is over pairs, as everywhere; the tests use the per-user one
        row["test_mse"], row["test_rmse"] = prof.test_mse, math.sqrt(prof.test_mse)
        row["coverage"] = len(np.unique(prof.recs[:, :k])) / n_items
        row["train_seconds"] = prof.seconds
        rows[name] = row
    columns = metric_columns(k)
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
    raw = pd.DataFrame(np.nan, index=table.index, columns=columns)
    ref = per_user[reference]
    for name, frame in per_user.items():
        if name == reference:
            continue
        tested = [c for c in columns if c not in NOT_TESTED and c in frame and c in ref]
        tested = [c for c in tested if c != "test_rmse"]
        other = ref[tested].reindex(frame.index).to_numpy()  # (the same test users)
        raw.loc[name, tested] = paired_p_columns(frame[tested].to_numpy(), other)
        raw.loc[name, "test_rmse"] = raw.loc[name, "test_mse"]  # the same test
    adjusted = raw.copy()
    tested = [c for c in columns if c != "test_rmse"]
    adjusted[tested] = holm(raw[tested].to_numpy())
    adjusted["test_rmse"] = adjusted["test_mse"]
    for frame in (table, raw, adjusted):
        frame.index.name = "run"
    return table, raw, adjusted


def neighbor_overlap(
    embeddings: dict[str, ItemEmbeddings], item: int, k: int = 10, measure: str = "dot"
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Each run's k nearest items to ``item`` (the item itself left out), and the Jaccard
    overlap |A ∩ B| / |A ∪ B| of every pair of runs' neighbour sets."""
    ids = {
        name: emb.neighbors(item, measure, k, include_query=False)[0]
        for name, emb in embeddings.items()
    }
    names = list(ids)
    jaccard = pd.DataFrame(1.0, index=names, columns=names)
    for a in names:
        for b in names:
            if a != b:
                sa, sb = set(ids[a].tolist()), set(ids[b].tolist())
                jaccard.loc[a, b] = len(sa & sb) / max(len(sa | sb), 1)
    return ids, jaccard


def run_summary(model: Any, data: Any, item: int, k: int = 10) -> dict[str, Any]:
    """One run at a glance (what the what-if panel sets beside the starting run): test MSE
    (NaN without ratings), recall@k, the norm-vs-popularity rank correlation, and the names of
    the item's k dot and cosine neighbours (the item left out)."""
    train, test = model.split.train, model.split.test
    emb = ItemEmbeddings(model)
    names = np.asarray(data.item_names)
    return {
        "test_mse": mse(model, test) if model.predicts_ratings else math.nan,
        f"recall@{k}": ranking_metrics(model, train, test, k)[f"recall@{k}"],
        "spearman ρ (norm, popularity)": spearman(item_norms(model), data.item_popularity),
        "dot": list(names[emb.neighbors(item, "dot", k, include_query=False)[0]]),
        "cosine": list(names[emb.neighbors(item, "cosine", k, include_query=False)[0]]),
    }
