"""Small helpers shared by the benchmark scripts (timing, data location, output)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def data_source() -> str | None:
    """``$MFWIDGETS_DATA`` if set, else the shared copy next to the repository, else None."""
    if os.environ.get("MFWIDGETS_DATA"):
        return os.environ["MFWIDGETS_DATA"]
    shared = ROOT.parent / "shared" / "data" / "hetrec2011-lastfm-2k"
    return str(shared) if shared.is_dir() else None


def timeit(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def emit(result: dict) -> None:
    """Print the result dict as the last line, one JSON object (for notes and scripts)."""
    print(json.dumps(result, sort_keys=True))
