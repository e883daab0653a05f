"""Implicit-feedback ALS engines side by side, each in a fresh process on the same listens:
seconds per sweep and the process's peak memory (what ``als_speed.py`` and ``scale.py`` print).

Engines: ours with the conjugate-gradient and the exact solver, on the CPU kernels (numba, what
a CPU uses) and on TensorFlow's blocked path (what a GPU uses; on this CPU, the "before" of the
numba kernels); our gradient steps (the regularized kind: their memory); the implicit library's
CPU solver (conjugate gradient, 3 steps, as ours); Spark's local-mode ALS when pyspark is there.
Seconds per sweep: (time of ``1 + k`` sweeps − time of 1 sweep) / k, so that building, tracing,
compiling and (for the libraries) the matrix build and start-up fall out. Peak: the child's
``ru_maxrss`` (Spark: also the JVM's peak RSS).

Run as a child: python benchmarks/als_engines.py ENGINE LISTENS.npz N_USERS N_ITEMS DIM REG
ALPHA SWEEPS. Alone (python benchmarks/als_engines.py [--quick]): every engine on synthetic
implicit listens (20,000 users × 20,000 items, 1,000,000 listens, d 32, 1 + 5 sweeps; the smoke
run 200 × 500, 2,000 listens, ours and the library's only, 1 + 1 sweeps).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ENGINES = ("ours-cg", "ours-exact", "ours-cg-tf", "ours-exact-tf", "ours-gd", "implicit",
           "spark")  # fmt: skip
RESULT_KEYS = ("ours_sweep_s", "implicit_sweep_s", "ours_peak_gib", "implicit_peak_gib")


def _ours(engine: str, u, i, w, n_users, n_items, dim, reg, alpha, k) -> tuple[float, float]:
    """(seconds per sweep or step over ``k``, seconds of the first)."""
    import pandas as pd

    from mfwidgets import CFModel, TrainConfig

    df = pd.DataFrame({"userID": u, "artistID": i, "listenCount": w})
    kind = (
        {"kind": "regularized", "gravity_coeff": 0.0}  # (L2 only, as measured before)
        if engine == "ours-gd"
        else {"kind": "implicit", "alpha": alpha}
    )
    model = CFModel(df, None, n_users=n_users, n_items=n_items, embedding_dim=dim,
                    init_stddev=0.01, regularization_coeff=reg, seed=0, **kind)  # fmt: skip
    del df
    if engine.endswith("-tf"):
        model.row_solver = "tensorflow"
    if engine == "ours-gd":
        config = lambda n: TrainConfig(num_iterations=n - 1, learning_rate=1.0)  # noqa: E731
    else:
        solver = engine.split("-")[1]
        config = lambda n: TrainConfig(num_iterations=n, optimizer="als", als_solver=solver)  # noqa: E731
    t0 = time.perf_counter()
    model.train(config=config(1))  # the first sweep: building, tracing, compiling
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.train(config=config(k))
    return (time.perf_counter() - t0) / k, first


def child(engine, path, n_users, n_items, dim, reg, alpha, k) -> dict:
    arrays = np.load(path)
    u, i, w = arrays["u"], arrays["i"], arrays["w"]
    out = {"engine": engine, "listens": len(u)}
    if engine == "implicit":
        import scipy.sparse as sp
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, "blas")  # implicit's own advice: it threads, BLAS must not

        fits = {}
        for sweeps in (1, 1 + k):
            t0 = time.perf_counter()  # the matrix build counted in both, so it falls out
            conf = sp.csr_matrix((1.0 + alpha * w, (u, i)), shape=(n_users, n_items),
                                 dtype=np.float32)  # fmt: skip
            AlternatingLeastSquares(
                factors=dim,
                regularization=reg,
                iterations=sweeps,
                use_cg=True,
                random_state=0,
                calculate_training_loss=False,
            ).fit(conf, show_progress=False)
            fits[sweeps] = time.perf_counter() - t0
            del conf
        out["seconds_per_sweep"] = (fits[1 + k] - fits[1]) / k
    elif engine == "spark":
        import pandas as pd

        from mfwidgets.spark import local_spark, train_als

        sys.path.insert(0, str(Path(__file__).parent))
        from spark_als import _descendants_peak_mib

        df = pd.DataFrame({"user": u, "item": i, "weight": w})
        spark = local_spark(memory="16g")
        fits = {}
        for sweeps in (1, 1 + k):
            f = train_als(df, rank=dim, max_iter=sweeps, reg_param=reg, implicit_prefs=True,
                          alpha=alpha, seed=0, spark=spark)  # fmt: skip
            fits[sweeps] = f.params["fit_seconds"]
        out["seconds_per_sweep"] = (fits[1 + k] - fits[1]) / k
        out["jvm_peak_gib"] = _descendants_peak_mib() / 1024
    else:
        out["seconds_per_sweep"], out["first_s"] = _ours(
            engine, u, i, w, n_users, n_items, dim, reg, alpha, k
        )
    out["peak_gib"] = peak_gib()
    return out


def peak_gib() -> float:
    """This process's peak resident memory: VmHWM (ru_maxrss would carry the parent's peak
    across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # (not Linux)


def compare(u, i, w, n_users, n_items, *, dim=32, reg=1.0, alpha=1.0, sweeps=3,
            engines=ENGINES) -> dict:  # fmt: skip
    """Each of ``engines`` in its own process on the listens (u, i, w); {engine: row}."""
    if "spark" in engines:
        try:
            import pyspark  # noqa: F401
        except ImportError:
            engines = tuple(e for e in engines if e != "spark")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "listens.npz")
        np.savez(path, u=np.asarray(u, np.int32), i=np.asarray(i, np.int32),
                 w=np.asarray(w, np.float32))  # fmt: skip
        for engine in engines:
            cmd = [sys.executable, __file__, engine, path, *map(str, (n_users, n_items, dim, reg,
                   alpha, sweeps))]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode:  # a benchmark that fails says so (it would rot unseen)
                raise RuntimeError(f"engine {engine} failed:\n{done.stderr[-2000:]}")
            rows[engine] = json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def report(rows: dict, title: str) -> dict:
    """Print the rows with the ratios to the implicit library; the JSON keys of the issue."""
    print(title)
    lib = rows.get("implicit", {}).get("seconds_per_sweep")
    for engine, r in rows.items():
        ratio = f"  {r['seconds_per_sweep'] / lib:5.2f} x implicit's time" if lib else ""
        jvm = f" (+ JVM {r['jvm_peak_gib']:.2f} GiB)" if "jvm_peak_gib" in r else ""
        print(f"  {engine:14s} {r['seconds_per_sweep'] * 1000:10.1f} ms per sweep{ratio}, "
              f"peak {r['peak_gib']:.2f} GiB{jvm}")  # fmt: skip

    def get(engine, key):
        return rows.get(engine, {}).get(key)

    return {
        "ours_sweep_s": get("ours-cg", "seconds_per_sweep"),
        "ours_exact_sweep_s": get("ours-exact", "seconds_per_sweep"),
        "ours_tf_sweep_s": get("ours-cg-tf", "seconds_per_sweep"),
        "ours_tf_exact_sweep_s": get("ours-exact-tf", "seconds_per_sweep"),
        "ours_gd_step_s": get("ours-gd", "seconds_per_sweep"),
        "implicit_sweep_s": get("implicit", "seconds_per_sweep"),
        "spark_sweep_s": get("spark", "seconds_per_sweep"),
        "ours_peak_gib": get("ours-cg", "peak_gib"),
        "ours_exact_peak_gib": get("ours-exact", "peak_gib"),
        "ours_tf_peak_gib": get("ours-cg-tf", "peak_gib"),
        "ours_tf_exact_peak_gib": get("ours-exact-tf", "peak_gib"),
        "ours_gd_peak_gib": get("ours-gd", "peak_gib"),
        "implicit_peak_gib": get("implicit", "peak_gib"),
        "spark_jvm_peak_gib": get("spark", "jvm_peak_gib"),
    }


def main(argv: list[str] | None = None) -> None:
    """Every engine (the smoke run: ours and the library's) on synthetic listens."""
    from _common import emit, options

    args = options(__doc__, argv)
    n_users, n_items, n = (200, 500, 2_000) if args.quick else (20_000, 20_000, 1_000_000)
    rng = np.random.default_rng(0)
    u, i = rng.integers(0, n_users, n), rng.zipf(1.3, n) % n_items
    engines = ("ours-cg", "implicit") if args.quick else ENGINES
    w = rng.integers(1, 5, n).astype(float)
    rows = compare(u, i, w, n_users, n_items, dim=32, sweeps=1 if args.quick else 5,
                   engines=engines)  # fmt: skip
    emit(report(rows, f"{n_users:,} users x {n_items:,} items, {n:,} synthetic listens"),
         __file__, args.quick)  # fmt: skip


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in ENGINES:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    engine, path, *numbers = sys.argv[1:]
    n_users, n_items, dim = (int(x) for x in numbers[:3])
    reg, alpha = float(numbers[3]), float(numbers[4])
    print(json.dumps(child(engine, path, n_users, n_items, dim, reg, alpha, int(numbers[5]))))
elif __name__ == "__main__":
    main()
