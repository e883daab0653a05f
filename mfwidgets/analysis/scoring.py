"""Scores and neighbours from embeddings (numpy only): the chapter's compute_scores and
artist_neighbors, without printing and without reading notebook globals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_k
from ..models.contract import has_factors
from .ids import item_position, resolve_item
from .tables import item_table

#: the chapter's first similarity: the dot product of two items' embeddings (norms count)
DOT = "dot"
#: the chapter's second similarity: the cosine of the angle between two items' embeddings
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
    """Indices of the ``k`` highest scores, best first (ties: lower index), along the last axis.

    ``scores`` is (n,) or (rows, n); ``exclude`` (1-D scores only) lists indices to skip. Scores
    of -inf are never returned.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if exclude is not None and len(exclude):
        scores = scores.copy()
        scores[exclude] = -np.inf
    if scores.ndim == 1:
        k = min(k, int((scores > -np.inf).sum()))
        return top_k(scores[None, :], k)[0] if k > 0 else np.empty(0, dtype=np.int64)
    return smallest_k(np.negative(scores), k)


def smallest_k(costs: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` lowest values of each row of ``costs`` (rows, n), lowest first
    (ties: lower index): the top-k of negated scores, one pass over the array."""
    n = costs.shape[1]
    k = min(k, n)
    if k < n:
        part = np.argpartition(costs, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(n), (len(costs), 1))
    vals = np.take_along_axis(costs, part, axis=1)
    order = np.lexsort((part, vals), axis=1)
    return np.take_along_axis(part, order, axis=1)


class ItemEmbeddings:
    """A model's item embeddings with their norms and unit rows, cached.

    Recomputed only when the model's ``version`` changes (it changes whenever training moves the
    embeddings), so repeated lookups cost one matrix-vector product each. A model without
    factors (EASE, ItemKNN) scores items by its own item–item similarity under either measure
    (``measures`` then holds one) and has no norms.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.factors = has_factors(model)
        #: the measures that differ for this model (an item–item model has one, its own; a
        #: model with neither factors nor item similarities, a baseline, has none)
        similar = hasattr(model, "item_similarities")
        self.measures = MEASURES if self.factors else (DOT,) if similar else ()
        self._state: tuple | None = None  # (key, V, norms, unit rows): replaced as one

    def label(self, measure: str) -> str:
        """What a table of ``measure`` is called: the measure, or the model's own similarity."""
        return measure if self.factors else self.model.similarity_name

    def _arrays(self) -> tuple:
        """(key, V, norms, unit rows) for the model as it is now (threads may share this)."""
        key = self.model.version, id(self.model)
        state = self._state
        if state is None or state[0] != key:
            V = np.asarray(self.model.item_factors, dtype=np.float64)
            state = self._state = (key, V, np.linalg.norm(V, axis=1), normalize_rows(V))
        return state

    @property
    def vectors(self) -> np.ndarray:
        return self._arrays()[1]

    @property
    def norms(self) -> np.ndarray | None:
        """(n_items,) embedding norms (the chapter's popularity lesson); None without factors."""
        return self._arrays()[2] if self.factors else None

    def scores(self, item: int, measure: str = DOT) -> np.ndarray:
        """(n_items,) scores of every item against ``item``."""
        check_measure(measure)
        if not self.measures:
            raise TypeError(
                f"{type(self.model).__name__} has no item neighbours: it has neither factors nor "
                "item–item similarities"
            )
        if not self.factors:
            return self.model.item_similarities(item)
        _, V, _, unit = self._arrays()
        M = V if measure == DOT else unit
        return M @ M[item]

    def neighbors(
        self, item: int, measure: str = DOT, k: int = 6, include_query: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the ``k`` best-scoring items, best first; an item–item model's
        query (which it never scores against itself) comes first when included."""
        scores = self.scores(item, measure)
        if not self.factors:
            ids = top_k(scores, k - include_query, np.array([item]))
            if include_query:
                ids = np.concatenate([[item], ids])
            return ids, np.where(ids == item, np.nan, scores[ids])
        exclude = None if include_query else np.array([item])
        ids = top_k(scores, k, exclude)
        return ids, scores[ids]


def neighbor_frame(
    data: Any,
    embeddings: ItemEmbeddings,
    item: int,
    measure: str = DOT,
    k: int = 6,
    include_query: bool = True,
) -> pd.DataFrame:
    """One neighbour table (see :func:`~mfwidgets.analysis.tables.item_table`), with norms."""
    ids, scores = embeddings.neighbors(item, measure, k, include_query)
    return item_table(data, ids, scores, norms=embeddings.norms)


def artist_neighbors(
    model: Any,
    data: Any,
    name_or_id: Any = None,
    measure: str = DOT,
    k: int = 6,
    *,
    item_id: Any = None,
    item_index: int | None = None,
) -> pd.DataFrame:
    """The ``k`` items whose embeddings score highest against the query item's.

    ``name_or_id`` is a name or an id of the data as written in it (for the chapter's Last.fm
    tables the chapter's artist ids); ``item_id=`` takes only an id (as ``recommend`` and
    ``explain`` do: no name lookup), ``item_index=`` a 0-based position.
    Columns as in the chapter (``"dot score"`` or ``"cosine score"``, ``names``) plus
    ``item_index``, ``raw_id``, ``n_users`` and ``tags``; the index is the data's item id, and
    the query item is included (it normally ranks first). Lookup is case- and
    accent-insensitive: an exact name wins, otherwise the most popular item whose name
    contains the text. The other candidates are in ``result.attrs["candidates"]``; nothing is
    printed.
    """
    check_measure(measure)
    check_k(k)
    given = {"name_or_id": name_or_id, "item_id": item_id, "item_index": item_index}
    if sum(v is not None for v in given.values()) != 1:
        named = ", ".join(n for n, v in given.items() if v is not None) or "none"
        raise TypeError(
            f"name the item by exactly one of name_or_id, item_id (the data's id) or "
            f"item_index; got {named}"
        )
    if name_or_id is None:
        item, others = item_position(data, item_id, item_index), []
    else:
        item, others = resolve_item(data, name_or_id)
    best, scores = ItemEmbeddings(model).neighbors(item, measure, k)
    table = item_table(data, best, scores).rename(
        columns={"score": f"{measure} score", "name": "names"}
    )
    df = table[[f"{measure} score", "names", "item_index", "raw_id", "n_users", "tags"]]
    df.index = pd.Index(table["raw_id"].to_numpy(), name="id")
    names = data.item_names
    df.attrs = {
        "query": str(names[item]),
        "item_index": item,
        "item_id": data.item_id(item),
        "measure": measure,
        "candidates": [str(names[i]) for i in others],
    }
    return df


#: the dataset-neutral name of the chapter's ``artist_neighbors``
item_neighbors = artist_neighbors
