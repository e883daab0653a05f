"""Scores and neighbours from embeddings (numpy only): the chapter's compute_scores and
artist_neighbors, without printing and without reading notebook globals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .checks import check_k
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


def top_tags(info: pd.DataFrame, ids: np.ndarray) -> list[str]:
    """The artists' most used tags (tag_1..tag_3, repeats dropped), comma-separated."""
    rows = zip(*(info[f"tag_{k}"].to_numpy()[ids] for k in (1, 2, 3)), strict=True)
    return [", ".join(dict.fromkeys(row)) for row in rows]


class ArtistEmbeddings:
    """A model's artist embeddings with their norms and unit rows, cached.

    Recomputed only when the model's ``version`` changes (it bumps whenever training moves the
    embeddings), so repeated lookups cost one matrix-vector product each.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._key: Any = object()
        self._V = self._unit = self._norms = None

    def _refresh(self) -> None:
        key = getattr(self.model, "version", None), id(self.model)
        if key != self._key or self._V is None:
            V = np.asarray(self.model.embeddings["artistID"], dtype=np.float64)
            self._norms = np.linalg.norm(V, axis=1)
            self._unit = normalize_rows(V)
            self._V, self._key = V, key

    @property
    def vectors(self) -> np.ndarray:
        self._refresh()
        return self._V

    @property
    def norms(self) -> np.ndarray:
        """(n_artists,) embedding norms (the chapter's popularity lesson)."""
        self._refresh()
        return self._norms

    def scores(self, artist: int, measure: str = DOT) -> np.ndarray:
        """(n_artists,) scores of every artist against ``artist``."""
        check_measure(measure)
        self._refresh()
        M = self._V if measure == DOT else self._unit
        return M @ M[artist]

    def neighbors(
        self, artist: int, measure: str = DOT, k: int = 6, include_query: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the ``k`` best-scoring artists, best first."""
        scores = self.scores(artist, measure)
        exclude = None if include_query else np.array([artist])
        ids = top_k(scores, k, exclude)
        return ids, scores[ids]


def neighbor_frame(
    data: Any,
    embeddings: ArtistEmbeddings,
    artist: int,
    measure: str = DOT,
    k: int = 6,
    include_query: bool = True,
) -> pd.DataFrame:
    """One neighbour table: rank, artist, artistID, score, listen_count, norm, tags."""
    ids, scores = embeddings.neighbors(artist, measure, k, include_query)
    info = data.artist_info
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(ids) + 1),
            "artist": info["name"].to_numpy()[ids],
            "artistID": ids,
            "score": scores,
            "listen_count": info["listen_count"].to_numpy()[ids],
            "norm": embeddings.norms[ids],
            "tags": top_tags(info, ids),
        }
    )


def mark_shared(frames: dict[Any, pd.DataFrame]) -> dict[Any, pd.DataFrame]:
    """Add a ``shared`` column: True where an artist appears in more than one of the tables."""
    counts = pd.Series(
        np.concatenate([f["artistID"].to_numpy() for f in frames.values()] or [[]])
    ).value_counts()
    return {
        key: f.assign(shared=f["artistID"].map(counts).fillna(0).to_numpy() > 1)
        for key, f in frames.items()
    }


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
    check_k(k)
    index = ArtistIndex.from_data(data)
    artist, others = index.resolve(name_or_id)
    best, scores = ArtistEmbeddings(model).neighbors(artist, measure, k)
    info = data.artist_info
    df = pd.DataFrame(
        {
            f"{measure} score": scores,
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
