"""Loading Last.fm-360K: seconds and peak memory on a synthetic file of the real size and format.

Writes ``usersha1-artmbid-artname-plays.tsv`` with 17,559,530 rows (359,347 users of 40-hex
SHA-1 ids, 160,168 artists with 36-character MusicBrainz ids, 8 % of the rows without one, 0.1 %
without a name, Zipf-like artist popularity) and a profile file, then times, each in a fresh
process with its peak resident memory: ``load_lastfm_360k`` and, as the baseline of the same run,
a plain ``pandas.read_csv`` of the same file. Goal: under 60 s and under 4 GB.
Run: python benchmarks/load_360k.py [--rows 17559530] [--keep DIR] (``--quick``: 20,000 rows)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import ROOT, emit, machine, options

N_USERS, N_ARTISTS = 359_347, 160_168
RESULT_KEYS = ("seconds", "peak_gib", "raw_seconds", "raw_peak_gib")

MEASURE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
{body}
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"seconds": seconds, "peak_bytes": peak, "info": info}}))
"""
LOADER = """
from mfwidgets.data import load_lastfm_360k
ds = load_lastfm_360k({folder!r})
info = [ds.n_users, ds.n_items, len(ds.interactions)]
"""
RAW = """
import csv, pandas as pd
df = pd.read_csv({path!r}, sep="\\t", header=None, quoting=csv.QUOTE_NONE, na_filter=False,
                 dtype={{0: str, 1: str, 2: str, 3: "int64"}})
info = [len(df)]
"""


def write_files(folder: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    hexes = np.array(list("0123456789abcdef"))
    users = np.array(["".join(r) for r in hexes[rng.integers(0, 16, (N_USERS, 40))]])
    mbids = np.array(
        ["-".join("".join(r[a:b]) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))
         for r in hexes[rng.integers(0, 16, (N_ARTISTS, 32))]]
    )  # fmt: skip
    mbids[rng.random(N_ARTISTS) < 0.08] = ""
    names = np.array([f"artist {i} ü" for i in range(N_ARTISTS)], dtype=object)
    names[rng.random(N_ARTISTS) < 0.001] = ""
    popularity = 1.0 / np.arange(1, N_ARTISTS + 1) ** 0.9
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "usersha1-artmbid-artname-plays.tsv"
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, rows, 2_000_000):
            n = min(2_000_000, rows - start)
            u = rng.integers(0, N_USERS, n)
            a = rng.choice(N_ARTISTS, n, p=popularity / popularity.sum())
            chunk = pd.DataFrame(
                {"u": users[u], "m": mbids[a], "n": names[a], "p": rng.integers(1, 5000, n)}
            )
            chunk.to_csv(out, sep="\t", header=False, index=False)
    profiles = pd.DataFrame({"u": users, "g": "f", "a": "25", "c": "Norway", "s": "Jan 1, 2008"})
    profiles.to_csv(folder / "usersha1-profile.tsv", sep="\t", header=False, index=False)


def measure(body: str) -> dict:
    code = MEASURE.format(root=str(ROOT), body=body)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    def add(parser):
        parser.add_argument("--rows", type=int, default=17_559_530)
        parser.add_argument("--keep", default=None, help="write the files here and keep them")
        parser.add_argument("--write-only", default=None, help=argparse.SUPPRESS)

    args = options(__doc__, argv, add)
    args.rows = 20_000 if args.quick else args.rows
    if args.write_only:  # in a child process, so the measured processes start small
        write_files(Path(args.write_only), args.rows)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp) / "lastfm-dataset-360K"
        t0 = time.perf_counter()
        if not (folder / "usersha1-profile.tsv").exists():
            # a child writes the files: a forked process inherits its parent's peak memory
            cmd = [sys.executable, __file__, "--rows", str(args.rows), "--write-only", str(folder)]
            subprocess.run(cmd, check=True)
        size = (folder / "usersha1-artmbid-artname-plays.tsv").stat().st_size
        print(f"machine: {machine()}; synthetic file of {args.rows:,} rows, {size / 1e9:.2f} GB "
              f"(written in {time.perf_counter() - t0:.0f} s)")  # fmt: skip
        raw = measure(RAW.format(path=str(folder / "usersha1-artmbid-artname-plays.tsv")))
        ours = measure(LOADER.format(folder=str(folder)))
    for label, r in (("pandas.read_csv, whole file", raw), ("load_lastfm_360k", ours)):
        print(f"{label:28s} {r['seconds']:6.1f} s   peak {r['peak_bytes'] / 2**30:5.2f} GiB")
    print(f"users, artists, interactions: {ours['info']}")
    ratio_t, ratio_m = ours["seconds"] / raw["seconds"], ours["peak_bytes"] / raw["peak_bytes"]
    print(
        f"load_lastfm_360k / raw read: {ratio_t:.2f}x time, {ratio_m:.2f}x memory "
        "(goal: < 60 s, < 4 GB)"
    )
    emit({"seconds": round(ours["seconds"], 1), "peak_gib": round(ours["peak_bytes"] / 2**30, 2),
          "raw_seconds": round(raw["seconds"], 1),
          "raw_peak_gib": round(raw["peak_bytes"] / 2**30, 2)}, __file__, args.quick)  # fmt: skip


if __name__ == "__main__":
    main()
