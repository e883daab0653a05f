"""Small helpers shared by the benchmark scripts (options, timing, data location, output).

Every script takes ``--quick`` (small data or few repeats: a smoke run that ``tests/
test_benchmarks.py`` makes of each, checking its keys) and prints, as its last line, one JSON
object holding at least the keys of its ``RESULT_KEYS``. A full run (no ``--quick``) also
writes that object into ``benchmarks/results/NAME.json`` with the commit, the processor and
the date: the files the docs' tables are made from (``./dev results``, docs/tables.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _name in ("MFWIDGETS_DATA", "MFWIDGETS_DATA_MOVIELENS_100K"):  # (kernels run elsewhere)
    if os.environ.get(_name):
        os.environ[_name] = str(Path(os.environ[_name]).expanduser().resolve())
#: where full runs write their JSON (``MFWIDGETS_BENCH_RESULTS`` overrides it)
RESULTS = Path(os.environ.get("MFWIDGETS_BENCH_RESULTS") or ROOT / "benchmarks" / "results")


def options(doc: str | None, argv: list[str] | None = None, add: Callable | None = None):
    """The script's arguments: ``--quick`` and what ``add(parser)`` adds."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run on small data")
    if add is not None:
        add(parser)
    return parser.parse_args(argv)


#: the smoke runner's JupyterLab and page, shared by the browser benchmarks it runs
_SHARED_LAB: list[tuple] = []


@contextlib.contextmanager
def lab_page():
    """(lab, page, blocked URLs): a JupyterLab in a temporary folder and an offline page, or
    the ones :func:`shared_lab_page` holds (their kernels shut down afterwards)."""
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from harness import lab_and_page, shutdown_kernels

    if _SHARED_LAB:
        lab = _SHARED_LAB[0][0]
        try:
            yield _SHARED_LAB[0]
        finally:
            shutdown_kernels(lab)
        return
    with tempfile.TemporaryDirectory() as tmp, lab_and_page(Path(tmp)) as shared:
        yield shared


@contextlib.contextmanager
def shared_lab_page():
    """One JupyterLab and page for every :func:`lab_page` inside (the smoke runner's)."""
    with lab_page() as shared:
        _SHARED_LAB.append(shared)
        try:
            yield shared
        finally:
            _SHARED_LAB.clear()


def data_source() -> str | None:
    """``$MFWIDGETS_DATA`` if set, else the shared copy next to the repository, else None."""
    if os.environ.get("MFWIDGETS_DATA"):
        return os.environ["MFWIDGETS_DATA"]
    shared = ROOT.parent / "shared" / "data" / "hetrec2011-lastfm-2k"
    return str(shared) if shared.is_dir() else None


def movielens_source() -> str | None:
    """``$MFWIDGETS_DATA_MOVIELENS_100K`` if set, else the shared copy, else None."""
    shared = ROOT.parent / "shared" / "data" / "ml-100k"
    return os.environ.get("MFWIDGETS_DATA_MOVIELENS_100K") or (
        str(shared) if shared.is_dir() else None
    )


CHILD_ENV = {**os.environ, "MFWIDGETS_BENCH_CHILD": "1"}


def first_items(data, n: int):
    """A smoke run's catalogue: ``data`` cut to its first ``n`` items and their interactions
    (every user kept)."""
    from mfwidgets.data import Dataset
    from mfwidgets.data.dataset import interaction_columns

    frame = data.interactions
    kept = frame[frame[interaction_columns(frame)[1]] < n]
    return Dataset(
        interactions=kept, items=data.items.iloc[:n], user_raw_ids=data.user_raw_ids,
        item_raw_ids=data.item_raw_ids[:n], item_noun=data.item_noun, name=f"{data.name}[:{n}]",
    )  # fmt: skip


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


def processor() -> str:
    """The processor's model name (``/proc/cpuinfo``; else what platform says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit() -> str:
    """The checkout's commit, with ``+changes`` when the package or benchmarks differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "mfwidgets", "benchmarks", ":!benchmarks/results")
    return head + ("+changes" if dirty else "")


#: the commit the run started from (read at start: the tree may change while it runs)
STARTED_FROM = commit()


def emit(result: dict, script: str, quick: bool, variant: str = "") -> None:
    """Print ``result`` as the last line, one JSON object; a full run also records it in
    ``RESULTS/NAME[-variant].json`` (NAME: the script's), atomically; a script run by another
    (``MFWIDGETS_BENCH_CHILD`` set) only prints."""
    print(json.dumps(result, sort_keys=True), flush=True)
    if quick or os.environ.get("MFWIDGETS_BENCH_CHILD"):  # (a child reports to its parent)
        return
    name = Path(script).stem + (f"-{variant}" if variant else "")
    record = {
        "benchmark": name,
        "commit": STARTED_FROM,
        "processor": processor(),
        "machine": machine(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "result": result,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)
