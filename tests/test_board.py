"""ComparisonBoard, headless, and the comparison maths under it: paired tests, Holm, overlap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset

from mfwidgets.analysis import mse
from mfwidgets.analysis.compare import holm, paired_p, paired_p_columns
from mfwidgets.data import leave_k_out, split_dataframe
from mfwidgets.models import CFModel, Factors, Runs, TrainConfig
from mfwidgets.widgets.board import ComparisonBoard

N_USERS, N_ITEMS = 60, 80


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    cells = rng.choice(N_USERS * N_ITEMS, 1500, replace=False)
    listens = pd.DataFrame(
        {
            "userID": cells // N_ITEMS,
            "artistID": cells % N_ITEMS,
            "listenCount": rng.uniform(1, 5, len(cells)),
        }
    )
    names = [f"artist {i}" for i in range(N_ITEMS)]
    names[3] = "<script>alert(1)</script>"
    return dataset(listens, N_USERS, N_ITEMS, names=names)


@pytest.fixture(scope="module")
def runs(data):
    out = {}
    for name, kind in (("biased", "biased"), ("implicit", "implicit")):
        model = CFModel.from_listens(data, holdout_fraction=0.2, kind=kind, embedding_dim=4,
                                     init_stddev=0.1, regularization_coeff=1.0, seed=0)  # fmt: skip
        model.train(config=TrainConfig(num_iterations=5, optimizer="als"))
        out[name] = model
    return out


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 → 3·0.01, max(0.03, 2·0.03), max(0.06, 1·0.04)
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    out = holm([[0.5, np.nan], [0.001, 0.9]])
    assert np.isnan(out[0, 1]) and out[1, 0] == pytest.approx(0.003)
    assert out[0, 0] == pytest.approx(1.0) and out[1, 1] == pytest.approx(1.0)


def test_paired_p_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(0)
    a = rng.normal(size=400)
    assert paired_p(a, a) == 1.0
    assert paired_p(a + 0.5, a + rng.normal(0, 0.1, 400)) < 1e-6
    assert paired_p(a + rng.normal(0, 1, 400), a + rng.normal(0, 1, 400)) > 0.01


def test_board_compares_marks_significance_and_follows_the_registry(data, runs):
    registry = Runs(runs)
    board = ComparisonBoard(registry, data, reference="biased", k=5)
    assert board.wait(60)
    r = board.results
    assert list(r["metrics"].index) == ["biased", "implicit"]
    assert {"test_mse", "precision@5", "recall@5", "ndcg@5", "hit_rate@5", "coverage",
            "novelty", "mean_popularity", "train_seconds"} <= set(r["metrics"].columns)  # fmt: skip
    assert np.isnan(r["metrics"].loc["implicit", "test_mse"])  # implicit: no rating error
    assert r["p_values"].loc["biased"].isna().all()  # the reference is not tested against itself
    assert np.isnan(r["p_values"].loc["implicit", "coverage"])  # a catalogue figure: not tested
    # the marks are exactly the Holm-adjusted p-values below 5 %
    p = r["p_values"].loc["implicit"]
    significant = {c for c in p.index if np.isfinite(p[c]) and p[c] < 0.05}
    html = board.metrics.value
    assert html.count('class="num mf-significant"') == len(significant)
    # a run that scores like the reference differs in nothing
    twin = Factors.of(runs["biased"])
    registry.add("twin", twin)
    assert board.wait(60)
    assert list(board.results["metrics"].index) == ["biased", "implicit", "twin"]
    twin_p = board.results["p_values"].loc["twin"].drop(["coverage", "train_seconds"])
    assert (twin_p.dropna() == 1.0).all()
    assert "no learning curve (no history): twin" in board.metrics.value
    # k is a cut of cached lists
    board.k.value = 3
    assert board.wait(60) and "precision@3" in board.results["metrics"]


def test_many_runs_compare_the_reference_with_the_picked_and_latest(data, runs):
    from mfwidgets.widgets.common import MAX_SHOWN

    registry = Runs(runs)
    board = ComparisonBoard(registry, data, reference="biased", k=5)
    for r in range(MAX_SHOWN + 2):
        registry.add(f"twin{r}", Factors.of(runs["implicit"]))
    assert board.wait(120)
    shown = list(board.run_picker.value)
    assert len(shown) == MAX_SHOWN and shown[-1] == f"twin{MAX_SHOWN + 1}"
    assert list(board.results["metrics"].index) == ["biased", *shown]  # and the reference
    assert set(board._profiles) <= {"biased", *shown}  # the work of runs not shown let go
    board.run_picker.value = ["implicit"]
    assert board.wait(60) and list(board.results["metrics"].index) == ["biased", "implicit"]


def test_neighbours_overlap_and_escaping(data, runs):
    board = ComparisonBoard(runs, data, k=4)
    board.search.value = "script"
    assert board.wait(60) and board.matches.value == 3
    table = board.results["neighbors"]
    assert list(table.columns) == ["biased", "implicit"] and len(table) == 4
    assert "<script>alert(1)</script>" not in board.neighbors.value  # escaped
    assert "&lt;script&gt;" in board.neighbors.value
    overlap = board.results["overlap"]
    a, b = (set(table[c]) for c in table.columns)
    assert overlap.loc["biased", "implicit"] == pytest.approx(len(a & b) / len(a | b))
    rho = board.results["norm_popularity"]
    assert set(rho.index) == {"biased", "implicit"}


def test_popularity_bias_tab_and_html_export(data, runs, tmp_path):
    board = ComparisonBoard(runs, data, k=5)
    board.search.value = "script"  # the query's name goes into the page
    assert board.wait(60)
    assert "popularity_bias" not in board.results  # the costliest tab computes when shown
    board.tabs.selected_index = 2
    assert board.wait(60)
    bias = board.results["popularity_bias"]
    assert set(bias.index) == {(n, m) for n in runs for m in ("dot", "cosine")}
    path = board.to_html(tmp_path / "board.html")
    page = path.read_text()
    assert "vegaEmbed" in page and "cdn.jsdelivr" not in page  # vega bundled, no CDN
    assert "nearest to &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_bad_arguments(data, runs):
    with pytest.raises(ValueError, match="k must be at most 50"):
        ComparisonBoard(runs, data, k=51)
    with pytest.raises(ValueError, match="reference must be one of"):
        ComparisonBoard(runs, data, reference="nope")
    with pytest.raises(TypeError, match="runs must be"):
        ComparisonBoard(42, data)
    train, _ = split_dataframe(data.interactions, 0.2, seed=0)
    with pytest.raises(ValueError, match="give both train= and test="):
        ComparisonBoard(runs, data, train=train)


def test_factors_without_a_split_need_one(data):
    factors = Factors(np.ones((N_USERS, 2)), np.ones((N_ITEMS, 2)), dataset=data)
    board = ComparisonBoard({"f": factors}, data)
    board.wait(60)
    assert "no run holds a train/test split" in board.status.text
    train, test = split_dataframe(data.interactions, 0.2, seed=0)
    board = ComparisonBoard({"f": factors}, data, train=train, test=test)
    assert board.wait(60) and list(board.results["metrics"].index) == ["f"]
    split = leave_k_out(data, 1, seed=0)  # any protocol's Split
    by_split = ComparisonBoard({"f": factors}, data, split=split)
    assert by_split.wait(60)
    assert by_split.results["metrics"].loc["f", "test_mse"] == pytest.approx(
        mse(factors, split.test)
    )
    with pytest.raises(TypeError, match="no train=/test="):
        ComparisonBoard({"f": factors}, data, split=split, train=train)


def test_long_histories_are_thinned_in_the_curves_chart():
    from mfwidgets.charts import runs_curves_chart
    from mfwidgets.charts.compare import MAX_POINTS

    history = pd.DataFrame({"iteration": np.arange(2001), "train_error": np.linspace(3, 1, 2001)})
    fig = runs_curves_chart({"long": history, "short": history.iloc[:5], "none": None})
    rows = next(iter(fig.tables.values()))
    assert (rows["run"] == "long").sum() == MAX_POINTS
    assert rows.loc[rows["run"] == "long", "iteration"].max() == 2000  # the end is kept
    assert (rows["run"] == "short").sum() == 5 and "none" not in set(rows["run"])


def test_paired_p_columns_is_scipys_paired_test_per_column():
    from scipy.stats import ttest_rel

    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, (300, 4))
    b = a + rng.normal([0.0, 0.3, 0.0, 0.05], 1.0, (300, 4))
    b[:, 2] = a[:, 2]  # never differs: 1.0, as paired_p
    a[:7, 3] = np.nan  # rows with a NaN are left out of that column only
    got = paired_p_columns(a, b)
    keep = ~np.isnan(a[:, 3])
    want = [ttest_rel(a[:, 0], b[:, 0]).pvalue, ttest_rel(a[:, 1], b[:, 1]).pvalue, 1.0,
            ttest_rel(a[keep, 3], b[keep, 3]).pvalue]  # fmt: skip
    assert got == pytest.approx(want, rel=1e-9)
    assert got[1] < 1e-3 < got[0]
