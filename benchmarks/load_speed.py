"""Time load_lastfm on the real data against reading the five raw files with pandas.

Prints the ratio load / raw-read (how much the validation and the chapter's cleaning add) and
the speed-up of the vectorised cleaning over the literal row-by-row loop it reproduces.
Run: python benchmarks/load_speed.py
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import pandas as pd
from _common import ROOT, data_source, emit, machine, options, timeit

from mfwidgets.data.lastfm import FILES, REQUIRED_FILES, clean_weights, load_lastfm

sys.path.insert(0, str(ROOT / "tests"))
from test_data import reference_clean  # the test's literal loop is the oracle

RESULT_KEYS = ("raw_read_s", "load_lastfm_s", "load_over_raw", "clean_vectorised_s", "clean_loop_s")


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv)
    repeat = 1 if args.quick else 5
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")

    def raw_read():
        for name in REQUIRED_FILES:
            pd.read_csv(Path(src) / name, sep="\t", encoding=FILES[name][0], quoting=csv.QUOTE_NONE)

    t_raw = timeit(raw_read, repeat)
    t_load = timeit(lambda: load_lastfm(src), repeat)
    data = load_lastfm(src)
    u, a = data.listens["userID"].to_numpy(), data.listens["artistID"].to_numpy()
    t_clean = timeit(lambda: clean_weights(u, a, data.raw_weights), repeat)
    t0 = time.perf_counter()
    reference_clean(u, a, data.raw_weights)
    t_loop = time.perf_counter() - t0
    print(f"machine: {machine()}")
    print(f"raw pandas read of the 5 files : {t_raw * 1000:8.1f} ms")
    print(f"load_lastfm (validate + clean) : {t_load * 1000:8.1f} ms  ({t_load / t_raw:.2f}x raw)")
    print(f"clean_weights, vectorised      : {t_clean * 1000:8.1f} ms")
    slower = t_loop / t_clean
    print(f"literal row-by-row loop        : {t_loop * 1000:8.1f} ms  ({slower:.0f}x slower)")
    emit(
        {
            "raw_read_s": round(t_raw, 4),
            "load_lastfm_s": round(t_load, 4),
            "load_over_raw": round(t_load / t_raw, 2),
            "clean_vectorised_s": round(t_clean, 4),
            "clean_loop_s": round(t_loop, 3),
        },
        __file__,
        args.quick,
    )


if __name__ == "__main__":
    main()
