"""5-fold cross-validated RMSE and MAE on MovieLens 100K (and 1M when present).

Random folds over the ratings (seeded; ``mfwidgets.analysis.cross_validate``). In each fold: the
global mean, the user + movie bias baseline, the chapter's plain model (d=30, σ=0.5, 1,001
gradient steps at lr 10) and regularized model (d=35, L2 0.1, gravity 1, σ=0.05, 2,001 steps at
lr 20), and the biased model with its
regularization and dimension picked by ``mfwidgets.analysis.tune`` on a validation share carved
from that fold's training ratings (the held-out fold is never seen), then refitted on the whole
training fold. The reference table printed beside ours is Surprise's published 5-fold table
(README of NicolasHug/Surprise, default parameters): on 100K, SVD++ 0.919 / 0.721 is its best.
Data: ``../shared/data/ml-100k`` when present, else ``$MFWIDGETS_DATA_MOVIELENS_100K`` or the
cache. Run: python benchmarks/quality_movielens.py [--folds 5]
"""

from __future__ import annotations

import os
import sys
import time

from _common import ROOT, emit, machine, options

from mfwidgets.analysis import BiasBaseline, GlobalMean, cross_validate, tune
from mfwidgets.data import DataError, load_dataset
from mfwidgets.models import CFModel, ModelConfig, TrainConfig

SURPRISE = {
    "movielens-100k": {"SVD++": (0.919, 0.721), "SVD": (0.934, 0.737),
                       "k-NN Baseline": (0.931, 0.733), "Baseline": (0.944, 0.748)},
    "movielens-1m": {"SVD++": (0.862, 0.672), "SVD": (0.873, 0.686),
                     "k-NN Baseline": (0.895, 0.706), "Baseline": (0.909, 0.719)},
}  # fmt: skip
RESULT_KEYS = ("table", "bias_rmse", "best_rmse", "best_mae", "best_model", "seconds", "all")
GRID = {"regularization_coeff": [0.15, 0.2, 0.3], "embedding_dim": [16, 32]}
#: a smoke run (--quick): one grid point, a few steps, two folds
QUICK_GRID, QUICK_STEPS = {"regularization_coeff": [0.2], "embedding_dim": [8]}, 10
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


def fold_models(data, seed: int, quick: bool = False) -> dict:
    """name -> a callable that trains that model on a fold's Split, or a ModelConfig (for
    cross_validate)."""
    sizes = {"n_users": data.n_users, "n_items": data.n_items}
    makers = {
        "global mean": lambda split: GlobalMean(split.train, **sizes),
        "user+movie bias": lambda split: BiasBaseline(split.train, **sizes),
    }
    for name, (config, how) in CHAPTER.items():
        how = (
            TrainConfig(num_iterations=QUICK_STEPS, learning_rate=how.learning_rate)
            if quick
            else how
        )
        makers[name] = lambda split, config=config, how=how: _trained(
            CFModel(split, **sizes, seed=seed, **config), how
        )

    def tuned(split):
        picks = tune(
            split, QUICK_GRID if quick else GRID, seed=seed
        )  # validation carved from the fold's train rows
        tuned.picks.append(picks.best)
        return _trained(CFModel(split, **sizes, config=picks.best),
                        TrainConfig(num_iterations=19, optimizer="als"))  # fmt: skip

    tuned.picks = []
    makers["biased MF (tuned, ALS)"] = tuned
    # untuned: the kind's own defaults, trained as CFModel(data, split).train() does
    makers["biased MF (its defaults, ALS)"] = ModelConfig(kind="biased", seed=seed)
    return makers


def _trained(model, how):
    model.train(config=how)
    return model


def run(name: str, k: int, seed: int, quick: bool = False) -> dict | None:
    source = ROOT.parent / "shared" / "data" / name.replace("movielens-", "ml-")
    try:
        data = load_dataset(name, source if source.is_dir() else None)
    except DataError as exc:
        print(f"{name}: skipped ({str(exc).splitlines()[0][:160]})")
        return None
    makers = fold_models(data, seed, quick)
    t0 = time.perf_counter()

    def progress(done, folds):
        best = makers["biased MF (tuned, ALS)"].picks[-1]
        print(f"  fold {done}/{folds}: picked regularization_coeff={best.regularization_coeff}, "
              f"embedding_dim={best.embedding_dim}", flush=True)  # fmt: skip

    cv = cross_validate(makers, data, k, seed=seed, metrics=("rmse", "mae"), progress=progress)
    table = cv.mean.rename(columns={"rmse": "RMSE", "mae": "MAE", "seconds": "seconds per fold"})
    print(f"\n{name}: {k}-fold CV (seed {seed}), {len(data.interactions):,} ratings")
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
        "table": {
            model: {c: round(float(v), 4) for c, v in row.items()}
            for model, row in table.iterrows()
        },
        "bias_rmse": round(float(table.loc["user+movie bias", "RMSE"]), 4),
        "best_rmse": round(float(table.loc[best, "RMSE"]), 4),
        "best_mae": round(float(table.loc[best, "MAE"]), 4),
        "best_model": best,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> None:
    def add(parser):
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--seed", type=int, default=0)

    args = options(__doc__, argv, add)
    folds = 2 if args.quick else args.folds
    print(f"machine: {machine()}")
    result = {}
    for name in ("movielens-100k", "movielens-1m"):
        if name == "movielens-1m" and not os.environ.get("MFWIDGETS_DATA_MOVIELENS_1M"):
            shared = ROOT.parent / "shared" / "data" / "ml-1m"
            if not shared.is_dir():
                print("movielens-1m: skipped (set MFWIDGETS_DATA_MOVIELENS_1M to run it)")
                continue
        if args.quick and name != "movielens-100k":
            continue
        if (r := run(name, folds, args.seed, args.quick)) is not None:
            result[name] = r
    if not result:
        sys.exit("no MovieLens data found")
    emit(result.get("movielens-100k", {}) | {"all": result}, __file__, args.quick)


if __name__ == "__main__":
    main()
