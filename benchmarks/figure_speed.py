"""Does ``charts.Figure`` still pay? The map's spec built three ways, in the same run.

On the real map table (17,632 points): (a) a Figure, as the EmbeddingMap builds it; (b) plain
altair with the DataFrame, altair's 5,000-row limit lifted in a ``with`` block (without it altair
raises MaxRowsError); (c) plain altair with the rows given as ``alt.Data(values=...)``, which
altair validates row by row. Each is timed to the full Vega-Lite dict. Also the training curves'
redraw: a validated spec against an unvalidated one (what LiveChart sends).
Run: python benchmarks/figure_speed.py
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from _common import data_source, emit, machine, options, timeit

from mfwidgets import load_lastfm
from mfwidgets.analysis import map_points
from mfwidgets.charts import embedding_map_chart, training_charts
from mfwidgets.charts.figure import records

RESULT_KEYS = ("figure", "plain_altair", "inline_values", "curves_validated",
               "curves_unvalidated")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv)
    few = args.quick  # a smoke run: one call of each
    data = load_lastfm(data_source())
    rng = np.random.default_rng(0)
    pts = map_points(data, rng.normal(size=(data.n_items, 2)), rng.random(data.n_items), 12)
    encode = {
        "x": "x:Q", "y": "y:Q", "color": "tag:N", "size": "n_users:Q",
        "tooltip": ["name:N", "tags:N", "n_users:Q", "norm:Q"],
    }  # fmt: skip

    def figure() -> dict:
        return embedding_map_chart(pts).to_dict()

    def plain() -> dict:
        with alt.data_transformers.disable_max_rows():
            return alt.Chart(pts).mark_circle().encode(**encode).to_dict()

    def inline() -> dict:
        return alt.Chart(alt.Data(values=records(pts))).mark_circle().encode(**encode).to_dict()

    t = {
        "figure": timeit(figure, 1 if few else 5),
        "plain_altair": timeit(plain, 1 if few else 5),
        "inline_values": timeit(inline, 1 if few else 2),
    }
    hist = pd.DataFrame({c: rng.random(100) for c in ("train_error", "test_error")})
    hist["iteration"] = np.arange(0, 1000, 10)
    (curves,) = training_charts(hist, baseline=0.4)
    t["curves_validated"] = timeit(lambda: curves.to_dict(), 2 if few else 20)
    t["curves_unvalidated"] = timeit(lambda: curves.to_dict(validate=False), 2 if few else 20)
    print(f"machine: {machine()}; {len(pts):,} map points; median seconds")
    for name, seconds in t.items():
        print(f"{name:20s} {seconds * 1000:8.1f} ms")
    print(f"plain altair / Figure: {t['plain_altair'] / t['figure']:.2f}x; "
          f"alt.Data(values) / Figure: {t['inline_values'] / t['figure']:.1f}x; "
          f"validated / unvalidated curves: "
          f"{t['curves_validated'] / t['curves_unvalidated']:.1f}x")  # fmt: skip
    emit({k: round(v, 4) for k, v in t.items()}, __file__, args.quick)


if __name__ == "__main__":
    main()
