"""Evaluation (numpy/pandas only): rating errors, baselines, top-k ranking metrics, recommendations.

Everything here works on any object with the small model protocol used across mfwidgets:
``predict(user_ids, artist_ids)`` for ratings and ``score_users(user_ids)`` for rankings (CFModel
and the baselines below all provide both). Ranking metrics follow the usual offline protocol: for
each user with held-out listens, every artist the user did not listen to in training is a
candidate; the held-out artists are the relevant ones.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .checks import check_k
from .scoring import check_measure, compute_scores, top_k, top_tags

__all__ = [
    "BiasBaseline",
    "GlobalMean",
    "Popularity",
    "evaluate",
    "fold_in_user",
    "mse",
    "ranking_metrics",
    "recommend",
    "recommend_for_artists",
    "rmse",
]


class Scorer(Protocol):
    n_users: int
    n_artists: int

    def predict(self, user_ids: Any, artist_ids: Any) -> np.ndarray: ...

    def score_users(self, user_ids: Any) -> np.ndarray: ...


# ------------------------------------------------------------------------------------------------
# rating error
# ------------------------------------------------------------------------------------------------
def mse(model: Scorer, listens: pd.DataFrame) -> float:
    """Mean squared error of ``model.predict`` on a listens frame."""
    if len(listens) == 0:
        raise ValueError("listens is empty: no error to compute")
    pred = model.predict(listens["userID"].to_numpy(), listens["artistID"].to_numpy())
    return float(np.mean((listens["listenCount"].to_numpy() - pred) ** 2))


def rmse(model: Scorer, listens: pd.DataFrame) -> float:
    return math.sqrt(mse(model, listens))


# ------------------------------------------------------------------------------------------------
# baselines, fitted on the train split only
# ------------------------------------------------------------------------------------------------
class _Baseline:
    """Shared sizes and checks of the closed-form baselines."""

    name = "baseline"

    def __init__(
        self, train: pd.DataFrame, n_users: int | None = None, n_artists: int | None = None
    ) -> None:
        if len(train) == 0:
            raise ValueError("train is empty")
        self.n_users = int(n_users or train["userID"].max() + 1)
        self.n_artists = int(n_artists or train["artistID"].max() + 1)
        self.global_mean = float(train["listenCount"].mean())

    def predict(self, user_ids: Any, artist_ids: Any) -> np.ndarray:
        """The training mean for every pair (subclasses that model more override this)."""
        return np.full(np.shape(user_ids), self.global_mean)

    def score_users(self, user_ids: Any) -> np.ndarray:
        """(len(user_ids), n_artists) ranking scores."""
        users = np.atleast_1d(np.asarray(user_ids))
        return np.broadcast_to(self._item_scores(), (len(users), self.n_artists)).copy()

    def _item_scores(self) -> np.ndarray:
        raise NotImplementedError


class GlobalMean(_Baseline):
    """Predicts the training mean for every pair; ranks nothing (all scores equal)."""

    name = "global mean"

    def _item_scores(self) -> np.ndarray:
        return np.zeros(self.n_artists)


class BiasBaseline(_Baseline):
    """μ + b_user + b_artist, regularized least squares by alternating closed-form sweeps.

    b_artist = Σ(a − μ − b_user) / (reg_artist + n_artist) and the same for users; unseen users
    and artists get bias 0 (the global mean). The default ridges (1 listen for users, 12 for
    artists) were picked on a validation split carved from the Last.fm training split.
    """

    name = "user+artist bias"

    def __init__(
        self,
        train: pd.DataFrame,
        *,
        n_users: int | None = None,
        n_artists: int | None = None,
        reg_user: float = 1.0,
        reg_artist: float = 12.0,
        sweeps: int = 10,
    ) -> None:
        super().__init__(train, n_users, n_artists)
        u, a = train["userID"].to_numpy(), train["artistID"].to_numpy()
        y = train["listenCount"].to_numpy(np.float64) - self.global_mean
        n_u = np.bincount(u, minlength=self.n_users)
        n_a = np.bincount(a, minlength=self.n_artists)
        bu, ba = np.zeros(self.n_users), np.zeros(self.n_artists)
        for _ in range(sweeps):
            ba = np.bincount(a, y - bu[u], self.n_artists) / (reg_artist + n_a)
            bu = np.bincount(u, y - ba[a], self.n_users) / (reg_user + n_u)
        self.user_bias, self.artist_bias = bu, ba

    def predict(self, user_ids: Any, artist_ids: Any) -> np.ndarray:
        u, a = np.asarray(user_ids), np.asarray(artist_ids)
        return self.global_mean + self.user_bias[u] + self.artist_bias[a]

    def _item_scores(self) -> np.ndarray:
        return self.artist_bias


class Popularity(_Baseline):
    """Ranks artists by how many training users listened to them (ratings: the global mean)."""

    name = "popularity"

    def __init__(self, train: pd.DataFrame, *, n_users=None, n_artists=None) -> None:
        super().__init__(train, n_users, n_artists)
        self.counts = np.bincount(train["artistID"].to_numpy(), minlength=self.n_artists)

    def _item_scores(self) -> np.ndarray:
        return self.counts.astype(np.float64)


# ------------------------------------------------------------------------------------------------
# ranking
# ------------------------------------------------------------------------------------------------
def _csr(df: pd.DataFrame, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, artist ids) of each user's artists, users 0..n_users-1."""
    order = np.argsort(df["userID"].to_numpy(), kind="stable")
    users = df["userID"].to_numpy()[order]
    indptr = np.searchsorted(users, np.arange(n_users + 1))
    return indptr, df["artistID"].to_numpy()[order]


def _chunks(ids: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def top_k_batch(scores: np.ndarray, k: int) -> np.ndarray:
    """Row-wise indices of the k largest scores, best first (ties: lower index first)."""
    n = scores.shape[1]
    k = min(k, n)
    part = (
        np.argpartition(-scores, k - 1, axis=1)[:, :k]
        if k < n
        else np.tile(np.arange(n), (len(scores), 1))
    )
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    return np.take_along_axis(part, order, axis=1)


def recommend_batch(
    model: Scorer,
    user_ids: np.ndarray,
    exclude: tuple[np.ndarray, np.ndarray] | None,
    k: int,
    chunk_size: int = 256,
) -> np.ndarray:
    """(len(user_ids), k) top-k artist ids per user, scoring ``chunk_size`` users at a time.

    ``exclude`` is an (indptr, ids) CSR of artists to skip per user (their training artists).
    Memory stays at chunk_size × n_artists scores however many users there are.
    """
    out = np.empty((len(user_ids), min(k, model.n_artists)), dtype=np.int64)
    row = 0
    for chunk in _chunks(np.asarray(user_ids), chunk_size):
        scores = np.array(model.score_users(chunk), dtype=np.float64)
        if exclude is not None:
            indptr, ids = exclude
            lengths = indptr[chunk + 1] - indptr[chunk]
            rows = np.repeat(np.arange(len(chunk)), lengths)
            cols = np.concatenate([ids[indptr[u] : indptr[u + 1]] for u in chunk])
            scores[rows, cols] = -np.inf
        out[row : row + len(chunk)] = top_k_batch(scores, k)
        row += len(chunk)
    return out


def ranking_metrics(
    model: Scorer,
    train: pd.DataFrame,
    test: pd.DataFrame,
    k: int = 10,
    *,
    chunk_size: int = 256,
    popularity: np.ndarray | None = None,
) -> dict[str, float]:
    """Top-k metrics averaged over users with held-out listens.

    precision@k = hits / k; recall@k = hits / |held-out|; ndcg@k with binary gains; hit_rate@k =
    share of users with at least one hit; coverage = share of the catalogue recommended to
    anyone; mean_popularity = mean number of training listeners of the recommended artists;
    novelty = mean −log2(share of users who listened) of the recommended artists.
    """
    check_k(k)
    n_users, n_artists = model.n_users, model.n_artists
    t_indptr, t_ids = _csr(test, n_users)
    users = np.flatnonzero(np.diff(t_indptr) > 0)
    if not len(users):
        raise ValueError("test has no listens: no ranking to evaluate")
    recs = recommend_batch(model, users, _csr(train, n_users), k, chunk_size)
    if popularity is None:
        popularity = np.bincount(train["artistID"].to_numpy(), minlength=n_artists)
    discounts = 1.0 / np.log2(np.arange(2, recs.shape[1] + 2))
    hits = np.zeros(len(users))
    precision = recall = ndcg = 0.0
    for row, u in enumerate(users):
        relevant = t_ids[t_indptr[u] : t_indptr[u + 1]]
        hit = np.isin(recs[row], relevant)
        n_hit = hit.sum()
        hits[row] = n_hit
        precision += n_hit / k
        recall += n_hit / len(relevant)
        ideal = discounts[: min(len(relevant), recs.shape[1])].sum()
        ndcg += (discounts * hit).sum() / ideal
    n_train_users = max(int(train["userID"].nunique()), 1)
    share = np.maximum(popularity[recs], 1) / n_train_users
    return {
        f"precision@{k}": precision / len(users),
        f"recall@{k}": recall / len(users),
        f"ndcg@{k}": ndcg / len(users),
        f"hit_rate@{k}": float(np.mean(hits > 0)),
        "coverage": len(np.unique(recs)) / n_artists,
        "mean_popularity": float(popularity[recs].mean()),
        "novelty": float(np.mean(-np.log2(share))),
    }


def evaluate(
    models: dict[str, Any],
    data: Any,
    train: pd.DataFrame,
    test: pd.DataFrame,
    k: int = 10,
    *,
    baselines: bool = True,
    chunk_size: int = 256,
) -> pd.DataFrame:
    """One row per model (baselines first), one column per metric: test MSE/RMSE and top-k.

    ``models`` maps a name to anything with ``predict`` and ``score_users`` (CFModel included).
    Baselines are fitted on ``train`` only. Deterministic: no random step is involved.
    """
    if not isinstance(models, dict):
        raise TypeError(f"models must be a dict name -> model, got {type(models).__name__}")
    n_users, n_artists = data.n_users, data.n_artists
    rows: dict[str, dict[str, float]] = {}
    candidates: dict[str, Any] = {}
    if baselines:
        candidates["global mean"] = GlobalMean(train, n_users=n_users, n_artists=n_artists)
        candidates["user+artist bias"] = BiasBaseline(train, n_users=n_users, n_artists=n_artists)
        candidates["popularity"] = Popularity(train, n_users=n_users, n_artists=n_artists)
    candidates.update(models)
    popularity = np.bincount(train["artistID"].to_numpy(), minlength=n_artists)
    for name, model in candidates.items():
        t0 = time.perf_counter()
        row = {"test_mse": mse(model, test), "test_rmse": rmse(model, test)}
        if isinstance(model, GlobalMean):  # every score ties: ranking would measure tie order
            row |= {m: np.nan for m in _ranking_columns(k)}
        else:
            row |= ranking_metrics(
                model, train, test, k, chunk_size=chunk_size, popularity=popularity
            )
        row["eval_seconds"] = time.perf_counter() - t0
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def _ranking_columns(k: int) -> list[str]:
    return [
        f"precision@{k}",
        f"recall@{k}",
        f"ndcg@{k}",
        f"hit_rate@{k}",
        "coverage",
        "mean_popularity",
        "novelty",
    ]


# ------------------------------------------------------------------------------------------------
# recommendations
# ------------------------------------------------------------------------------------------------
def _artist_frame(data: Any, ids: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    info = data.artist_info
    return pd.DataFrame(
        {
            "artistID": ids,
            "name": info["name"].to_numpy()[ids],
            "score": scores,
            "listen_count": info["listen_count"].to_numpy()[ids],
            "tag_1": info["tag_1"].to_numpy()[ids],
            "tags": top_tags(info, ids),
        },
        index=pd.RangeIndex(1, len(ids) + 1, name="rank"),
    )


def listened_artists(data: Any, user_id: int) -> np.ndarray:
    """Artist ids the user listens to (all of the user's listens in ``data``)."""
    listens = data.listens
    return listens.loc[listens["userID"].to_numpy() == user_id, "artistID"].to_numpy()


def recommend(
    model: Any,
    data: Any,
    user_id: int,
    k: int = 10,
    measure: str = "dot",
    exclude_listened: bool = True,
) -> pd.DataFrame:
    """The user's top-k artists with score, listen_count and tags.

    ``measure="dot"`` ranks by the model's own scores (biases included when it has them);
    ``"cosine"`` by the cosine of user and artist embeddings. Artists the user already listens
    to (anywhere in ``data.listens``) are never returned unless ``exclude_listened=False``.
    """
    check_measure(measure)
    if isinstance(user_id, bool) or not isinstance(user_id, (int, np.integer)):
        raise TypeError(f"user_id must be an integer, got {user_id!r}")
    if not 0 <= user_id < data.n_users:
        raise ValueError(f"user_id must lie in [0, {data.n_users}), got {user_id}")
    check_k(k)
    if measure == "dot":
        scores = np.asarray(model.score_users([user_id]), dtype=np.float64)[0]
    else:
        emb = model.embeddings
        scores = compute_scores(emb["userID"][user_id], emb["artistID"], "cosine")
    exclude = listened_artists(data, user_id) if exclude_listened else None
    best = top_k(scores, k, exclude)
    return _artist_frame(data, best, scores[best])


def fold_in_user(
    artist_embeddings: np.ndarray,
    liked: np.ndarray,
    targets: np.ndarray | float = 1.0,
    reg: float = 0.1,
    artist_bias: np.ndarray | None = None,
) -> np.ndarray:
    """A (d,) user vector fitted to liked artists, the artist embeddings fixed: the ridge
    regression argmin ‖Vx − t‖² + reg‖x‖².

    Closed form x = (VᵀV + reg·I)⁻¹ Vᵀ t over the liked rows only; with artist biases the
    targets are taken net of them.
    """
    V = np.asarray(artist_embeddings, dtype=np.float64)[liked]
    t = np.broadcast_to(np.asarray(targets, dtype=np.float64), (len(liked),)).copy()
    if artist_bias is not None:
        t = t - artist_bias[liked]
    d = V.shape[1]
    return np.linalg.solve(V.T @ V + reg * np.eye(d), V.T @ t)


def recommend_for_artists(
    model: Any,
    data: Any,
    liked_artists: Any,
    k: int = 10,
    *,
    reg: float = 0.1,
    target: float | None = None,
) -> pd.DataFrame:
    """ "Your taste" without retraining: fold a new user in from a few liked artists.

    ``liked_artists`` are names (case- and accent-insensitive, resolved as in artist_neighbors)
    or ids. A user vector is fitted in closed form (ridge regression, artist embeddings fixed)
    to score the liked artists at ``target`` (default: the largest listen score, or 1 for an
    implicit model's preferences); the result ranks all other artists by the model's scores.
    """
    from .lookup import ArtistIndex

    if isinstance(liked_artists, (str, int, np.integer)):
        liked_artists = [liked_artists]
    if not len(liked_artists):
        raise ValueError("liked_artists is empty: name at least one artist")
    index = ArtistIndex.from_data(data)
    liked = np.array(sorted({index.resolve(a)[0] for a in liked_artists}))
    emb = model.embeddings["artistID"]
    biases = getattr(model, "biases", None)
    item_bias = None if biases is None else biases["artistID"]
    offset = 0.0 if biases is None else biases["global"]
    if target is None:  # "listened a lot": the top score of the model's own scale
        implicit = getattr(getattr(model, "config", None), "kind", "") == "implicit"
        target = 1.0 if implicit else float(data.listens["listenCount"].max())
    user_vector = fold_in_user(emb, liked, target - offset, reg, item_bias)
    scores = np.asarray(emb, dtype=np.float64) @ user_vector
    if item_bias is not None:
        scores = scores + item_bias + offset
    best = top_k(scores, k, liked)
    out = _artist_frame(data, best, scores[best])
    out.attrs = {"liked": [str(data.artist_info["name"].iloc[i]) for i in liked]}
    return out
