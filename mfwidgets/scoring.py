"""Scores and neighbours from embeddings (numpy only): the chapter's compute_scores and
artist_neighbors, without printing and without reading notebook globals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .lookup import ArtistIndex

DOT = "dot"
COSINE = "cosine"
MEASURES = (DOT, COSINE)


def check_measure(measure: Any) -> str:
    if measure not in MEASURES:
        raise ValueError(f"measure must be 'dot' or 'cosine', got {measure!r}")
    return measure


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit norm; zero rows stay zero (so cosine scores are 0, never NaN)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def compute_scores(
    query_embedding: np.ndarray, item_embeddings: np.ndarray, measure: str = DOT
) -> np.ndarray:
    """Scores of every item for a query: ⟨u, V_j⟩, or the cosine of u and V_j.

    ``query_embedding`` has shape (d,) (or (q, d) for several queries); ``item_embeddings`` has
    shape (n_items, d). Returns (n_items,) (or (q, n_items)).
    """
    check_measure(measure)
    u = np.asarray(query_embedding, dtype=np.float64)
    V = np.asarray(item_embeddings, dtype=np.float64)
    if V.ndim != 2 or u.shape[-1] != V.shape[1]:
        raise ValueError(
            f"query_embedding (..., d) and item_embeddings (n, d) must share d; "
            f"got {u.shape} and {V.shape}"
        )
    if measure == COSINE:
        u, V = normalize_rows(u), normalize_rows(V)
    return u @ V.T


def top_k(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties: lower index), skipping ``exclude``."""
    scores = np.asarray(scores, dtype=np.float64)
    if exclude is not None and len(exclude):
        scores = scores.copy()
        scores[exclude] = -np.inf
    k = min(k, int(np.isfinite(scores).sum()) if exclude is not None else len(scores))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


def artist_neighbors(
    model: Any, data: Any, name_or_id: Any, measure: str = DOT, k: int = 6
) -> pd.DataFrame:
    """The ``k`` artists whose embeddings score highest against the query artist's.

    Columns as in the chapter (``"dot score"`` or ``"cosine score"``, ``names``) plus
    ``artistID``, ``listen_count`` and ``tag_1``; the index is the artist id, and the query
    artist is included (it normally ranks first). Lookup is case- and accent-insensitive: an
    exact name wins, otherwise the most listened artist whose name contains the text. The other
    candidates are in ``result.attrs["candidates"]``; nothing is printed.
    """
    check_measure(measure)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    index = ArtistIndex.from_data(data)
    artist, others = index.resolve(name_or_id)
    V = model.embeddings["artistID"]
    scores = compute_scores(V[artist], V, measure)
    best = top_k(scores, k)
    info = data.artist_info
    df = pd.DataFrame(
        {
            f"{measure} score": scores[best],
            "names": info["name"].to_numpy()[best],
            "artistID": best,
            "listen_count": info["listen_count"].to_numpy()[best],
            "tag_1": info["tag_1"].to_numpy()[best],
        },
        index=pd.Index(best, name="id"),
    )
    df.attrs = {
        "query": str(info["name"].iloc[artist]),
        "artist_id": artist,
        "measure": measure,
        "candidates": [str(info["name"].iloc[i]) for i in others],
    }
    return df
