"""Model quality on the seeded Last.fm split, baselines measured in the same run.

Protocol: split the listens with seed 0 (holdout 0.1) into train/test as the chapter did; carve a
validation split from train (seed 1); pick every hyper-parameter on validation only; refit the
chosen configurations on the whole train split; measure once on test. Prints the table (test MSE,
ranking metrics, training seconds) and, as its last line, one JSON object.
The rating errors are also given apart on the test rows of artists seen and unseen in training,
for the bias baseline, the biased model and the hybrid (tags); then the same table on MovieLens
100K with genres as tags (``$MFWIDGETS_DATA_MOVIELENS_100K`` or the shared copy).

Item cold start (:func:`cold_start`): hold out 10 % of the artists (seed 0) with all their
listens; train on the rest; for each user who listened to held-out artists, rank all the
held-out artists (scores from tags only: the hybrid's factors of those artists are their tags'
mean) and measure recall@10 (hits / min(10, the user's held-out artists)) and NDCG@10. The
baseline ranks them by tag popularity, the same list for everyone: an artist's score is the mean,
over its tags, of the training listeners per artist carrying the tag. For scale, two stronger
content baselines are given too: the artist's number of tags, and the user's tag profile dotted
with the artist's tags. The hybrid's
hyper-parameters are picked the same way on 10 % of the remaining artists (seed 1).
Tags: where a dataset knows who gave each tag (Last.fm), every model and baseline here reads only
the tags given on the pairs it trains on (validation, test and held-out artists' listens left
out): ``CFModel(..., dataset=data)`` builds them so, and the cold-start baselines call
``item_tags(data, train=...)`` with the same rows.
Run: python benchmarks/quality.py [--quick]
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from _common import data_source, emit, machine, movielens_source, options
from als_speed import implicit_against_the_library

from mfwidgets import CFModel, build_model, build_regularized_model, load_lastfm, split_dataframe
from mfwidgets.analysis import BiasBaseline, evaluate, mse, ranking_metrics, user_ranking_metrics
from mfwidgets.data import interaction_arrays, item_tags, load_movielens_100k
from mfwidgets.data.tags import POOLINGS
from mfwidgets.models import Factors, TrainConfig
from mfwidgets.models.itemitem import EASE, ItemKNN


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def tune_bias(fit, val, n_users, n_items, grid=((0.5, 1, 2, 4), (4, 8, 12, 16, 24))):
    """The bias baseline's (user, item) ridges with the lowest validation MSE over ``grid``."""
    scores = {
        g: mse(BiasBaseline(fit, n_users=n_users, n_items=n_items, reg_user=g[0],
                            reg_item=g[1]), val)
        for g in itertools.product(*grid)
    }  # fmt: skip
    return min(scores, key=scores.get)


#: the grid points' field names: a rating model's, an implicit model's, the tag part's
RATING = ("embedding_dim", "regularization_coeff", "gravity_coeff")
IMPLICIT = ("embedding_dim", "regularization_coeff", "alpha")
TAGS = ("tag_min_count", "free_reg_scale", "tag_pooling")


def factory(data, kind, names, **fixed):
    """``make(*point)`` for :func:`pick_on_validation` and :func:`refit`: a grid point (its
    fields named by ``names``) plus ``fixed`` as (train, test) -> CFModel of ``kind`` on
    ``data``'s sizes and tags (init σ 0.01, seed 0)."""

    def make(*point):
        options = fixed | dict(zip(names, point, strict=True))
        return lambda tr, te: CFModel(
            tr, te, n_users=data.n_users, n_items=data.n_items, dataset=data, kind=kind,
            init_stddev=0.01, seed=0, **options,
        )  # fmt: skip

    return make


def converged_score(make, fit, val, sweeps, score):
    """Train on ``fit`` for a fixed number of ALS sweeps, then score on ``val``.

    Scoring at convergence, not at the best sweep: early stopping on a small validation split
    picks noise (it chose an under-regularized model that lost on test).
    """
    model = make(fit, val)
    model.train(num_iterations=sweeps, optimizer="als")
    return score(model)


RESULT_KEYS = (
    "table", "picks", "global_mean_mse", "bias_mse", "chapter_test_mse", "popularity_recall_at_10",
    "best_recall_at_10", "best_ranking_model", "ease_recall_at_10", "itemknn_recall_at_10",
    "implicit_recall_at_10", "hybrid_implicit_recall_at_10", "biased_mse", "hybrid_mse",
    "bias_seen_mse", "bias_unseen_mse", "biased_seen_mse", "biased_unseen_mse", "hybrid_seen_mse",
    "hybrid_unseen_mse", "hybrid_unseen_gain", "n_tags_kept", "cold_start", "movielens",
    "implicit_als_seconds", "implicit_lib_seconds", "seconds",
)  # fmt: skip
#: the smoke run's (--quick) sweeps and gradient steps: the code paths, not the figures
QUICK_SWEEPS, QUICK_STEPS, QUICK_USERS = 2, 20, 300
QUICK = False


def first_users(data, n: int):
    """A smoke run's data: the interactions of the first ``n`` users (the sizes unchanged)."""
    frame = data.interactions
    return dataclasses.replace(data, interactions=frame[frame.iloc[:, 0] < n])


def sweeps_or_quick(n: int) -> int:
    return min(n, QUICK_SWEEPS) if QUICK else n


def pick_on_validation(make, grid, fit, val, sweeps, score, larger_is_better):
    """(best configuration, sweeps, its validation score) over ``grid``, scored at convergence."""
    sweeps = sweeps_or_quick(sweeps)
    scores = {g: converged_score(make(*g), fit, val, sweeps, score) for g in grid}
    best = (max if larger_is_better else min)(scores, key=scores.get)
    return best, sweeps, scores[best]


def refit(make, pick, train, test):
    """The picked configuration trained on the whole train split: (model, seconds)."""
    config, sweeps, _ = pick
    model = make(*config)(train, test)
    _, seconds = timed(lambda: model.train(sweeps, optimizer="als"))
    return model, seconds


def seen_unseen(models: dict, train, test) -> dict[str, float]:
    """Test MSE overall, on the rows of items seen in training and on the others, per model."""
    items = interaction_arrays(test).items
    unseen = ~np.isin(items, interaction_arrays(train).items)
    out = {}
    for label, model in models.items():
        out[f"{label}_mse"] = mse(model, test)
        out[f"{label}_seen_mse"] = mse(model, test[~unseen])
        out[f"{label}_unseen_mse"] = mse(model, test[unseen]) if unseen.any() else float("nan")
    print(f"  test rows of unseen items: {unseen.mean():.1%} ({unseen.sum()})")
    for label in models:
        print(f"  {label:8s} MSE {out[label + '_mse']:.4f}  seen {out[label + '_seen_mse']:.4f}  "
              f"unseen {out[label + '_unseen_mse']:.4f}")  # fmt: skip
    return out


def rating_models(data, train, fit, val, grids, bias_grid, sweeps=20):
    """Bias baseline, biased MF and hybrid MF on one dataset, each picked on validation."""
    reg_user, reg_item = tune_bias(fit, val, data.n_users, data.n_items, bias_grid)
    ridges = {"user_bias_reg": reg_user, "item_bias_reg": reg_item}
    score = lambda m: mse(m, val)  # noqa: E731
    models = {"bias": BiasBaseline(train, n_users=data.n_users, n_items=data.n_items,
                                   reg_user=reg_user, reg_item=reg_item)}  # fmt: skip
    for kind, names in (("biased", RATING), ("hybrid", RATING + TAGS)):
        make = factory(data, kind, names, **ridges)
        pick = pick_on_validation(make, grids[kind], fit, val, sweeps, score, False)
        print(f"  {kind} picked on validation: {pick[0]} (validation MSE {pick[2]:.4f})")
        models[kind] = refit(make, pick, train, None)[0]
    return models


#: each reference's pick, by label and dataset
REFERENCE_PICKS: dict[str, object] = {}
#: the references' grids: EASE's λ; item-kNN's (neighbourhood size, shrinkage)
EASE_GRID = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)
KNN_GRID = tuple(itertools.product((25, 50, 100, 200, 400), (0.0, 10.0, 50.0)))


def references(data, train, fit, val, quick: bool = False) -> dict:
    """EASE and item-kNN, each picked on validation recall@10 and refitted on ``train``:
    {label: (model, fit seconds)}."""
    makers = {
        "EASE": (lambda tr, g: EASE(data, tr, l2=g), (200.0,) if quick else EASE_GRID),
        "item-kNN": (
            lambda tr, g: ItemKNN(data, tr, k=g[0], shrink=g[1]),
            ((100, 10.0),) if quick else KNN_GRID,
        ),
    }
    out = {}
    for label, (make, grid) in makers.items():
        scores = {g: ranking_metrics(make(fit, g), fit, val, 10)["recall@10"] for g in grid}
        best = max(scores, key=scores.get)
        print(f"  {label} picked on validation: {best} (validation recall@10 {scores[best]:.4f})")
        out[label] = timed(lambda make=make, best=best: make(train, best))
        REFERENCE_PICKS[f"{label} ({data.name})"] = best
    return out


def held_out_ranking(U, V, held, listens, k: int = 10) -> tuple[float, float]:
    """(recall@k, NDCG@k) of ranking only the held-out items for each of their listeners by
    U·Vᵀ (V: the held-out items' rows, in ``held`` order), with the project's own
    :func:`user_ranking_metrics` (recall = hits / the user's held-out items)."""
    users, items, weights = interaction_arrays(listens)
    test = pd.DataFrame({"user": users, "item": np.searchsorted(held, items), "weight": weights})
    per_user, _ = user_ranking_metrics(Factors(U, V, predicts_ratings=False), test[:0], test, k)
    return float(per_user[f"recall@{k}"].mean()), float(per_user[f"ndcg@{k}"].mean())


def hold_out_items(listens, n_items: int, seed: int, fraction: float = 0.1):
    """(held-out item ids, listens of the other items, listens of the held-out ones)."""
    held = np.sort(np.random.default_rng(seed).choice(n_items, int(n_items * fraction), False))
    is_held = np.isin(interaction_arrays(listens).items, held)
    return held, listens[~is_held], listens[is_held]


def cold_start(data, grid, sweeps=15) -> dict:
    """The item cold-start protocol of the module notes: hybrid implicit vs tag popularity."""
    sweeps = sweeps_or_quick(sweeps)
    held, rest, held_listens = hold_out_items(data.listens, data.n_items, seed=0)
    val_held, fit, val_listens = hold_out_items(rest, data.n_items, seed=1)

    def fitted(frame, *point):
        model = factory(data, "hybrid_implicit", IMPLICIT + TAGS)(*point)(frame, None)
        model.train(config=TrainConfig(num_iterations=sweeps, optimizer="als"))
        return model

    def recall(model, items, listens):
        return held_out_ranking(model.user_factors, model.item_factors[items], items, listens)

    scores = {g: recall(fitted(fit, *g), val_held, val_listens)[0] for g in grid}
    best = max(scores, key=scores.get)
    print(f"  hybrid implicit picked on validation artists: (d, reg, alpha, min count, "
          f"free_reg_scale, pooling) = {best}"
          f" (validation recall@10 {scores[best]:.4f})")  # fmt: skip
    model = fitted(rest, *best)
    kept = item_tags(data, best[3], train=rest)  # the tags the model read: none of held's
    assert model.from_tags_only[held].sum() == kept.tagged[held].sum()
    out = dict(zip(("cold_start_recall_at_10", "cold_start_ndcg_at_10"),
                   recall(model, held, held_listens), strict=True))  # fmt: skip
    tags = kept.matrix.astype(bool).astype(float)
    everyone = np.ones((data.n_users, 1))  # the same list for every user
    listeners = np.bincount(interaction_arrays(rest).items, minlength=data.n_items)
    per_tag = (tags.T @ listeners) / np.maximum(np.asarray(tags.sum(0)).ravel(), 1)
    n_tags = np.maximum(np.asarray(tags.sum(1)).ravel(), 1)
    base = (tags @ per_tag) / n_tags
    out |= dict(zip(("cold_start_baseline_recall_at_10", "cold_start_baseline_ndcg_at_10"),
                    held_out_ranking(everyone, base[held, None], held, held_listens),
                    strict=True))  # fmt: skip
    # stronger baselines, for scale: how many kept tags an artist has (Last.fm's tags come from
    # listeners, so the count tracks popularity), the same list for everyone; and the user's tag
    # profile (the tags of the artists they listened to, summed) dotted with the artist's tags
    n_tags = np.asarray(tags.sum(1)).ravel()
    out |= dict(zip(("cold_start_tag_count_recall_at_10", "cold_start_tag_count_ndcg_at_10"),
                    held_out_ranking(everyone, n_tags[held, None], held, held_listens),
                    strict=True))  # fmt: skip
    u, i, _ = interaction_arrays(rest)
    listened = sp.csr_matrix((np.ones(len(u)), (u, i)), shape=(data.n_users, data.n_items))
    profile = (listened @ tags).toarray()
    out |= dict(zip(("cold_start_profile_recall_at_10", "cold_start_profile_ndcg_at_10"),
                    held_out_ranking(profile, tags[held].toarray(), held, held_listens),
                    strict=True))  # fmt: skip
    out |= {"held_artists": len(held), "held_with_tags": int(model.from_tags_only[held].sum()),
            "tags_kept": kept.n_tags, "held_listens": len(held_listens),
            "held_users": int(held_listens["userID"].nunique()), "pick": list(best)}  # fmt: skip
    print(
        f"  {len(held)} held-out artists ({int(model.from_tags_only[held].sum())} with kept "
        f"tags; {kept.n_tags} tags kept), {len(held_listens)} listens of "
        f"{held_listens['userID'].nunique()} users"
    )
    print(f"  hybrid implicit: recall@10 {out['cold_start_recall_at_10']:.4f}, NDCG@10 "
          f"{out['cold_start_ndcg_at_10']:.4f}; tag popularity: recall@10 "
          f"{out['cold_start_baseline_recall_at_10']:.4f}, NDCG@10 "
          f"{out['cold_start_baseline_ndcg_at_10']:.4f}; number of tags: recall@10 "
          f"{out['cold_start_tag_count_recall_at_10']:.4f}, NDCG@10 "
          f"{out['cold_start_tag_count_ndcg_at_10']:.4f}; the users' tag profiles: recall@10 "
          f"{out['cold_start_profile_recall_at_10']:.4f}, NDCG@10 "
          f"{out['cold_start_profile_ndcg_at_10']:.4f}")  # fmt: skip
    return out


def movielens_ranking(ml, train, test, fit, val, quick: bool) -> dict[str, float]:
    """recall@10 on MovieLens 100K of implicit MF (ALS), EASE and item-kNN, each picked on
    validation, and of popularity: where MF stands against the references there."""
    make = factory(ml, "implicit", IMPLICIT)
    grid = [(32, 10.0, 1.0)] if quick else list(
        itertools.product((16, 32, 64), (3.0, 10.0, 30.0), (0.3, 1.0, 3.0))
    )  # fmt: skip
    recall = lambda m: ranking_metrics(m, fit, val, 10)["recall@10"]  # noqa: E731
    pick = pick_on_validation(make, grid, fit, val, 15, recall, True)
    print(f"  implicit ALS picked on validation: (d, reg, alpha) = {pick[0]}, {pick[1]} sweeps "
          f"(validation recall@10 {pick[2]:.4f})")  # fmt: skip
    models = {"implicit MF (ALS)": refit(make, pick, train, test)[0]}
    models |= {label: m for label, (m, _) in references(ml, train, fit, val, quick).items()}
    table = evaluate(models, ml, train, test, k=10)
    print(table[["recall@10", "ndcg@10", "coverage"]].round(4).to_string())
    names = {"popularity": "popularity", "implicit MF (ALS)": "implicit", "EASE": "ease",
             "item-kNN": "itemknn"}  # fmt: skip
    return {
        f"{key}_recall_at_10": round(float(table.loc[name, "recall@10"]), 5)
        for name, key in names.items()
    }


def main(argv: list[str] | None = None) -> None:
    global QUICK
    args = options(__doc__, argv)
    QUICK = args.quick
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    data = first_users(load_lastfm(src), QUICK_USERS) if args.quick else load_lastfm(src)
    n_users, n_artists = data.n_users, data.n_artists
    train, test = split_dataframe(data.listens, 0.1, seed=0)
    fit, val = split_dataframe(train, 0.1, seed=1)
    print(f"machine: {machine()}")
    print(f"train {len(train):,} / test {len(test):,} listens; validation carved from train: "
          f"{len(val):,}")  # fmt: skip
    seconds: dict[str, float] = {}
    models: dict[str, object] = {}

    # -- the chapter's three models, its own hyper-parameters ------------------------------------
    listens = data.listens
    chapter = {
        "chapter model (GD)": (lambda: build_model(listens, 30, 0.5, seed=0), 1000, 10.0),
        "chapter model_lowinit (GD)": (lambda: build_model(listens, 30, 0.05, seed=0), 1000, 10.0),
        "chapter reg_model (GD)": (
            lambda: build_regularized_model(listens, 35, 0.1, 1.0, 0.05, seed=0),
            2000,
            20.0,
        ),
    }  # fmt: skip
    for name, (make, n, lr) in chapter.items():
        n = QUICK_STEPS if args.quick else n
        model = make()
        _, seconds[name] = timed(
            lambda m=model, n=n, lr=lr: m.train(num_iterations=n, learning_rate=lr)
        )
        models[name] = model

    # -- baselines: the bias ridges picked on validation ----------------------------------------
    reg_user, reg_artist = tune_bias(fit, val, n_users, n_artists)
    print(f"bias baseline ridges picked on validation: user {reg_user}, artist {reg_artist}")

    # -- biased factorization (ALS), picked on validation ---------------------------------------
    ridges = {"user_bias_reg": reg_user, "item_bias_reg": reg_artist}
    biased = factory(data, "biased", RATING, **ridges)
    grid = (
        [(32, 1.0, 0.0)]
        if args.quick
        else list(itertools.product((8, 32), (0.6, 1.0, 1.5), (0.0, 100.0)))
    )
    score = lambda m: mse(m, val)  # noqa: E731
    pick = biased_pick = pick_on_validation(biased, grid, fit, val, 20, score, False)
    print(f"biased ALS picked on validation: (d, reg, gravity) = {pick[0]}, {pick[1]} sweeps "
          f"(validation MSE {pick[2]:.4f})")  # fmt: skip
    models["biased MF (ALS)"], seconds["biased MF (ALS)"] = refit(biased, pick, train, test)
    picks = {"user+artist bias": [reg_user, reg_artist], "biased MF (ALS)": list(pick[0])}

    # -- implicit weighted MF (ALS) for ranking, picked on validation ---------------------------
    implicit = factory(data, "implicit", IMPLICIT)
    grid = (
        [(64, 60.0, 8.0)]
        if args.quick
        else list(itertools.product((32, 64), (10.0, 30.0, 60.0), (3.0, 5.0, 8.0, 12.0)))
    )
    recall = lambda m: ranking_metrics(m, fit, val, 10)["recall@10"]  # noqa: E731
    pick = implicit_pick = pick_on_validation(implicit, grid, fit, val, 15, recall, True)
    print(f"implicit ALS picked on validation: (d, reg, alpha) = {pick[0]}, {pick[1]} sweeps "
          f"(validation recall@10 {pick[2]:.4f})")  # fmt: skip
    models["implicit MF (ALS)"], seconds["implicit MF (ALS)"] = refit(implicit, pick, train, test)
    picks["implicit MF (ALS)"] = list(pick[0])

    # -- the strong simple references, picked on validation ---------------------------------------
    print("references (item–item), picked on validation:")
    for label, (model, secs) in references(data, train, fit, val, args.quick).items():
        models[label], seconds[label] = model, secs

    # -- one table, everything measured on test --------------------------------------------------
    table = evaluate(models, data, train, test, k=10)
    bias_model = BiasBaseline(train, n_users=n_users, n_items=n_artists,
                              reg_user=reg_user, reg_item=reg_artist)  # fmt: skip
    table.loc["user+artist bias", "test_mse"] = mse(bias_model, test)  # with the tuned ridges
    table.loc["user+artist bias", "test_rmse"] = np.sqrt(table.loc["user+artist bias", "test_mse"])
    table["train_seconds"] = pd.Series(seconds)
    table.loc[["global mean", "user+artist bias", "popularity"], "train_seconds"] = 0.0
    cols = ["test_mse", "recall@10", "precision@10", "ndcg@10", "hit_rate@10", "coverage",
            "mean_popularity", "novelty", "train_seconds"]  # fmt: skip
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table[cols].round(4).to_string())
    rating = [m for m in models if getattr(models[m], "predicts_ratings", True)]
    result = {
        "table": table[cols],
        "global_mean_mse": table.loc["global mean", "test_mse"],
        "bias_mse": table.loc["user+artist bias", "test_mse"],
        "best_rating_mse": table.loc[rating, "test_mse"].min(),
        "best_rating_model": table.loc[rating, "test_mse"].idxmin(),
        "chapter_test_mse": [round(float(table.loc[m, "test_mse"]), 4) for m in chapter],
        "popularity_recall_at_10": table.loc["popularity", "recall@10"],
        "best_recall_at_10": table["recall@10"].max(),
        "best_ranking_model": table["recall@10"].idxmax(),
        "ease_recall_at_10": table.loc["EASE", "recall@10"],
        "itemknn_recall_at_10": table.loc["item-kNN", "recall@10"],
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }
    # -- side information (issue 19) ------------------------------------------------------------
    # the test rows of artists never seen in training (about 12 %), apart: where tags can help
    # and the factors cannot. The hybrid: the biased model's d and gravity, its L2 and the tag
    # vocabulary's pruning picked on validation.
    dim, _, grav = biased_pick[0]
    hybrid_grid = [(dim, 1.0, grav, 5, 1.0, "sqrt")] if args.quick else list(
        itertools.product((dim,), (0.6, 1.0), (grav,), (5, 20), (1.0, 10.0), POOLINGS)
    )  # fmt: skip

    hybrid = factory(data, "hybrid", RATING + TAGS, **ridges)
    pick = pick_on_validation(hybrid, hybrid_grid, fit, val, 20, score, larger_is_better=False)
    print(f"hybrid (tags) picked on validation: (d, reg, gravity, tag min count, free_reg_scale, "
          f"pooling) = "
          f"{pick[0]} "
          f"(validation MSE {pick[2]:.4f})")  # fmt: skip
    hybrid_model, seconds["hybrid MF (ALS)"] = refit(hybrid, pick, train, test)
    picks["hybrid MF (ALS)"] = list(pick[0])
    result["n_tags_kept"] = hybrid_model.item_tags.n_tags  # (from the training pairs' tags)
    print("Last.fm 2K, test MSE by rows of seen and unseen artists:")
    side = seen_unseen(
        {"bias": bias_model, "biased": models["biased MF (ALS)"], "hybrid": hybrid_model},
        train, test,
    )  # fmt: skip
    result |= side
    result["hybrid_unseen_gain"] = 1.0 - side["hybrid_unseen_mse"] / side["bias_unseen_mse"]
    if side["hybrid_mse"] < result["best_rating_mse"]:
        result["best_rating_mse"], result["best_rating_model"] = (
            side["hybrid_mse"],
            "hybrid MF (ALS)",
        )

    # implicit with tags, on the same split and protocol as the implicit model
    dim_i, lam_i, alpha_i = implicit_pick[0]

    hybrid_implicit = factory(
        data, "hybrid_implicit", TAGS, embedding_dim=dim_i, regularization_coeff=lam_i,
        alpha=alpha_i,
    )  # fmt: skip

    grid = [(5, 1.0, "sqrt")] if args.quick else list(
        itertools.product((5, 20), (1.0, 10.0), POOLINGS)
    )  # fmt: skip
    pick = pick_on_validation(hybrid_implicit, grid, fit, val, 15, recall, larger_is_better=True)
    print(f"hybrid implicit picked on validation: (tag min count, free_reg_scale, pooling) "
          f"{pick[0]} "
          f"(validation recall@10 {pick[2]:.4f})")  # fmt: skip
    hi_model, seconds["hybrid implicit MF (ALS)"] = refit(hybrid_implicit, pick, train, test)
    picks["hybrid implicit MF (ALS)"] = [dim_i, lam_i, alpha_i, *pick[0]]
    result["hybrid_implicit_recall_at_10"] = ranking_metrics(hi_model, train, test, 10)["recall@10"]
    result["implicit_recall_at_10"] = table.loc["implicit MF (ALS)", "recall@10"]
    if result["hybrid_implicit_recall_at_10"] > result["best_recall_at_10"]:
        result["best_recall_at_10"] = result["hybrid_implicit_recall_at_10"]
        result["best_ranking_model"] = "hybrid implicit MF (ALS)"
    print(f"recall@10: implicit {result['implicit_recall_at_10']:.4f}, hybrid implicit "
          f"{result['hybrid_implicit_recall_at_10']:.4f}")  # fmt: skip

    print("Item cold start (Last.fm 2K, 10 % of the artists held out):")
    grid = [(32, 10.0, 8.0, 5, 10.0, "sqrt")] if args.quick else list(
        itertools.product((16, 32), (3.0, 10.0), (8.0,), (5,), (10.0, 30.0), POOLINGS)
    )  # fmt: skip
    result["cold_start"] = cold_start(data, grid)

    n = sweeps_or_quick(15)  # the same split, objective and sweeps
    lib = implicit_against_the_library(data, sweeps=n, quick=args.quick)
    result["implicit_als_seconds"] = lib["ours_sweep_s"] * n
    result["implicit_lib_seconds"] = lib["implicit_sweep_s"] * n
    result["implicit_als_recall_at_10"] = lib["ours_recall"]
    result["implicit_lib_recall_at_10"] = lib["implicit_recall"]

    ml_src = movielens_source()
    if ml_src is None:
        print("MovieLens 100K: not found (set MFWIDGETS_DATA_MOVIELENS_100K); skipped")
    else:
        ml = load_movielens_100k(ml_src)
        ml = first_users(ml, QUICK_USERS) if args.quick else ml
        ml_train, ml_test = split_dataframe(ml.interactions, 0.1, seed=0)
        ml_fit, ml_val = split_dataframe(ml_train, 0.1, seed=1)
        grids = {
            "biased": [(32, 0.2, 0.0)] if args.quick
            else list(itertools.product((8, 32), (0.1, 0.2, 0.4), (0.0,))),
            "hybrid": [(32, 0.2, 0.0, 5, 1.0, "sqrt")] if args.quick
            else list(itertools.product((8, 32), (0.1, 0.2, 0.4), (0.0,), (5,), (1.0, 10.0),
                                        POOLINGS)),
        }  # fmt: skip
        print("MovieLens 100K (genres as tags), picked on validation:")
        ml_models = rating_models(ml, ml_train, ml_fit, ml_val, grids,
                                     ((1, 2, 5, 10), (2, 5, 10, 25)))  # fmt: skip
        side = seen_unseen(ml_models, ml_train, ml_test)
        result["movielens"] = {k: round(float(v), 5) for k, v in side.items()}
        result["movielens"] |= movielens_ranking(ml, ml_train, ml_test, ml_fit, ml_val, args.quick)
        mean = interaction_arrays(ml_train).weights.mean()
        errors = interaction_arrays(ml_test).weights - mean
        result["movielens"]["global_mean_mse"] = round(float(np.mean(errors**2)), 5)
    result["seconds"] = {k: round(v, 2) for k, v in seconds.items()}
    result["picks"] = picks | REFERENCE_PICKS
    hybrids = {"hybrid MF (ALS)": hybrid_model, "hybrid implicit MF (ALS)": hi_model}
    rows = evaluate(hybrids, data, train, test, k=10, baselines=False)
    rows["train_seconds"] = pd.Series(seconds)
    table = pd.concat([result["table"], rows[cols]])
    result["table"] = {
        name: {c: (None if pd.isna(v) else round(float(v), 5)) for c, v in row.items()}
        for name, row in table.iterrows()
    }
    print(f"best rating model {result['best_rating_model']}: test MSE "
          f"{result['best_rating_mse']:.5f} vs bias baseline {result['bias_mse']:.5f}")  # fmt: skip
    emit({k: (round(float(v), 5) if isinstance(v, (float, np.floating)) else v)
          for k, v in result.items()}, __file__, args.quick)  # fmt: skip


if __name__ == "__main__":
    main()
