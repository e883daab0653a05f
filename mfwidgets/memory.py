"""Giving freed memory back to the operating system (no widgets, no TensorFlow here).

Training and the widgets' caches allocate and free arrays of several MB again and again; glibc's
allocator keeps much of what is freed in its arenas, so a long session's resident memory keeps
rising although nothing is held (measured in ``benchmarks/session_soak.py``). ``give_back``
collects garbage and asks glibc to return the free pages (``malloc_trim``, as Dask's workers do);
elsewhere (macOS, Windows, musl) it only collects garbage.

Trimming cannot undo fragmentation: glibc gives each new thread its own arena (up to eight per
core), and the widgets' worker threads and TensorFlow's each leave theirs part-filled. Measured in
the soak (20 runs, 10 removed): 1,442 MiB at the end with the default arenas, 1,119 MiB with two,
and only with two did removing runs give their memory back. ``share_arenas`` caps the process at
two arenas before the widgets start their threads; a ``MALLOC_ARENA_MAX`` the user set wins.

A full collection walks every object the collector tracks, and importing TensorFlow brings about
360,000 that live as long as the process: each run's collection took 0.4–0.65 s of a ~2 s run.
``freeze_imports`` (called once TensorFlow is imported) collects, then moves what is alive out
of the collector's sight (``gc.freeze``, as CPython documents for long-lived processes): later
collections take 5–30 ms. The cost: objects alive at that moment that later become cyclic
garbage are never collected (their memory stays; plain reference counting still frees the rest).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os

#: glibc's mallopt parameter for the most arenas a process may create (malloc.h)
M_ARENA_MAX = -8


@functools.cache
def _glibc(name: str):
    """A glibc function (``malloc_trim``, ``mallopt``), or None where the C library has none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return getattr(libc, name)
    except (OSError, AttributeError):
        return None


@functools.cache
def share_arenas(limit: int = 2) -> bool:
    """Let threads created from now on share at most ``limit`` malloc arenas (once per process;
    a ``MALLOC_ARENA_MAX`` in the environment wins). True when the cap was set."""
    mallopt = _glibc("mallopt")
    if mallopt is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(mallopt(M_ARENA_MAX, int(limit)))


@functools.cache
def freeze_imports() -> int:
    """Collect, then exempt every object alive now from future collections (once per
    process); the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def give_back(collect: bool = True) -> bool:
    """Collect garbage (unless ``collect=False``: after work that made no reference cycles)
    and return free heap pages to the OS; True when pages were returned."""
    if collect:
        gc.collect()
    trim = _glibc("malloc_trim")
    return bool(trim(0)) if trim is not None else False
