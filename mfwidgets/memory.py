"""Giving freed memory back to the operating system (no widgets, no TensorFlow here).

Training and the widgets' caches allocate and free arrays of several MB again and again; glibc's
allocator keeps much of what is freed in its arenas, so a long session's resident memory keeps
rising although nothing is held (measured in ``benchmarks/session_soak.py``). ``give_back``
collects garbage and asks glibc to return the free pages (``malloc_trim``, as Dask's workers do);
elsewhere (macOS, Windows, musl) it only collects garbage.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def give_back(collect: bool = True) -> bool:
    """Collect garbage (unless ``collect=False``: after work that made no reference cycles)
    and return free heap pages to the OS; True when pages were returned."""
    if collect:
        gc.collect()
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
