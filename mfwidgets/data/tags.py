"""Items' tags as side information: a row-normalised items × tags matrix and the tag names.

A hybrid model's item factor is its free part plus ``matrix[i] @ T`` — the mean of the learned
embeddings of the item's tags (LightFM-style; every kept tag of an item weighs the same), or with
``pooling="sqrt"`` their sum over √(number of tags), as SVD++ pools a user's items: an item with
more tags gets a longer tag part (on Last.fm tags come from listeners, so the count says how
widely an artist is heard; the mean throws that away). Tags given to fewer than ``min_count``
items are dropped (the vocabulary pruning): a tag seen on one or two items cannot be learned
apart from those items and only adds parameters.

Where tags come with who gave them (Last.fm's (user, artist, tag) triples), a model trained on a
split reads only the assignments of pairs it may see (:func:`item_tags` with ``train``): a
test pair's user's tags for that item would otherwise carry the held-out pair into the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..checks import check_number
from .dataset import Dataset, interaction_arrays
from .split import Split

#: the items-table columns read for tags, first found wins (Last.fm's all_tags holds every
#: distinct tag of an artist; the neutral ``tags`` column at most the top three)
TAG_COLUMNS = ("all_tags", "tags")
#: how an item's tag embeddings are pooled into its tag part
POOLINGS = ("mean", "sqrt")


@dataclass(frozen=True)
class ItemTags:
    """``matrix`` (n_items, n_tags), float32 CSR; ``names[k]`` is tag k's name. ``pooling``
    says how a row weighs its tags: ``"mean"`` (each row sums to 1) or ``"sqrt"`` (each of an
    item's n tags weighs 1/√n); a row of an item without a kept tag is 0."""

    matrix: sp.csr_matrix
    names: tuple[str, ...]
    pooling: str = "mean"

    def pooled(self, pooling: str) -> ItemTags:
        """The same tags with rows weighted by ``pooling`` (see :data:`POOLINGS`)."""
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(map(repr, POOLINGS))}")
        if pooling == self.pooling:
            return self
        n = np.diff(self.matrix.indptr).astype(np.float64)
        scale = np.sqrt(n) if pooling == "sqrt" else 1.0 / np.sqrt(np.maximum(n, 1.0))
        matrix = sp.csr_matrix(sp.diags(scale) @ self.matrix, dtype=np.float32)
        return ItemTags(matrix, self.names, pooling)

    @property
    def n_tags(self) -> int:
        return self.matrix.shape[1]

    @property
    def tagged(self) -> np.ndarray:
        """(n_items,) True for the items with at least one kept tag."""
        return np.diff(self.matrix.indptr) > 0

    @classmethod
    def from_matrix(cls, matrix: Any, names: Any = None, *, n_items: int | None = None) -> ItemTags:
        """Any non-negative (n_items, n_tags) array or sparse matrix, its rows normalised to
        sum to 1; ``names`` default to "tag_0", "tag_1", …"""
        try:
            m = sp.csr_matrix(matrix, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"item_tags must be a 2-D array or sparse matrix ({exc})") from exc
        if n_items is not None and m.shape[0] != n_items:
            raise ValueError(f"item_tags must have one row per item ({n_items}), got {m.shape[0]}")
        if m.nnz and (not np.isfinite(m.data).all() or m.data.min() < 0):
            raise ValueError("item_tags must hold finite weights >= 0")
        m.eliminate_zeros()
        sums = np.asarray(m.sum(axis=1)).ravel()
        m = sp.diags(1.0 / np.where(sums > 0, sums, 1.0)) @ m
        names = tuple(f"tag_{k}" for k in range(m.shape[1])) if names is None else tuple(names)
        if len(names) != m.shape[1]:
            raise ValueError(f"names must hold one name per tag ({m.shape[1]}), got {len(names)}")
        return cls(sp.csr_matrix(m, dtype=np.float32), names)


def item_tags(dataset: Dataset, min_count: int = 5, *, train: Any = None) -> ItemTags:
    """The dataset's item tags as an :class:`ItemTags`, keeping the tags given to at least
    ``min_count`` items.

    ``train`` (the interactions a model learns from: a frame or a
    :class:`~mfwidgets.data.Split`, whose train rows count): for a dataset whose tags come with
    who gave them (:attr:`Dataset.tag_assignments`), an assignment (u, i, t) whose pair (u, i)
    is an interaction held out of ``train`` is left out, so that no tag given by a test pair's
    user reaches the model (:func:`training_assignments`). Without ``train``, every assigned tag:
    what the chapter's tables show, and a leak on a split. Tags without a giver (the items
    table's column ``all_tags`` when present, else ``tags``, such as MovieLens's genres) do not
    depend on who interacted and are used as they are.
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a Dataset, got {type(dataset).__name__}")
    check_number("min_count", min_count, minimum=1, strict=False, integer=True)
    if dataset.tag_assignments is not None:
        given = dataset.tag_assignments if train is None else training_assignments(dataset, train)
        lists = assignment_lists(given, dataset.n_items)
    else:
        column = next((c for c in TAG_COLUMNS if c in dataset.items), None)
        lists = dataset.items[column].to_numpy() if column else [[] for _ in range(dataset.n_items)]
    return _from_lists(lists, min_count, dataset.n_items)


def training_assignments(dataset: Dataset, train: Any) -> pd.DataFrame:
    """``dataset.tag_assignments`` less those on pairs held out of ``train``: the pairs of
    ``dataset.interactions`` that ``train`` (a frame or a Split) does not hold. Assignments on
    pairs that are no interaction at all (an item tagged by a user who never played it) stay."""
    frame = train.train if isinstance(train, Split) else train
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"train must be an interactions frame or a Split, got {type(train)}")
    users, items, _ = assignment_arrays(dataset.tag_assignments)
    n = dataset.n_items
    every = interaction_arrays(dataset.interactions)
    kept = interaction_arrays(frame, "train")
    held = np.setdiff1d(every.users * n + every.items, kept.users * n + kept.items)
    return dataset.tag_assignments[~np.isin(users * n + items, held)]


def assignment_arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(users, items, tags) of a tag-assignment frame (columns ``user, item, tag`` or the
    chapter's ``userID, artistID, tag``)."""
    cols = ("userID", "artistID") if "artistID" in frame.columns else ("user", "item")
    return (
        frame[cols[0]].to_numpy(np.int64),
        frame[cols[1]].to_numpy(np.int64),
        frame["tag"].to_numpy(object),
    )


def assignment_lists(frame: pd.DataFrame, n_items: int) -> list[list[str]]:
    """Each item's distinct tags in order of first assignment (as Last.fm's ``all_tags``)."""
    _, items, tags = assignment_arrays(frame)
    distinct = pd.DataFrame({"item": items, "tag": tags}).drop_duplicates()
    distinct = distinct.sort_values("item", kind="stable")  # (a stable sort keeps file order)
    starts = np.searchsorted(distinct["item"].to_numpy(), np.arange(n_items + 1))
    flat = distinct["tag"].tolist()
    return [flat[starts[k] : starts[k + 1]] for k in range(n_items)]


def _from_lists(lists: Any, min_count: int, n_items: int) -> ItemTags:
    """Per-item tag lists as an :class:`ItemTags`, keeping the tags of ``min_count`` items."""
    rows = np.repeat(np.arange(len(lists)), [len(t) for t in lists])
    flat = [t for tags in lists for t in tags]
    codes, vocabulary = pd.factorize(pd.Series(flat, dtype=object))
    if len(codes):  # an item listing a tag twice counts once
        pairs = np.unique(np.stack([rows, codes], 1), axis=0)
        rows, codes = pairs[:, 0], pairs[:, 1]
    items_per_tag = np.bincount(codes, minlength=len(vocabulary))
    kept = np.flatnonzero(items_per_tag >= min_count)
    new_code = np.full(len(vocabulary), -1)
    new_code[kept] = np.arange(len(kept))
    keep = new_code[codes] >= 0 if len(codes) else np.zeros(0, bool)
    matrix = sp.csr_matrix(
        (np.ones(int(keep.sum())), (rows[keep], new_code[codes[keep]])),
        shape=(n_items, len(kept)),
    )
    return ItemTags.from_matrix(matrix, [str(vocabulary[k]) for k in kept])
