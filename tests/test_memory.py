"""Memory given back: the widgets' workers cap glibc's malloc arenas (cases in fresh processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="malloc arenas are glibc's"
)

# six threads alive at once, each allocating from glibc, then glibc's own count of its heaps
COUNT_ARENAS = textwrap.dedent(
    """
    import ctypes, os, re, sys, tempfile, threading
    import numpy as np
    if sys.argv[1] == "capped":
        from mfwidgets.memory import share_arenas
        share_arenas()
    barrier = threading.Barrier(6)
    held = []
    def work():
        held.append(np.ones(4096))  # 32 KiB: below the mmap threshold, from the thread's arena
        barrier.wait()
    threads = [threading.Thread(target=work) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    libc = ctypes.CDLL("libc.so.6")
    libc.fopen.restype = ctypes.c_void_p
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    path = os.path.join(tempfile.mkdtemp(), "malloc.xml")
    stream = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(len(re.findall(r'<heap nr="', open(path).read())))
    """
)


def arenas(mode: str, **env: str) -> int:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    out = subprocess.run(
        [sys.executable, "-c", COUNT_ARENAS, mode],
        capture_output=True, text=True, timeout=120, env=environ, check=True,
    )  # fmt: skip
    return int(out.stdout.split()[-1])


def test_share_arenas_caps_the_arenas_threads_create_unless_the_user_chose():
    assert arenas("plain") > 2  # the default: a new arena per thread (up to eight per core)
    assert arenas("capped") <= 2
    assert arenas("capped", MALLOC_ARENA_MAX="4") > 2  # the user's setting wins


def test_every_widget_worker_shares_the_arenas_before_it_starts_threads():
    from mfwidgets.memory import share_arenas
    from mfwidgets.widgets.worker import LatestWorker

    before = share_arenas.cache_info()
    LatestWorker().close()
    after = share_arenas.cache_info()
    assert after.hits + after.misses == before.hits + before.misses + 1


def test_share_arenas_is_once_per_process_and_says_when_it_set_the_cap():
    code = (
        "import os; os.environ.pop('MALLOC_ARENA_MAX', None)\n"
        "from mfwidgets.memory import share_arenas, give_back\n"
        "print(share_arenas(), share_arenas(), isinstance(give_back(), bool))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == ["True", "True", "True"]


def test_tensorflows_objects_are_frozen_once_imported_so_collections_are_quick():
    code = textwrap.dedent(
        """
        import gc
        from mfwidgets.models.backend import import_tensorflow
        before = gc.get_freeze_count()
        import_tensorflow()
        print(before, gc.get_freeze_count(), len(gc.get_objects()))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    before, frozen, tracked = out.stdout.split()
    assert int(before) == 0 and int(frozen) > 100_000  # TensorFlow's modules, out of sight
    assert int(tracked) < int(frozen) / 10  # what a collection still walks
