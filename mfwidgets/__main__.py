"""Command line: ``python -m mfwidgets reproduce [--dataset NAME] [--quick]``,
``python -m mfwidgets download [--dataset NAME]`` and ``python -m mfwidgets notebooks DEST``.

``reproduce`` runs the chapter's three models headless (its hyper-parameters, seeded split) and a
biased model tuned on validation rows carved from train, then prints the metrics table with the
baselines and the neighbours of the dataset's example item (Coldplay, Star Wars (1977)) by dot
and cosine. ``--quick`` shortens the training runs only (for CI and a first look).
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

#: the chapter's three runs: (name, kind, embedding_dim, init_stddev, iterations, learning rate)
CHAPTER_RUNS = [
    ("model", "plain", 30, 0.5, 1000, 10.0),
    ("model_lowinit", "plain", 30, 0.05, 1000, 10.0),
    ("reg_model", "regularized", 35, 0.05, 2000, 20.0),
]
QUICK_ITERATIONS = 300
#: ALS sweeps per grid point when tuning (``--quick``: fewer, the final biased run keeps 19)
TUNE_SWEEPS, QUICK_TUNE_SWEEPS = 19, 2


def reproduce(
    quick: bool = False, seed: int = 0, source: str | None = None, dataset: str = "lastfm-2k"
) -> int:
    import pandas as pd

    from .analysis import evaluate, item_neighbors, tune
    from .data import load_dataset
    from .data.catalog import CATALOG, catalog_name
    from .models import CFModel, TrainConfig

    t0 = time.perf_counter()
    dataset = catalog_name(dataset)
    data = load_dataset(dataset, source)
    print(f"data: {data!r} ({time.perf_counter() - t0:.1f} s)")
    models = {}
    for name, kind, dim, init, iterations, lr in CHAPTER_RUNS:
        n = QUICK_ITERATIONS if quick else iterations
        extra = {"regularization_coeff": 0.1, "gravity_coeff": 1.0} if kind != "plain" else {}
        model = CFModel.from_listens(
            data, holdout_fraction=0.1, seed=seed, kind=kind, embedding_dim=dim,
            init_stddev=init, **extra,
        )  # fmt: skip
        t1 = time.perf_counter()
        last = model.train(num_iterations=n, learning_rate=lr)
        flat = {k: round(v, 4) for group in last for k, v in group.items()}
        print(f"{name}: {n} iterations in {time.perf_counter() - t1:.1f} s -> {flat}")
        models[name] = model
    first = next(iter(models.values()))
    t1 = time.perf_counter()
    grid = {"regularization_coeff": [0.1, 0.2, 0.4], "embedding_dim": [16, 32]}
    sweeps = QUICK_TUNE_SWEEPS if quick else TUNE_SWEEPS
    picks = tune(
        first.split, grid, seed=seed, train=TrainConfig(num_iterations=sweeps, optimizer="als")
    )
    biased = CFModel.from_listens(data, holdout_fraction=0.1, config=picks.best)  # its seed
    biased.train(config=TrainConfig(num_iterations=19, optimizer="als"))
    b = picks.best
    print(f"biased (tuned): regularization_coeff={b.regularization_coeff}, embedding_dim="
          f"{b.embedding_dim}, picked on validation rows carved from train "
          f"({time.perf_counter() - t1:.1f} s)")  # fmt: skip
    models["biased (tuned)"] = biased
    table = evaluate(models, data, first.split, k=10)
    cols = ["test_mse", "test_rmse", "recall@10", "ndcg@10", "coverage", "mean_popularity"]
    with pd.option_context("display.width", 140, "display.max_columns", 12):
        print(f"\nmetrics on the held-out 10 % of the ratings (seed {seed}):")
        print(table[cols].round(4).to_string())
    gm = table.loc["global mean", "test_mse"]
    worse = [n for n in models if table.loc[n, "test_mse"] > gm]
    if worse:
        print(f"\nworse than predicting the global mean ({gm:.4f}): {', '.join(worse)}")
    for name, model in models.items():
        for measure in ("dot", "cosine"):
            nb = item_neighbors(model, data, CATALOG[dataset].example, measure=measure, k=6)
            print(f"\n{name}: neighbours of {nb.attrs['query']} by {measure}")
            print(nb.drop(columns=["item_index", "raw_id"]).round(3).to_string())
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    return 0


def notebook_files() -> list[Any]:
    """The notebooks that ship with mfwidgets (readable files: ``.name``, ``.read_bytes()``):
    package data in an installed wheel, the checkout's ``notebooks/`` in an editable install."""
    try:
        folder = resources.files("mfwidgets.notebooks")
    except ModuleNotFoundError:
        folder = Path(__file__).resolve().parent.parent / "notebooks"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".ipynb")), key=lambda f: f.name)


def copy_notebooks(dest: str | Path, force: bool = False) -> list[Path]:
    """Copy the notebooks into ``dest`` (created when missing); an existing file is kept
    unless ``force`` (nothing of the user's is overwritten silently)."""
    files = notebook_files()
    if not files:
        raise ValueError("no notebooks found in this installation of mfwidgets")
    dest = Path(dest)
    clashes = [dest / f.name for f in files if (dest / f.name).exists()]
    if clashes and not force:
        names = ", ".join(str(c) for c in clashes)
        raise ValueError(f"{names} already exist(s): pass --force to overwrite")
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for f in files:
        (dest / f.name).write_bytes(f.read_bytes())
        copied.append(dest / f.name)
    return copied


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mfwidgets", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run the chapter's three models and print results")
    rep.add_argument("--quick", action="store_true", help="shorter training runs")
    rep.add_argument("--seed", type=int, default=0, help="split and initialisation seed")
    rep.add_argument("--data", default=None, help="folder or zip of the dataset's files")
    dl = sub.add_parser("download", help="download and cache a dataset")
    dl.add_argument("--cache-dir", default=None)
    for p in (rep, dl):
        p.add_argument("--dataset", default="lastfm-2k", help="a name from mfwidgets.datasets()")
    nbs = sub.add_parser("notebooks", help="copy the chapter and MovieLens notebooks to DEST")
    nbs.add_argument("dest", help="folder to copy them into (created when missing)")
    nbs.add_argument("--force", action="store_true", help="overwrite notebooks already there")
    args = ap.parse_args(argv)
    from .data import DataError

    try:
        if args.command == "reproduce":
            return reproduce(args.quick, args.seed, args.data, args.dataset)
        if args.command == "notebooks":
            for path in copy_notebooks(args.dest, args.force):
                print(path)
            return 0
        from .data import fetch
        from .data.catalog import CATALOG, catalog_name

        print(fetch(CATALOG[catalog_name(args.dataset)].archive, args.cache_dir))
        return 0
    except (DataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
