"""Which user or item a caller means: the data's own ids (as written in the user's file) or,
asked for by a differently named argument, the 0-based indexes models use."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import show
from .lookup import ItemIndex


def _position(value: Any, n: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer position, got {show(value)}")
    if not 0 <= value < n:
        raise ValueError(f"{name} must lie in [0, {n}), got {show(value)}")
    return int(value)


def user_position(data: Any, user_id: Any = None, user_index: Any = None) -> int:
    """The index of the user named by ``user_id`` (the data's own id) or ``user_index`` (a
    position): exactly one of them."""
    if (user_id is None) == (user_index is None):
        raise TypeError("name the user by user_id (the data's id) or user_index, exactly one")
    if user_index is not None:
        return _position(user_index, data.n_users, "user_index")
    return data.user_index(user_id)


def item_position(data: Any, item_id: Any = None, item_index: Any = None) -> int:
    """The index of the item named by ``item_id`` (the data's own id) or ``item_index``."""
    if (item_id is None) == (item_index is None):
        raise TypeError("name the item by item_id (the data's id) or item_index, exactly one")
    if item_index is not None:
        return _position(item_index, data.n_items, "item_index")
    return data.item_index(item_id)


def resolve_item(
    data: Any, name_or_id: Any, index: ItemIndex | None = None
) -> tuple[int, list[int]]:
    """(index, other candidates) of an item given by name (case- and accent-insensitive, see
    :class:`ItemIndex`) or by the data's own id; a string that matches no name but is an id of
    the data (string ids) is taken as that id."""
    if not isinstance(name_or_id, str):
        return data.item_index(name_or_id), []
    index = index or ItemIndex.from_data(data)
    try:
        return index.resolve(name_or_id)
    except ValueError:
        if np.asarray(data.item_raw_ids).dtype.kind in "OUS":
            try:
                return data.item_index(name_or_id), []
            except ValueError:
                pass
        raise
