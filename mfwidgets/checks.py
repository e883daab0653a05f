"""Argument checks shared across the package: each error names the argument and what it accepts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def check_number(
    name: str, value: Any, *, minimum: float, strict: bool, integer: bool = False
) -> None:
    """A finite number (an integer with ``integer``) above ``minimum`` (or equal, unless strict)."""
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    what = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(f"{name} must be {what}, got {show(value)}")
    if not math.isfinite(value) or (value <= minimum if strict else value < minimum):
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise ValueError(f"{name} must be {bound}, got {show(value)}")


def check_seed(seed: Any) -> None:
    """None (fresh randomness) or an integer >= 0."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int >= 0 or None, got {show(seed)}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be >= 0, got {show(seed)}")


def check_k(k: Any) -> int:
    """A list length: an integer >= 1."""
    check_number("k", k, minimum=1, strict=False, integer=True)
    return int(k)


def show(value: Any) -> str:
    """A value as the user wrote it, for messages: numpy scalars as plain Python (``672``, not
    ``np.int64(672)``)."""
    if isinstance(value, np.datetime64):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)
