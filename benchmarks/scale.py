"""CFModel at Last.fm-360K scale on synthetic listens: time per step and peak memory.

Users, artists and listens at the size of Last.fm-360K (≈360k users, ≈160k artists, ≥10M
listens; artist popularity Zipf-like). Each size runs in its own process so its peak resident
memory can be read. The baseline of the same run is the smallest size: cost per listen should
stay flat (linear cost) and memory should follow (users + artists)·d + listens, never the dense
users × artists matrix (which would need 230 GB at this scale).
Run: python benchmarks/scale.py [--listens 2.5e6 5e6 1e7] [--dim 30] [--steps 20]; the smoke
run (``--quick``): 20,000 and 40,000 listens, 3 steps, in this process.

With ``--als`` (``--listens`` 17.5e6 by default, d=32): implicit-feedback ALS at this shape,
every engine of ``als_engines.py`` in a fresh process — ours on numba's CPU kernels and on
TensorFlow's blocked path (both solvers), our gradient steps, the implicit library's CPU solver,
Spark's local ALS — seconds per sweep and peak memory; the JSON line carries ``ours_sweep_s``,
``implicit_sweep_s``, ``spark_sweep_s``, ``ours_peak_gib``, ``implicit_peak_gib``.

With ``--pipeline FOLDER`` (a Last.fm-360K folder, e.g. the synthetic one that
``load_360k.py --keep DIR`` writes): the user's path end to end, each in its own process, on
Last.fm 2K and on that folder in the same run: load, build, one training step, a neighbour query
and a name lookup; seconds and peak memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import emit, machine, options

N_USERS, N_ARTISTS = 360_000, 160_000
RESULT_KEYS = ("rows", "bytes_per_listen")


def synthetic_listens(n_listens: int, seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    # Zipf-like artist popularity, users of varying activity; duplicates removed
    pop = 1.0 / np.arange(1, N_ARTISTS + 1) ** 0.9
    pop /= pop.sum()
    draw = int(n_listens * 1.08)
    users = rng.integers(0, N_USERS, draw)
    artists = rng.choice(N_ARTISTS, size=draw, p=pop)
    cells = np.unique(users.astype(np.int64) * N_ARTISTS + artists)[:n_listens]
    rng.shuffle(cells)
    return pd.DataFrame(
        {
            "userID": cells // N_ARTISTS,
            "artistID": cells % N_ARTISTS,
            "listenCount": rng.uniform(1, 5, len(cells)),
        }
    )


def child(n_listens: int, dim: int, steps: int) -> dict:
    from mfwidgets import CFModel

    df = synthetic_listens(n_listens)
    test = df.iloc[: len(df) // 100]
    train = df.iloc[len(df) // 100 :]
    t0 = time.perf_counter()
    model = CFModel(
        train, test, n_users=N_USERS, n_artists=N_ARTISTS, embedding_dim=dim,
        init_stddev=0.05, seed=0,
    )  # fmt: skip
    model.train(num_iterations=2, learning_rate=10.0)  # build, trace, warm up
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.train(num_iterations=steps - 1, learning_rate=10.0)
    per_step = (time.perf_counter() - t0) / steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    return {
        "listens": len(df),
        "seconds_per_step": per_step,
        "build_s": build,
        "peak_mib": peak,
        "train_error": float(model.history["train_error"].iloc[-1]),
    }


def pipeline(source: str, dim: int) -> None:
    """Load, build, one step, one neighbour query and one name lookup; print a JSON line."""
    from mfwidgets import CFModel, load_dataset
    from mfwidgets.analysis import ItemIndex
    from mfwidgets.analysis.scoring import ItemEmbeddings

    t = {}
    t0 = time.perf_counter()
    data = (
        load_dataset("lastfm-2k") if source == "lastfm-2k" else load_dataset("lastfm-360k", source)
    )
    t["load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = CFModel.from_listens(data, seed=0, embedding_dim=dim, init_stddev=0.05)
    model.train(num_iterations=0, learning_rate=1.0)  # build, trace, the first step
    t["build_and_first_step_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.train(num_iterations=0, learning_rate=1.0)
    t["one_step_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ItemEmbeddings(model).neighbors(0, "cosine", 10)
    t["neighbours_s"] = time.perf_counter() - t0
    index = ItemIndex.from_data(data)
    t0 = time.perf_counter()
    index.search("artist 12")
    t["lookup_s"] = time.perf_counter() - t0
    t["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t["interactions"] = len(data.interactions)
    print(json.dumps(t))


def run_pipelines(folder: str, dim: int) -> None:
    rows = {}
    for source in ("lastfm-2k", folder):
        cmd = [sys.executable, str(Path(__file__)), "--pipeline-child", source, "--dim", str(dim)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows[source] = json.loads(out.stdout.strip().splitlines()[-1])
    small, big = rows["lastfm-2k"], rows[folder]
    print(f"machine: {machine()}; d={dim}; Last.fm 2K vs the 360K folder, same run")
    for key in small:
        ratio = big[key] / small[key] if small[key] else float("nan")
        print(f"{key:24s} {small[key]:12.3f} {big[key]:12.3f}   ({ratio:,.0f}x)")
    emit({"lastfm-2k": small, "lastfm-360k": big}, __file__, False, "pipeline")


def compare_als(n_listens: int, dim: int, engines: tuple[str, ...] | None = None) -> None:
    from als_engines import ENGINES, compare, report

    df = synthetic_listens(n_listens)
    u, i, w = (df[c].to_numpy() for c in ("userID", "artistID", "listenCount"))
    del df
    rows = compare(u, i, w, N_USERS, N_ARTISTS, dim=dim, reg=1.0, alpha=1.0, sweeps=2,
                   engines=engines or ENGINES)  # fmt: skip
    title = (
        f"machine: {machine()}; {N_USERS:,} users x {N_ARTISTS:,} artists, {len(u):,} "
        f"listens, d={dim}, implicit kind (ours-gd: the regularized kind's gradient steps)"
    )
    emit(report(rows, title), __file__, False, "als")


def arguments(ap) -> None:
    import argparse

    ap.add_argument("--als", action="store_true", help="ALS engines at this shape")
    ap.add_argument("--engines", nargs="+", default=None, help="--als: these engines only")
    ap.add_argument("--pipeline", default=None, help="a Last.fm-360K folder: run the user's path")
    ap.add_argument("--pipeline-child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--listens", type=float, nargs="+", default=None)
    ap.add_argument("--dim", type=int, default=None)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--child", type=float, help=argparse.SUPPRESS)


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv, arguments)
    if args.quick:
        args.listens, args.steps = [2e4, 4e4], 3
    if args.als:
        compare_als(int((args.listens or [17.5e6])[0]), args.dim or 32, args.engines)
        return
    args.listens, args.dim = args.listens or [2.5e6, 5e6, 1e7], args.dim or 30
    if args.pipeline_child:
        pipeline(args.pipeline_child, args.dim)
        return
    if args.pipeline:
        run_pipelines(args.pipeline, args.dim)
        return
    if args.child:
        print(json.dumps(child(int(args.child), args.dim, args.steps)))
        return
    print(f"machine: {machine()}; {N_USERS:,} users x {N_ARTISTS:,} artists, d={args.dim}")
    rows = []
    for n in args.listens:
        if args.quick:  # (in this process: its peak is the runner's)
            rows.append(child(int(n), args.dim, args.steps))
            continue
        out = subprocess.run(
            [sys.executable, str(Path(__file__)), "--child", str(n), "--dim", str(args.dim),
             "--steps", str(args.steps)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = rows[0]
    emb_mib = (N_USERS + N_ARTISTS) * args.dim * 4 / 2**20
    print(f"embeddings alone: {emb_mib:.0f} MiB; dense users x artists float32 would be "
          f"{N_USERS * N_ARTISTS * 4 / 2**30:.0f} GiB")  # fmt: skip
    for r in rows:
        per_m = r["seconds_per_step"] / (r["listens"] / 1e6)
        ratio = per_m / (base["seconds_per_step"] / (base["listens"] / 1e6))
        print(
            f"{r['listens']:>11,} listens: {r['seconds_per_step']:.3f} s/step "
            f"({per_m * 1000:.1f} ms per million listens, {ratio:.2f}x the smallest), "
            f"peak {r['peak_mib']:,.0f} MiB, build+trace {r['build_s']:.1f} s"
        )
    slope = (rows[-1]["peak_mib"] - base["peak_mib"]) / (rows[-1]["listens"] - base["listens"])
    print(f"peak memory grows by {slope * 2**20:.0f} bytes per extra listen")
    emit({"rows": rows, "bytes_per_listen": slope * 2**20}, __file__, args.quick)


if __name__ == "__main__":
    main()
