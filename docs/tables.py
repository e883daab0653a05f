"""The docs' tables and cited figures, made from the benchmarks' recorded results.

Each full benchmark run writes ``benchmarks/results/NAME.json`` (see ``_common.emit``). In the
docs, README and the notebooks' text, a block ``<!-- table NAME -->`` … ``<!-- /table -->`` holds
a table made here, and ``<!-- v BENCH:KEY.PATH:FORMAT -->`` … ``<!-- /v -->`` one figure read
from ``BENCH``'s result. ``python docs/tables.py`` (``./dev results``) rewrites them all;
``--check`` only says which differ (``tests/test_results_docs.py`` runs it), so a table can never
drift from the run it cites.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
#: the files whose blocks and figures are made here
FILES = (
    "README.md",
    "docs/results.md",
    "docs/performance.md",
    "docs/data.md",
    "docs/api.md",
    "docs/spark.md",
    "notebooks/matrix_factorization.ipynb",
)
NOT_YET = "not recorded yet"


def record(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def value(name: str, path: str) -> object:
    """``path`` (dot-separated keys) in ``name``'s result; KeyError naming both if absent."""
    rec = record(name)
    if rec is None:
        raise KeyError(f"benchmarks/results/{name}.json does not exist (run benchmarks/{name}.py)")
    out: object = rec["result"]
    for key in path.split("."):
        if not isinstance(out, dict) or key not in out:
            raise KeyError(f"{name}.json has no {path!r}")
        out = out[key]
    return out


def fmt(x: object, spec: str = ".4f") -> str:
    """A figure as the docs print it; "–" for none (a ranking model's rating error)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return format(x, spec) if isinstance(x, (int, float)) else str(x)


def provenance(name: str) -> str:
    rec = record(name)
    if rec is None:
        return f"*`benchmarks/{name}.py`: {NOT_YET}.*"
    return (
        f"*Recorded by `benchmarks/{name}.py` at commit `{rec['commit']}` on {rec['processor']} "
        f"({rec['machine']}), {rec['date']}.*"
    )


def markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return [*lines, *("| " + " | ".join(r) + " |" for r in rows)]


# -- the tables ------------------------------------------------------------------------------
def model_rows(spec: list[tuple[str, str]], columns: list[tuple[str, str]], bold: str) -> list:
    """Rows of quality.py's table: (label, its row) × (column, format); the best of ``bold``."""
    table = value("quality", "table")
    best = max((table[k][bold] or -1.0) for _, k in spec)
    rows = []
    for label, key in spec:
        cells = [label]
        for col, spec_ in columns:
            text = fmt(table[key][col], spec_)
            cells.append(f"**{text}**" if col == bold and table[key][col] == best else text)
        rows.append(cells)
    return rows


def readme_quality() -> list[str]:
    spec = [
        ("user + artist bias (baseline)", "user+artist bias"),
        ("the chapter's `reg_model` (L2 + gravity)", "chapter reg_model (GD)"),
        ("biased MF, ALS", "biased MF (ALS)"),
        ("implicit-feedback MF, ALS", "implicit MF (ALS)"),
        ("hybrid implicit MF with the artists' tags", "hybrid implicit MF (ALS)"),
        ("EASE, the item–item reference (closed form, no factors)", "EASE"),
    ]
    rows = model_rows(spec, [("test_mse", ".4f"), ("recall@10", ".4f")], "recall@10")
    return [*markdown(["Last.fm 2K", "test MSE", "recall@10"], rows), "", provenance("quality")]


def lastfm_quality() -> list[str]:
    spec = [
        ("global mean (baseline)", "global mean"),
        ("user + artist bias (baseline)", "user+artist bias"),
        ("most listened artists (baseline)", "popularity"),
        ("chapter `model` (d=30, σ=0.5, 1000 steps)", "chapter model (GD)"),
        ("chapter `model_lowinit` (σ=0.05)", "chapter model_lowinit (GD)"),
        ("chapter `reg_model` (L2 0.1, gravity 1, 2000 steps)", "chapter reg_model (GD)"),
        ("biased MF, ALS (beyond the chapter)", "biased MF (ALS)"),
        ("implicit-feedback MF, ALS (beyond the chapter)", "implicit MF (ALS)"),
        ("hybrid MF with the artists' tags, ALS", "hybrid MF (ALS)"),
        ("hybrid implicit MF with the artists' tags, ALS", "hybrid implicit MF (ALS)"),
        ("EASE, item–item in closed form (reference)", "EASE"),
        ("item-kNN, shrunk cosine (reference)", "item-kNN"),
    ]
    cols = [("test_mse", ".4f"), ("recall@10", ".4f"), ("ndcg@10", ".4f"), ("coverage", ".3f")]
    rows = model_rows(spec, cols, "recall@10")
    header = ["model", "test MSE", "recall@10", "NDCG@10", "coverage"]
    return [*markdown(header, rows), "", provenance("quality")]


def seen_unseen() -> list[str]:
    rows = []
    for data, prefix, labels in (
        ("Last.fm 2K", "", ("user + artist bias", "biased MF", "hybrid (the artists' tags)")),
        ("MovieLens 100K", "movielens.", ("user + movie bias", "biased MF", "hybrid (genres)")),
    ):
        for label, key in zip(labels, ("bias", "biased", "hybrid"), strict=True):
            cells = [f"{data}: {label}"]
            for part in ("", "_seen", "_unseen"):
                cells.append(fmt(value("quality", f"{prefix}{key}{part}_mse")))
            rows.append(cells)
    header = ["test MSE", "overall", "seen-item rows", "unseen-item rows"]
    return [*markdown(header, rows), "", provenance("quality")]


def cold_start() -> list[str]:
    c = value("quality", "cold_start")
    d, lam, _, _, kappa, pooling = c["pick"]
    spec = [
        ("tag popularity (mean training listeners of the artists sharing its tags)", "baseline"),
        ("number of tags (the same list for everyone)", "tag_count"),
        ("the user's tag profile · the artist's tags", "profile"),
        (f"hybrid implicit, {pooling} pooling, κ {kappa:g} (d {d}, λ {lam:g}; picked on other "
         "held-out artists)", ""),
    ]  # fmt: skip
    rows = []
    for label, key in spec:
        part = f"cold_start_{key}_" if key else "cold_start_"
        rows.append([label, fmt(c[f"{part}recall_at_10"]), fmt(c[f"{part}ndcg_at_10"])])
    header = ["ranking of artists nobody listened to in training", "recall@10", "NDCG@10"]
    return [*markdown(header, rows), "", provenance("quality")]


def movielens_ranking() -> list[str]:
    m = value("quality", "movielens")
    spec = [("most rated movies", "popularity"), ("implicit MF, ALS", "implicit"),
            ("EASE (reference)", "ease"), ("item-kNN (reference)", "itemknn")]  # fmt: skip
    rows = [[label, fmt(m[f"{key}_recall_at_10"])] for label, key in spec]
    return [*markdown(["MovieLens 100K", "recall@10"], rows), "", provenance("quality")]


def spark_quality() -> list[str]:
    out: list[str] = []
    for data, label in (("lastfm-2k", "Last.fm 2K"), ("movielens-100k", "MovieLens 100K")):
        table = value("spark_als", data)
        rows = [
            [name, *(fmt(table[name][c], f) for c, f in (
                ("test_mse", ".4f"), ("test_rmse", ".4f"), ("recall@10", ".4f"),
                ("ndcg@10", ".4f"), ("train_seconds", ".1f")))]
            for name in ("global mean", "Spark ALS explicit", "ours biased (ALS)",
                         "Spark ALS implicit", "ours implicit (ALS)")
        ]  # fmt: skip
        header = [label, "test MSE", "RMSE", "recall@10", "NDCG@10", "seconds"]
        out += [*markdown(header, rows), ""]
    return [*out, provenance("spark_als")]


# -- performance: one line per benchmark --------------------------------------------------------
def _ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def _cancel(engine: dict) -> float:
    """The slower of an engine's two cancels (neighbour and gradient phases)."""
    return max(engine["cancel_neighbours_s"], engine["cancel_gradient_s"])


PERFORMANCE: dict[str, tuple[str, Callable[[dict], str]]] = {
    "load_speed": ("`load_lastfm` (validate + clean)", lambda r: (
        f"{r['load_lastfm_s']:.2f} s (raw pandas read {r['raw_read_s']:.2f} s); vectorised "
        f"cleaning {_ms(r['clean_vectorised_s'])} vs {_ms(r['clean_loop_s'])} for the literal "
        "loop")),
    "train_speed": ("seconds per gradient step (the chapter's TF1 code as reference)", lambda r: (
        f"run 1: {_ms(r['run1_cf_s'])} vs {_ms(r['run1_dense_s'])} ({r['run1_ratio']:.0f}×); "
        f"run 2: {r['run2_ratio']:.0f}×; run 3 (d=35, L2 + gravity): {r['run3_ratio']:.0f}×; "
        f"the chapter's three runs end to end {r['three_runs_s']:.1f} s; through the "
        f"TrainerWidget {r['widget_run1_s']:.1f}, {r['widget_run2_s']:.1f}, "
        f"{r['widget_run3_s']:.1f} s")),
    "als_speed": ("ALS: time to the gradient descent's loss; implicit ALS against the implicit "
                  "library (same split and objective, fresh processes)", lambda r: (
        f"run 1: ALS {r['run1_als_s']:.1f} s ({r['run1_als_sweeps']} sweeps) vs gradient descent "
        f"{r['run1_gd_s']:.1f} s ({r['run1_speedup']:.1f}×), run 3: {r['run3_speedup']:.1f}×; "
        f"implicit ALS {_ms(r['ours_sweep_s'])} per sweep vs the library's "
        f"{_ms(r['implicit_sweep_s'])} ({r['ours_sweep_s'] / r['implicit_sweep_s']:.2f}× the "
        f"time), recall@10 after 15 sweeps {r['ours_recall']:.4f} vs {r['implicit_recall']:.4f}")),
    "explorer_speed": ("NeighborExplorer, 3 models", lambda r: (
        f"{r['keystroke_ms_median']:.1f} ms per keystroke (max {r['keystroke_ms_max']:.1f} ms), "
        f"toggles {r['toggle_measure_ms']:.1f} / {r['toggle_k_ms']:.1f} ms; the chapter's way "
        f"{r['chapter_way_ms']:.1f} ms")),
    "board_speed": ("ComparisonBoard, 3 runs (against one `evaluate` of the same runs)", lambda r: (
        f"first computation {r['board_first_s']:.1f} s vs evaluate {r['evaluate_s']:.2f} s; "
        f"switching the reference {r['switch_reference_max_s']:.2f} s, k "
        f"{r['switch_k_max_s']:.2f} s; popularity_bias "
        f"{max(r['popularity_bias_s'].values()):.2f} s per model at most")),
    "whatif_speed": ("WhatIfPanel: a slider released to the redraw", lambda r: (
        f"median {r['median_s']:.2f} s (max {r['max_s']:.2f} s) vs {r['retrain_s']:.1f} s to "
        "retrain the chapter's way")),
    "figure_speed": ("the map's spec (17,632 points)", lambda r: (
        f"`Figure` {_ms(r['figure'])}; plain altair {_ms(r['plain_altair'])}, "
        f"{r['inline_values']:.1f} s with the rows inline; curves unvalidated "
        f"{_ms(r['curves_unvalidated'])} vs {_ms(r['curves_validated'])}")),
    "projection_speed": ("t-SNE, the chapter's settings, in the worker process", lambda r: (
        f"openTSNE {r['opentsne']['finish_s']:.1f} s vs scikit-learn {r['sklearn']['finish_s']:.1f}"
        f" s ({r['speedup']:.1f}×); cancel within {_cancel(r['opentsne']):.2f} s; "
        f"PCA {r['pca_s'] * 1000:.0f} ms")),
    "map_browser": ("EmbeddingMap in the browser (PCA, 17,632 artists)", lambda r: (
        f"drawn {r['map_(cold_kernel)']:.1f} s after the cell runs (fresh kernel), "
        f"{r['map_(warm)']:.1f} s after that; plain altair {r['plain_altair']:.1f} s")),
    "replay_browser": ("the map's replay in the browser", lambda r: (
        f"a frame change {r['frame_median_s']:.2f} s (median; max {r['frame_max_s']:.2f} s); "
        f"first paint {r['first_paint_s']:.1f} s")),
    "trainer_browser": ("training watched in JupyterLab (chapter run 1) vs the same widget "
                        "headless", lambda r: (
        f"watched / headless rate {r['ratio']:.2f}; wall clock from the click "
        f"{r['wall_ratio']:.2f}")),
    "map_browser_large": ("the map and the explorer at 160,000 items in the browser", lambda r: (
        f"map drawn {r['map_first_paint']:.1f} s after the cell runs, the kernel free after "
        f"{r['kernel_answers_while_the_map_is_built']:.1f} s; a typed name to neighbour tables "
        f"{r['explorer_type_a_name_to_tables']:.2f} s")),
    "session_soak": ("a session that lasts (50 runs, the widgets following)", lambda r: (
        f"{r['rss_end_mib']:,.0f} MiB at the end, +{r['rss_growth_mib_per_run']:.2f} MiB per run "
        f"over the last 20 (a run's arrays: {r['run_arrays_mib']:.1f} MiB); removing the later "
        f"runs: {r['rss_after_removal_mib']:,.0f} MiB ({r['rss_after_10_mib']:,.0f} after the "
        f"tenth); catch-up {r['catchup_p50_s']:.2f} s p50, {r['catchup_p95_s']:.2f} s p95; "
        f"{r['warnings']} warnings")),
    "load_360k": ("Last.fm-360K loader (synthetic file of the real size and format)", lambda r: (
        f"{r['seconds']:.1f} s and {r['peak_gib']:.2f} GiB peak vs {r['raw_seconds']:.1f} s and "
        f"{r['raw_peak_gib']:.2f} GiB for a plain `pandas.read_csv`")),
    "scale": ("CFModel at the Last.fm-360K shape (360k × 160k, synthetic listens)", lambda r: (
        "; ".join(f"{x['listens']:,} listens {x['seconds_per_step']:.2f} s/step, peak "
                  f"{x['peak_mib'] / 1024:.1f} GiB" for x in r["rows"])
        + f"; +{r['bytes_per_listen']:.0f} bytes per listen")),
    "quality_movielens": ("MovieLens 100K, 5-fold cross-validation", lambda r: (
        f"best {r['best_model']}: RMSE {r['best_rmse']:.4f}, MAE {r['best_mae']:.4f}; bias "
        f"baseline RMSE {r['bias_rmse']:.4f}")),
    "spark_als": ("Spark MLlib's ALS (local) against ours, same split", lambda r: (
        f"Spark's start-up {r['spark_startup_s']:.1f} s; the tables in [Spark](spark.md)")),
    "als_engines": ("the ALS engines on synthetic listens (20,000², 1M, d 32)", lambda r: (
        f"ours {_ms(r['ours_sweep_s'])} per sweep vs the implicit library's "
        f"{_ms(r['implicit_sweep_s'])}")),
    "chapter_tf1": ("the chapter's TF1 loop alone (train_speed's reference)", lambda r: (
        f"{_ms(r['seconds_per_step'])} per step ({r['config']})")),
}  # fmt: skip


def performance() -> list[str]:
    rows = []
    for name, (what, summary) in PERFORMANCE.items():
        rec = record(name)
        if rec is None:
            rows.append([what, f"`{name}.py`", NOT_YET, "–"])
            continue
        when = f"`{rec['commit']}`, {rec['processor']}, {rec['date'][:10]}"
        rows.append([what, f"`{name}.py`", summary(rec["result"]), when])
    return markdown(["what", "benchmark", "figure", "recorded (commit, processor, date)"], rows)


TABLES: dict[str, Callable[[], list[str]]] = {
    "quality-readme": readme_quality,
    "quality-lastfm": lastfm_quality,
    "seen-unseen": seen_unseen,
    "cold-start": cold_start,
    "movielens-ranking": movielens_ranking,
    "spark-quality": spark_quality,
    "performance": performance,
}

BLOCK = re.compile(r"(<!-- table ([\w-]+) -->\n)(.*?)(<!-- /table -->)", re.S)
FIGURE = re.compile(r"(<!-- v (\w+):(.+?):([^:]*?) -->)(.*?)(<!-- /v -->)", re.S)


def render(text: str) -> str:
    """``text`` with every table block and figure made anew."""

    def table(m: re.Match) -> str:
        if m.group(2) not in TABLES:
            raise KeyError(f"no table named {m.group(2)!r} (known: {', '.join(TABLES)})")
        return m.group(1) + "\n".join(TABLES[m.group(2)]()) + "\n" + m.group(4)

    def figure(m: re.Match) -> str:
        return m.group(1) + fmt(value(m.group(2), m.group(3)), m.group(4)) + m.group(6)

    return FIGURE.sub(figure, BLOCK.sub(table, text))


def render_notebook(text: str) -> str:
    """A notebook's markdown cells rendered (its code and outputs untouched)."""
    nb = json.loads(text)
    for c in nb["cells"]:
        if c["cell_type"] == "markdown":
            new = render("".join(c["source"]))
            c["source"] = new.splitlines(keepends=True)
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def stale() -> dict[str, str]:
    """{file: its text as made now} for every file that differs from it."""
    out = {}
    for name in FILES:
        path = ROOT / name
        text = path.read_text()
        new = render_notebook(text) if name.endswith(".ipynb") else render(text)
        if new != text:
            out[name] = new
    return out


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    changed = stale()
    if "--check" in argv:
        if changed:
            sys.exit("made from benchmarks/results, these differ: " + ", ".join(changed))
        return
    for name, text in changed.items():
        (ROOT / name).write_text(text)
        print(f"rewrote {name}")


if __name__ == "__main__":
    main()
