"""5-fold cross-validated RMSE and MAE on MovieLens 100K (and 1M when present).

Random folds over the ratings (seeded). In each fold: the global mean, the user + movie bias
baseline, the chapter's plain model (d=30, σ=0.5, 1,001 gradient steps at lr 10) and regularized
model (d=35, L2 0.1, gravity 1, σ=0.05, 2,001 steps at lr 20), and the biased model with its
regularization and dimension picked by ``mfwidgets.analysis.tune`` on a validation share carved
from that fold's training ratings (the held-out fold is never seen), then refitted on the whole
training fold. The reference table printed beside ours is Surprise's published 5-fold table
(README of NicolasHug/Surprise, default parameters): on 100K, SVD++ 0.919 / 0.721 is its best.
Data: ``../shared/data/ml-100k`` when present, else ``$MFWIDGETS_DATA_MOVIELENS_100K`` or the
cache. Run: python benchmarks/quality_movielens.py [--folds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd
from _common import ROOT, emit, machine

from mfwidgets.analysis import BiasBaseline, GlobalMean, mae, rmse, tune
from mfwidgets.data import DataError, load_dataset
from mfwidgets.models import CFModel, TrainConfig

SURPRISE = {
    "movielens-100k": {"SVD++": (0.919, 0.721), "SVD": (0.934, 0.737),
                       "k-NN Baseline": (0.931, 0.733), "Baseline": (0.944, 0.748)},
    "movielens-1m": {"SVD++": (0.862, 0.672), "SVD": (0.873, 0.686),
                     "k-NN Baseline": (0.895, 0.706), "Baseline": (0.909, 0.719)},
}  # fmt: skip
GRID = {"regularization_coeff": [0.15, 0.2, 0.3], "embedding_dim": [16, 32]}
CHAPTER = {
    "chapter model (plain)": (
        {"kind": "plain", "embedding_dim": 30, "init_stddev": 0.5},
        TrainConfig(num_iterations=1000, learning_rate=10.0),
    ),
    "chapter reg_model": (
        {"kind": "regularized", "embedding_dim": 35, "init_stddev": 0.05,
         "regularization_coeff": 0.1, "gravity_coeff": 1.0},
        TrainConfig(num_iterations=2000, learning_rate=20.0),
    ),
}  # fmt: skip


def folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    """``k`` disjoint random folds of row positions (seeded)."""
    return np.array_split(np.random.default_rng(seed).permutation(n), k)


def one_fold(data, train: pd.DataFrame, test: pd.DataFrame, seed: int) -> dict:
    sizes = {"n_users": data.n_users, "n_items": data.n_items}
    out, picks = {}, None
    for name, model in (("global mean", GlobalMean(train, **sizes)),
                        ("user+movie bias", BiasBaseline(train, **sizes))):  # fmt: skip
        out[name] = (rmse(model, test), mae(model, test), 0.0)
    for name, (config, how) in CHAPTER.items():
        t0 = time.perf_counter()
        model = CFModel(train, test, **sizes, seed=seed, **config)
        model.train(config=how)
        out[name] = (rmse(model, test), mae(model, test), time.perf_counter() - t0)
    t0 = time.perf_counter()
    picks = tune(train, GRID, seed=seed)
    model = CFModel(train, test, **sizes, config=picks.best)
    model.train(config=TrainConfig(num_iterations=18, optimizer="als"))
    out["biased MF (tuned, ALS)"] = (rmse(model, test), mae(model, test),
                                     time.perf_counter() - t0)  # fmt: skip
    return out, picks.best


def cross_validate(name: str, k: int, seed: int) -> dict | None:
    source = ROOT.parent / "shared" / "data" / name.replace("movielens-", "ml-")
    try:
        data = load_dataset(name, source if source.is_dir() else None)
    except DataError as exc:
        print(f"{name}: skipped ({str(exc).splitlines()[0][:160]})")
        return None
    frame = data.interactions
    results, t0 = [], time.perf_counter()
    for i, test_rows in enumerate(folds(len(frame), k, seed)):
        test = frame.iloc[test_rows]
        train = frame.drop(frame.index[test_rows])
        fold, best = one_fold(data, train, test, seed)
        results.append(fold)
        print(f"  fold {i + 1}/{k}: picked regularization_coeff={best.regularization_coeff}, "
              f"embedding_dim={best.embedding_dim}; biased RMSE "
              f"{fold['biased MF (tuned, ALS)'][0]:.4f}", flush=True)  # fmt: skip
    table = pd.DataFrame(
        {m: np.mean([r[m] for r in results], axis=0) for m in results[0]},
        index=["RMSE", "MAE", "seconds per fold"],
    ).T
    print(f"\n{name}: {k}-fold CV (seed {seed}), {len(frame):,} ratings")
    print(table.round(4).to_string())
    print("Surprise's published table (5-fold, default parameters):")
    for algo, (r, m) in SURPRISE[name].items():
        print(f"  {algo:14s} RMSE {r:.3f}  MAE {m:.3f}")
    best = table.drop(["global mean", "user+movie bias"])["RMSE"].idxmin()
    ahead = min(r for r, _ in SURPRISE[name].values())
    print(f"best: {best}, RMSE {table.loc[best, 'RMSE']:.4f} "
          f"({'ahead of' if table.loc[best, 'RMSE'] < ahead else 'behind'} Surprise's best "
          f"{ahead:.3f})")  # fmt: skip
    return {
        "bias_rmse": round(float(table.loc["user+movie bias", "RMSE"]), 4),
        "best_rmse": round(float(table.loc[best, "RMSE"]), 4),
        "best_mae": round(float(table.loc[best, "MAE"]), 4),
        "best_model": best,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    result = {}
    for name in ("movielens-100k", "movielens-1m"):
        if name == "movielens-1m" and not os.environ.get("MFWIDGETS_DATA_MOVIELENS_1M"):
            shared = ROOT.parent / "shared" / "data" / "ml-1m"
            if not shared.is_dir():
                print("movielens-1m: skipped (set MFWIDGETS_DATA_MOVIELENS_1M to run it)")
                continue
        if (r := cross_validate(name, args.folds, args.seed)) is not None:
            result[name] = r
    if not result:
        sys.exit("no MovieLens data found")
    emit(result.get("movielens-100k", {}) | {"all": result})


if __name__ == "__main__":
    main()
