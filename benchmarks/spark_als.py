"""Spark MLlib's ALS against our models, on the same split, in one run; and the scale point.

Quality (Last.fm 2K, and MovieLens 100K when present): split with seed 0 (holdout 0.1), carve a
validation split from train (seed 1), pick each model's hyper-parameters on validation from
grids of about the same size (explicit models on validation MSE, implicit ones on validation
recall@10), refit on the whole train split, measure once on test: MSE/RMSE (explicit models),
recall@10, NDCG@10, training seconds of the refit. Spark's start-up is reported apart.

Scale (``--scale``): the synthetic Last.fm-360K shape of ``scale.py`` (360k users × 160k
artists, 17.5M listens by default), each engine in its own process: Spark's local-mode ALS
(``local[*]``) against our ALS sweeps, seconds per sweep ((fit of 3 − fit of 1) / 2) and peak
memory (Spark: the JVM's and Python's peak RSS).

Run: python benchmarks/spark_als.py [--quick] [--scale] [--listens N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, data_source, emit, machine, movielens_source, options

from mfwidgets.analysis import evaluate, mse, ranking_metrics, tune
from mfwidgets.data import DataError, load_dataset, load_lastfm, split_dataframe
from mfwidgets.models import CFModel, TrainConfig
from mfwidgets.spark import local_spark, train_als

SWEEPS = 15  # ALS sweeps for every model (ours and Spark's); a smoke run's 2
RESULT_KEYS = ("spark_startup_s", "lastfm-2k")  # (and "movielens-100k" when it is there)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def pick(fit_and_score, grid, larger_is_better):
    scores = {g: fit_and_score(*g) for g in grid}
    return (max if larger_is_better else min)(scores, key=scores.get), scores


def quality(name: str, data, spark, quick: bool) -> dict:
    train, test = split_dataframe(data.interactions, 0.1, seed=0)
    fit, val = split_dataframe(train, 0.1, seed=1)
    sizes = {"n_users": data.n_users, "n_items": data.n_items}
    recall = lambda m, tr, te: ranking_metrics(m, tr, te, 10)["recall@10"]  # noqa: E731

    def spark_model(tr, rank, reg, implicit=False, alpha=1.0):
        return train_als(tr, dataset=data, rank=rank, reg_param=reg, max_iter=SWEEPS, seed=0,
                         implicit_prefs=implicit, alpha=alpha, spark=spark)  # fmt: skip

    def ours_implicit(tr, te, dim, reg, alpha):
        model = CFModel(tr, te, **sizes, kind="implicit", embedding_dim=dim, init_stddev=0.01,
                        regularization_coeff=reg, alpha=alpha, seed=0)  # fmt: skip
        model.train(config=TrainConfig(num_iterations=SWEEPS, optimizer="als"))
        return model

    product = lambda *axes: list(itertools.product(*axes))  # noqa: E731
    grids = {  # about eight points each
        "spark explicit": product((10, 32), (0.05, 0.1, 0.3, 1.0)),
        "spark implicit": product((32, 64), (1.0, 10.0), (5.0, 20.0, 40.0)),
        "ours implicit": product((32, 64), (10.0, 60.0), (3.0, 8.0, 12.0)),
    }
    biased_grid = {"regularization_coeff": [0.1, 0.2, 0.3, 1.0], "embedding_dim": [16, 32]}
    if quick:
        grids = {k: v[:1] for k, v in grids.items()}
        biased_grid = {k: v[:1] for k, v in biased_grid.items()}
    picks = {
        "spark explicit": pick(lambda r, g: mse(spark_model(fit, r, g), val),
                               grids["spark explicit"], False),
        "spark implicit": pick(lambda r, g, a: recall(spark_model(fit, r, g, True, a), fit, val),
                               grids["spark implicit"], True),
        "ours implicit": pick(lambda d, g, a: recall(ours_implicit(fit, val, d, g, a), fit, val),
                              grids["ours implicit"], True),
    }  # fmt: skip
    tuned = tune(train, biased_grid, seed=0)
    for label, (best, _) in picks.items():
        print(f"{name}: {label} picked on validation: {best}")
    print(f"{name}: ours biased picked on validation: "
          f"dim {tuned.best.embedding_dim}, reg {tuned.best.regularization_coeff}")  # fmt: skip

    models, seconds = {}, {}
    for label, implicit in (("spark explicit", False), ("spark implicit", True)):
        best = picks[label][0]
        factors = spark_model(train, *best[:2], implicit, *best[2:])
        models[f"Spark ALS {label.split()[1]}"] = factors
        seconds[f"Spark ALS {label.split()[1]}"] = factors.params["fit_seconds"]
    biased = CFModel(train, test, **sizes, config=tuned.best)
    _, seconds["ours biased (ALS)"] = timed(
        lambda: biased.train(config=TrainConfig(num_iterations=SWEEPS, optimizer="als"))
    )
    models["ours biased (ALS)"] = biased
    models["ours implicit (ALS)"], seconds["ours implicit (ALS)"] = timed(
        lambda: ours_implicit(train, test, *picks["ours implicit"][0])
    )
    table = evaluate(models, data, train, test, k=10)
    table["train_seconds"] = [seconds.get(m, 0.0) for m in table.index]
    cols = ["test_mse", "test_rmse", "recall@10", "ndcg@10", "train_seconds"]
    print(f"\n{name}: test split, {SWEEPS} ALS sweeps for every factor model")
    print(table[cols].round(4).to_string())
    return {m: {c: float(table.loc[m, c]) for c in cols} for m in table.index}


# ------------------------------------------------------------------------------------------------
# scale: each engine in its own process
# ------------------------------------------------------------------------------------------------
def _descendants_peak_mib() -> float:
    """The largest peak RSS (VmHWM) among this process's descendants (Spark's JVM)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    mine, peak = {os.getpid()}, 0.0
    changed = True
    while changed:
        new = {p for p, pp in parents.items() if pp in mine and p not in mine}
        changed = bool(new)
        mine |= new
    for pid in mine - {os.getpid()}:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


def scale_child(engine: str, n_listens: int, rank: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from scale import N_ARTISTS, N_USERS, synthetic_listens

    df = synthetic_listens(n_listens)
    out = {"engine": engine, "listens": len(df), "rank": rank}
    if engine == "spark":
        t0 = time.perf_counter()
        spark = local_spark(memory="16g")
        out["startup_s"] = time.perf_counter() - t0
        fits = {}
        for sweeps in (1, 3):
            f = train_als(df, rank=rank, max_iter=sweeps, reg_param=0.1, seed=0, spark=spark)
            fits[sweeps] = f.params["fit_seconds"]
        out["fit_1_s"], out["fit_3_s"] = fits[1], fits[3]
        out["seconds_per_sweep"] = (fits[3] - fits[1]) / 2
        out["jvm_peak_mib"] = _descendants_peak_mib()
    else:
        model = CFModel(  # L2 only, as Spark's ALS
            df, None, n_users=N_USERS, n_items=N_ARTISTS, kind="regularized", embedding_dim=rank,
            init_stddev=0.05, regularization_coeff=0.1, gravity_coeff=0.0, seed=0,
        )  # fmt: skip
        fits = {}
        for sweeps in (1, 3):
            t0 = time.perf_counter()
            model.train(config=TrainConfig(num_iterations=sweeps, optimizer="als"))
            fits[sweeps] = time.perf_counter() - t0
        out["fit_1_s"], out["fit_3_s"] = fits[1], fits[3]
        out["seconds_per_sweep"] = fits[3] / 3
    out["python_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def scale(n_listens: int, rank: int) -> dict:
    rows = {}
    for engine in ("ours", "spark"):
        cmd = [sys.executable, __file__, "--scale-child", engine, "--listens", str(n_listens),
               "--rank", str(rank)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            print(done.stderr[-3000:])
            rows[engine] = {"error": done.stderr.strip().splitlines()[-1][:300]}
            continue
        rows[engine] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nscale: synthetic Last.fm-360K shape, {n_listens:,} listens, rank {rank}")
    for engine, row in rows.items():
        print(f"  {engine}: {row}")
    if "seconds_per_sweep" in rows.get("ours", {}) and "seconds_per_sweep" in rows.get("spark", {}):
        ratio = rows["spark"]["seconds_per_sweep"] / rows["ours"]["seconds_per_sweep"]
        print(f"  Spark local / ours, seconds per sweep: {ratio:.2f}")
        rows["spark_over_ours_per_sweep"] = ratio
    return rows


def main(argv: list[str] | None = None) -> None:
    global SWEEPS

    def add(ap):
        ap.add_argument("--scale", action="store_true", help="also the 360K-shape scale point")
        ap.add_argument("--listens", type=int, default=17_500_000)
        ap.add_argument("--rank", type=int, default=32)
        ap.add_argument("--scale-child", default=None, help=argparse.SUPPRESS)

    args = options(__doc__, argv, add)
    SWEEPS = 2 if args.quick else 15  # (--quick: one point per grid, too)
    if args.scale_child:
        scale_child(args.scale_child, args.listens, args.rank)
        return
    print(f"machine: {machine()}")
    result = {}
    t0 = time.perf_counter()
    spark = local_spark()
    result["spark_startup_s"] = time.perf_counter() - t0
    print(f"Spark {spark.version} local start-up: {result['spark_startup_s']:.1f} s "
          f"({spark.sparkContext.master})")  # fmt: skip
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    result["lastfm-2k"] = quality("Last.fm 2K", load_lastfm(src), spark, args.quick)
    try:  # (a smoke run: Last.fm alone, the same code)
        data = None if args.quick else load_dataset("movielens-100k", movielens_source())
        if data is not None:
            result["movielens-100k"] = quality("MovieLens 100K", data, spark, args.quick)
    except DataError as exc:
        print(f"MovieLens 100K: skipped ({str(exc).splitlines()[0][:160]})")
    spark.stop()
    if args.scale:
        result["scale"] = scale(args.listens, args.rank)
    emit(result, __file__, args.quick)


if __name__ == "__main__":
    main()
