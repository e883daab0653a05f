"""Finding items (artists, movies, ...) by name: case- and accent-insensitive, transliterated,
ranked, fast; the closest names when nothing matches."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np


def normalize(text: str) -> str:
    """Lower-case, accents removed, whitespace collapsed ("Björk " -> "bjork")."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def transliterate(text: str) -> str:
    """:func:`normalize` after transliteration to ASCII (anyascii): "Trentemøller" ->
    "trentemoller", "Ленинград" -> "leningrad", "소녀시대" -> "sonyeosidae"."""
    from anyascii import anyascii

    return normalize(anyascii(str(text)))


def compact(text: str) -> str:
    """Letters and digits only: "Tat'yana Kotova" and "tatyana kotova" meet as "tatyanakotova"."""
    return _NOT_ALNUM.sub("", text)


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


class _Keys:
    """One way of spelling names, searched as a single string; ``positions`` are the names'
    places in popularity order (all of them by default)."""

    def __init__(self, keys: list[str], positions: np.ndarray | None = None) -> None:
        self.positions = np.arange(len(keys)) if positions is None else positions
        self.blob = "\n".join(keys)  # one newline-joined string: a search is one C-level scan
        self.starts = np.cumsum([0] + [len(k) + 1 for k in keys[:-1]])
        self.lengths = np.array([len(k) for k in keys])

    def tiers(self, q: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions (in popularity order) of exact, prefix and other substring matches."""
        empty = np.empty(0, dtype=np.int64)
        if not q:
            return empty, empty, empty
        hits, find = [], self.blob.find
        pos = find(q)
        while pos != -1:
            hits.append(pos)
            pos = find(q, pos + 1)
        if not hits:
            return empty, empty, empty
        at = np.asarray(hits)
        rows = np.unique(np.searchsorted(self.starts, at, side="right") - 1)
        first = np.searchsorted(at, self.starts[rows])  # first hit inside each row
        prefix = at[np.minimum(first, len(at) - 1)] == self.starts[rows]
        exact = prefix & (self.lengths[rows] == len(q))
        pos = self.positions[rows]
        return pos[exact], pos[prefix & ~exact], pos[~prefix]


class ItemIndex:
    """Name lookups over item names and their popularity (users per item).

    A name is found by its own letters (case- and accent-insensitively), by its transliteration
    to ASCII (anyascii: Cyrillic, Greek, Korean, kana; Chinese characters, and so Japanese
    kanji, by their Mandarin reading), and by either with spaces and punctuation ignored.
    ``search`` ranks exact matches, then prefix matches, then substring matches, each tier by
    popularity, for a type-ahead list; ``suggest`` offers the names closest by edit distance
    when nothing matches ("did you mean"). ``resolve`` follows the chapter's
    ``artist_neighbors`` rule: an exact name wins, otherwise the most listened substring match.
    """

    def __init__(self, names: Any, popularity: Any, noun: str = "item") -> None:
        self.noun = noun
        self.names = np.asarray(names, dtype=object)
        self.popularity = np.asarray(popularity, dtype=np.int64)
        if self.names.shape != self.popularity.shape:
            raise ValueError("names and popularity must have the same length")
        # most popular first; ties by id, so rankings are deterministic
        self._by_pop = np.lexsort((np.arange(len(self.names)), -self.popularity))
        ordered = [str(self.names[i]) for i in self._by_pop]
        plain = [normalize(n) for n in ordered]
        ascii_keys = [transliterate(n) for n in ordered]
        # transliterations are searched only where they differ (a tenth of Last.fm's names)
        other = np.flatnonzero([a != p for a, p in zip(ascii_keys, plain, strict=True)])
        self._ascii = ascii_keys
        self._spellings = [
            (normalize, _Keys(plain)),
            (transliterate, _Keys([ascii_keys[i] for i in other], other)),
        ]
        self._compact = _Keys([compact(k) for k in ascii_keys])

    @classmethod
    def from_data(cls, data: Any) -> ItemIndex:
        """The index of a dataset's items (built once per Dataset, shared by its widgets)."""
        make = lambda: cls(data.item_names, data.item_popularity, data.item_noun)  # noqa: E731
        return data.derived("item_index", make) if hasattr(data, "derived") else make()

    def __len__(self) -> int:
        return len(self.names)

    def _tiers(
        self, query: str, enough: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ids of exact, prefix and other substring matches under any spelling, each tier by
        popularity (an item in a higher tier under one spelling is not repeated lower). The
        spelling without spaces and punctuation is searched too, unless ``enough`` matches
        were found already (a type-ahead list of short queries stays fast)."""
        exact, prefix, substring = (np.empty(0, dtype=np.int64) for _ in range(3))
        for spell, keys in self._spellings:
            e, p, s = keys.tiers(spell(query))
            exact, prefix, substring = (
                np.union1d(exact, e),
                np.union1d(prefix, p),
                np.union1d(substring, s),
            )
        if enough is None or len(exact) + len(prefix) + len(substring) < enough:
            e, p, s = self._compact.tiers(compact(transliterate(query)))
            exact, prefix, substring = (
                np.union1d(exact, e),
                np.union1d(prefix, p),
                np.union1d(substring, s),
            )
        prefix = np.setdiff1d(prefix, exact)
        substring = np.setdiff1d(substring, np.union1d(exact, prefix))
        return self._by_pop[exact], self._by_pop[prefix], self._by_pop[substring]

    def search(self, query: str, limit: int = 20) -> list[int]:
        """Ids of the best ``limit`` matches: exact, then prefix, then substring; by popularity."""
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, got {type(query).__name__}")
        if not normalize(query):
            return []
        return [int(i) for i in np.concatenate(self._tiers(query, enough=limit))[:limit]]

    def suggest(self, query: str, limit: int = 5) -> list[int]:
        """Ids of the names closest to ``query`` by edit distance (at most one edit per four
        letters, at least one), nearest first, then by popularity: "radiohed" -> Radiohead."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        q = transliterate(query)
        if not q:
            return []
        found = process.extract(q, self._ascii, scorer=Levenshtein.distance,
                                score_cutoff=max(1, len(q) // 4), limit=None)  # fmt: skip
        ranked = sorted(found, key=lambda hit: (hit[1], hit[2]))  # distance, then popularity
        return [int(self._by_pop[pos]) for _, _, pos in ranked[:limit]]

    def lookup(self, query: str, limit: int = 20) -> tuple[list[int], bool]:
        """(ids, suggested): the matches of :meth:`search`, else the suggestions of
        :meth:`suggest` with ``suggested`` True (what a type-ahead box shows)."""
        ids = self.search(query, limit)
        if ids or not normalize(query):
            return ids, False
        return self.suggest(query), True

    def resolve(self, name_or_id: Any) -> tuple[int, list[int]]:
        """(item id, other candidate ids by popularity) for a name or an id.

        Raises ValueError naming the query (and the closest names, if any) when nothing matches.
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
                close = [str(self.names[i]) for i in self.suggest(name_or_id)]
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise ValueError(f"found no {self.noun} whose name contains {name_or_id!r}{hint}")
            ranked = matches[np.lexsort((matches, -self.popularity[matches]))]
            best, others = int(ranked[0]), ranked[1:]
        return best, [int(i) for i in others]


#: the chapter-era name
ArtistIndex = ItemIndex
