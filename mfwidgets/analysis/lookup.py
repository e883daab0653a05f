"""Finding items (artists, movies, ...) by name: case- and accent-insensitive, ranked, fast."""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np


def normalize(text: str) -> str:
    """Lower-case, accents removed, whitespace collapsed ("Björk " -> "bjork")."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


class ItemIndex:
    """Name lookups over item names and their popularity (users per item).

    ``search`` ranks exact matches, then prefix matches, then substring matches, each tier by
    popularity (listener count), for a type-ahead list. ``resolve`` follows the chapter's
    ``artist_neighbors`` rule: an exact name wins, otherwise the most listened substring match.
    """

    def __init__(self, names: Any, popularity: Any, noun: str = "item") -> None:
        self.noun = noun
        self.names = np.asarray(names, dtype=object)
        self.popularity = np.asarray(popularity, dtype=np.int64)
        if self.names.shape != self.popularity.shape:
            raise ValueError("names and popularity must have the same length")
        norm = [normalize(n) for n in self.names]
        # most popular first; ties by id, so rankings are deterministic
        self._by_pop = np.lexsort((np.arange(len(self.names)), -self.popularity))
        ordered = [norm[i] for i in self._by_pop]
        # one newline-joined string: a substring search is a single C-level scan
        self._blob = "\n".join(ordered)
        self._starts = np.cumsum([0] + [len(n) + 1 for n in ordered[:-1]])
        self._lengths = np.array([len(n) for n in ordered])

    @classmethod
    def from_data(cls, data: Any) -> ItemIndex:
        """The index of a dataset's items."""
        return cls(data.item_names, data.item_popularity, data.item_noun)

    def __len__(self) -> int:
        return len(self.names)

    def _tiers(self, query: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ids of exact, prefix and other substring matches, each ordered by popularity."""
        q = normalize(query)
        hits, find = [], self._blob.find
        pos = find(q)
        while pos != -1:
            hits.append(pos)
            pos = find(q, pos + 1)
        if not hits:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        at = np.asarray(hits)
        rows = np.unique(np.searchsorted(self._starts, at, side="right") - 1)
        first = np.searchsorted(at, self._starts[rows])  # first hit inside each row
        prefix = at[np.minimum(first, len(at) - 1)] == self._starts[rows]
        exact = prefix & (self._lengths[rows] == len(q))
        ids = self._by_pop[rows]
        return ids[exact], ids[prefix & ~exact], ids[~prefix]

    def search(self, query: str, limit: int = 20) -> list[int]:
        """Ids of the best ``limit`` matches: exact, then prefix, then substring; by popularity."""
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, got {type(query).__name__}")
        if not normalize(query):
            return []
        return [int(i) for i in np.concatenate(self._tiers(query))[:limit]]

    def resolve(self, name_or_id: Any) -> tuple[int, list[int]]:
        """(item id, other candidate ids by popularity) for a name or an id.

        Raises ValueError naming the query when nothing matches.
        """
        if isinstance(name_or_id, (int, np.integer)) and not isinstance(name_or_id, bool):
            if not 0 <= name_or_id < len(self):
                raise ValueError(f"{self.noun} id must lie in [0, {len(self)}), got {name_or_id}")
            return int(name_or_id), []
        if not isinstance(name_or_id, str):
            raise TypeError(f"{self.noun} must be a name (str) or an id (int), got {name_or_id!r}")
        if not normalize(name_or_id):
            raise ValueError(f"{self.noun} name is empty")
        exact, prefix, substring = self._tiers(name_or_id)
        if len(exact):
            best, others = int(exact[0]), np.concatenate([exact[1:], prefix, substring])
        else:
            matches = np.concatenate([prefix, substring])
            if not len(matches):
                raise ValueError(f"found no {self.noun} whose name contains {name_or_id!r}")
            ranked = matches[np.lexsort((matches, -self.popularity[matches]))]
            best, others = int(ranked[0]), ranked[1:]
        return best, [int(i) for i in others]


#: the chapter-era name
ArtistIndex = ItemIndex
