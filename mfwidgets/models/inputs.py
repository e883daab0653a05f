"""What a CFModel is built from, checked before any work: its configuration, its train/test
interactions (a :class:`~mfwidgets.data.Split` or two frames), the matrix size and a tagged
kind's item tags. No TensorFlow here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..checks import check_number
from ..data.dataset import Dataset, check_interactions
from ..data.split import Split
from ..data.tags import ItemTags, item_tags
from .config import ModelConfig
from .kinds import kinds_where


def model_config(config: ModelConfig | None, options: dict[str, Any]) -> ModelConfig:
    """``config``, or one made of ``options`` (a ModelConfig's fields); a factorization's."""
    if config is None:
        config = ModelConfig(**options)
    elif options:
        raise TypeError("pass either config= or its fields as keywords, not both")
    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    if config.reference:
        raise ValueError(
            f"kind={config.kind!r} is an item–item reference, not a factorization: make it "
            "with mfwidgets.models.reference(data, split, config) (EASE, ItemKNN)"
        )
    return config


def dataset_first(
    data: Dataset, test: Any, split: Split | None, dataset: Dataset | None
) -> tuple[Split, Dataset]:
    """``CFModel(data, split)`` as ``EASE(data, split)`` is called: the split (else all of
    ``data``'s interactions as train) and the dataset."""
    if dataset is not None and dataset is not data:
        raise ValueError("train is a Dataset and dataset= is another: pass one of them")
    if isinstance(test, Split) and split is None:
        split, test = test, None
    if test is not None:
        raise TypeError(
            f"after a Dataset, pass a Split (split=random_split(data, ...)), not "
            f"{type(test).__name__}"
        )
    if split is not None and not isinstance(split, Split):
        raise TypeError(f"split must be a mfwidgets Split, got {type(split).__name__}")
    return (split if split is not None else Split(data.interactions)), data


@dataclass(frozen=True)
class Inputs:
    """A model's interactions and size, checked: ``checked`` holds the arrays of each frame
    given ("train", "test"), ``split`` the frames."""

    split: Split
    checked: dict[str, Any]
    n_users: int
    n_items: int

    @classmethod
    def read(
        cls,
        train: pd.DataFrame | Split | None,
        test: pd.DataFrame | None,
        split: Split | None,
        sizes: tuple[int | None, int | None],
        dataset: Dataset | None,
        config: ModelConfig,
        loaded: bool,
    ) -> Inputs:
        """``train`` (a Split, or a frame with ``test``), the sizes (else the dataset's, else
        the largest index + 1); ``loaded``: a saved model's state comes with it (no train
        frame needed)."""
        n_users, n_items = sizes
        if isinstance(train, Split):
            if test is not None or split is not None:
                raise TypeError(
                    "train is a Split: it holds the test rows (pass no test= or split=)"
                )
            split, train, test = train, train.train, train.test
        elif split is not None and (split.train is not train or split.test is not test):
            raise ValueError("split= must hold the train and test frames given")
        if dataset is not None:
            n_users = dataset.n_users if n_users is None else n_users
            n_items = dataset.n_items if n_items is None else n_items
        for name, value in (("n_users", n_users), ("n_items", n_items)):
            if value is not None:
                check_number(name, value, minimum=1, strict=False, integer=True)
        if train is None and not loaded:
            raise TypeError("train must be an interactions frame")
        named = [(f, n) for f, n in ((train, "train"), (test, "test")) if f is not None]
        checked = {n: check_interactions(f, n, n_users, n_items) for f, n in named}
        if train is not None and len(train) == 0:
            raise ValueError("train must hold at least one interaction")
        if config.implicit and train is not None and (checked["train"].weights < 0).any():
            raise ValueError(
                f"kind={config.kind!r} needs non-negative weights (they set confidence)"
            )
        seen = [c for c in checked.values() if len(c.users)]
        n_users = int(n_users or max(int(c.users.max()) for c in seen) + 1)
        n_items = int(n_items or max(int(c.items.max()) for c in seen) + 1)
        return cls(split if split is not None else Split(train, test), checked, n_users, n_items)


def read_item_tags(
    config: ModelConfig, tags: Any, dataset: Dataset | None, n_items: int, train: Any = None
) -> ItemTags | None:
    """A tagged kind's items × tags (pooled as configured): ``tags`` (an :class:`ItemTags` or
    a non-negative matrix), else the dataset's, read from the assignments of the pairs in
    ``train`` only (the training frame; see :func:`~mfwidgets.data.item_tags`); None for the
    other kinds."""
    if not config.tagged:
        if tags is not None:
            tagged = " and ".join(map(repr, kinds_where(tagged=True)))
            raise ValueError(f"item_tags is read by the kinds {tagged}, not {config.kind!r}")
        return None
    if tags is None and dataset is None:
        raise ValueError(f"kind={config.kind!r} needs the items' tags: pass dataset= or item_tags=")
    if tags is None:
        tags = item_tags(dataset, config.tag_min_count, train=train)
    elif not isinstance(tags, ItemTags):
        tags = ItemTags.from_matrix(tags, n_items=n_items)
    tags = tags.pooled(config.tag_pooling)
    if tags.matrix.shape[0] != n_items:
        raise ValueError(f"item_tags must have one row per item ({n_items})")
    if tags.n_tags == 0:
        raise ValueError(
            f"kind={config.kind!r} needs item tags, and none is left: no tag is given to "
            f"tag_min_count={config.tag_min_count} items or more"
        )
    return tags
