"""Our ranking metrics against independent implementations on the same model (docs/results.md,
"How we measure"): a brute-force reference written from the definitions, and the implicit
library's ``ranking_metrics_at_k``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from synthetic import dataset

from mfwidgets.analysis import ranking_metrics
from mfwidgets.analysis.evaluation import user_ranking_metrics
from mfwidgets.data import random_split
from mfwidgets.models import Factors

N_USERS, N_ITEMS, K = 40, 30, 5


def listens(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cells = rng.choice(N_USERS * N_ITEMS, 500, replace=False)
    return pd.DataFrame({
        "userID": cells // N_ITEMS, "artistID": cells % N_ITEMS,
        "listenCount": rng.uniform(1, 5, len(cells)),
    })  # fmt: skip


def brute_force(scores: np.ndarray, train: pd.DataFrame, test: pd.DataFrame, k: int) -> dict:
    """The definitions, user by user: candidates are the items not in the user's training
    rows, ranked by score; relevant are the user's held-out items."""
    out = {"precision": [], "recall": [], "ndcg": [], "hit_rate": []}
    for u in sorted(set(test["userID"])):
        seen = set(train.loc[train["userID"] == u, "artistID"])
        relevant = set(test.loc[test["userID"] == u, "artistID"])
        candidates = [i for i in range(N_ITEMS) if i not in seen]
        top = sorted(candidates, key=lambda i: -scores[u, i])[:k]
        hits = [i in relevant for i in top]
        dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
        idcg = sum(1 / math.log2(r + 2) for r in range(min(k, len(relevant))))
        out["precision"].append(sum(hits) / k)
        out["recall"].append(sum(hits) / len(relevant))  # the denominator: held-out items
        out["ndcg"].append(dcg / idcg)
        out["hit_rate"].append(float(any(hits)))
    return {f"{name}@{k}": float(np.mean(v)) for name, v in out.items()}


def test_ranking_metrics_match_a_brute_force_reference_of_their_definitions():
    frame = listens()
    data = dataset(frame, N_USERS, N_ITEMS)
    split = random_split(data, 0.25, seed=1)
    rng = np.random.default_rng(2)
    model = Factors(rng.normal(size=(N_USERS, 4)), rng.normal(size=(N_ITEMS, 4)), dataset=data)
    ours = ranking_metrics(model, split.train, split.test, K)
    scores = model.user_factors @ model.item_factors.T
    reference = brute_force(scores, split.train, split.test, K)
    for name, value in reference.items():
        assert ours[name] == pytest.approx(value, abs=1e-12), name
    assert ours[f"recall@{K}"] != pytest.approx(ours[f"precision@{K}"])  # they differ here


def test_precision_and_ndcg_match_the_implicit_librarys_ranking_metrics_at_k():
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.evaluation import ranking_metrics_at_k
    from threadpoolctl import threadpool_limits

    from mfwidgets.models import from_implicit

    frame = listens(3)
    data = dataset(frame, N_USERS, N_ITEMS)
    split = random_split(data, 0.25, seed=4)

    def csr(f: pd.DataFrame) -> sp.csr_matrix:
        return sp.csr_matrix(
            (np.ones(len(f)), (f["userID"], f["artistID"])), shape=(N_USERS, N_ITEMS)
        )

    lib = AlternatingLeastSquares(factors=4, iterations=3, random_state=0)
    with threadpool_limits(1, "blas"):  # implicit's own advice
        lib.fit(csr(split.train), show_progress=False)
    theirs = ranking_metrics_at_k(lib, csr(split.train), csr(split.test), K=K, show_progress=False)
    model = from_implicit(lib, data)
    per_user, _ = user_ranking_metrics(model, split.train, split.test, K)
    n_held = split.test.groupby("userID").size().reindex(per_user["user"]).to_numpy()
    hits = per_user[f"precision@{K}"].to_numpy() * K
    # implicit's precision: all hits over all min(K, held-out) slots (micro-averaged)
    assert hits.sum() / np.minimum(K, n_held).sum() == pytest.approx(theirs["precision"])
    assert per_user[f"ndcg@{K}"].mean() == pytest.approx(theirs["ndcg"])
