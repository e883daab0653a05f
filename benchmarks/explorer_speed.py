"""Kernel-side time of one NeighborExplorer keystroke or toggle, real data, three models.

The three models have the chapter's shapes (d = 30, 30, 35; briefly trained: the timing does not
depend on quality). Each event is timed end to end in the kernel: lookup, scores, tables, HTML.
Baseline in the same run: the chapter's way of answering one query for three models and both
measures (pandas substring search over all names, then compute_scores with the cosine
normalisation redone every time). Target: under 50 ms per event.
Run: python benchmarks/explorer_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time

from _common import data_source, emit, machine, options, timeit

from mfwidgets import build_model, build_regularized_model, compute_scores, load_lastfm
from mfwidgets.widgets.neighbors import NeighborExplorer

RESULT_KEYS = ("keystroke_ms_median", "keystroke_ms_max", "toggle_measure_ms", "toggle_k_ms",
               "toggle_show_query_ms", "select_both_ms", "chapter_way_ms")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv)
    rounds = 1 if args.quick else 3
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    data = load_lastfm(src)
    models = {
        "model": build_model(data.listens, 30, 0.5, seed=0),
        "model_lowinit": build_model(data.listens, 30, 0.05, seed=0),
        "reg_model": build_regularized_model(data.listens, 35, 0.1, 1.0, 0.05, seed=0),
    }
    for m in models.values():
        m.train(num_iterations=20, learning_rate=10.0)
    ex = NeighborExplorer(data, models)
    ex.search.value = "x"  # warm up
    prefixes = ["c", "co", "col", "cold", "coldp", "coldpl", "coldpla", "coldplay"]
    keystroke = []
    for _ in range(rounds):
        for p in prefixes:
            t0 = time.perf_counter()
            ex.search.value = p
            keystroke.append(time.perf_counter() - t0)
    toggles = {}
    for name, (widget, values) in {
        "measure": (ex.measure, ["cosine", "both", "dot"]),
        "k": (ex.k, [10, 20, 6]),
        "show query": (ex.show_query, [False, True]),
    }.items():
        times = []
        for _ in range(rounds):
            for v in values:
                t0 = time.perf_counter()
                widget.value = v
                times.append(time.perf_counter() - t0)
        toggles[name] = statistics.median(times)
    ex.measure.value = "both"
    both = timeit(lambda: ex.select("Coldplay"), rounds)

    names = data.artists["name"]

    def chapter_way():
        ids = names[names.str.contains("Coldplay")].index.to_numpy()
        for m in models.values():
            V = m.item_factors
            for measure in ("dot", "cosine"):
                scores = compute_scores(V[ids[0]], V, measure)
                scores.argsort()[::-1][:6]

    base = timeit(chapter_way, rounds)
    print(f"machine: {machine()}; 3 models, {data.n_artists:,} artists")
    print(f"keystroke (median of {len(keystroke)}): {statistics.median(keystroke) * 1000:.1f} ms, "
          f"max {max(keystroke) * 1000:.1f} ms")  # fmt: skip
    for name, t in toggles.items():
        print(f"toggle {name:10s}: {t * 1000:.1f} ms")
    print(f"select(), 3 models x both measures: {both * 1000:.1f} ms")
    print(f"chapter's way, same query (3 models x 2 measures): {base * 1000:.1f} ms "
          f"-> explorer/chapter ratio {both / base:.2f}")  # fmt: skip
    emit(
        {
            "keystroke_ms_median": round(statistics.median(keystroke) * 1000, 2),
            "keystroke_ms_max": round(max(keystroke) * 1000, 2),
            **{f"toggle_{k.replace(' ', '_')}_ms": round(v * 1000, 2) for k, v in toggles.items()},
            "select_both_ms": round(both * 1000, 2),
            "chapter_way_ms": round(base * 1000, 2),
        },
        __file__,
        args.quick,
    )


if __name__ == "__main__":
    main()
