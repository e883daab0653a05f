"""The EmbeddingMap and the NeighborExplorer at Last.fm-360K's catalogue size, in real JupyterLab.

A synthetic dataset of 160,000 items (names, tags, Zipf-like popularity) and random factors
(``Factors``, d=30) stand in for a model trained on Last.fm-360K. Timed from running each cell
to its result on screen: the map drawn (vega's canvas), and the explorer's tables after a name
is typed. While the map draws, another cell is run to check that the kernel answers.
Target: a first paint under 10 s. Run: python benchmarks/map_browser_large.py [--items 160000]
(``--quick``: 2,000 items)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, emit, lab_page, machine, options

sys.path.insert(0, str(ROOT / "tests" / "browser"))
from harness import cell, find_chromium, open_notebook, run_cell
from harness import write_notebook as write

RESULT_KEYS = ("kernel_answers_while_the_map_is_built", "map_first_paint",
               "explorer_type_a_name_to_tables")  # fmt: skip
SETUP = """
import numpy as np, pandas as pd
from mfwidgets import Dataset, EmbeddingMap, Factors, NeighborExplorer
n, rng = {items}, np.random.default_rng(0)
pop = (1.0 / np.arange(1, n + 1) ** 0.9)
users = rng.integers(0, 20_000, 400_000)
items = rng.choice(n, 400_000, p=pop / pop.sum())
tags = pd.DataFrame({{"name": [f"artist {{i}}" for i in range(n)],
                     "tags": [["rock", "pop", "jazz", "metal"][i % 4] for i in range(n)]}})
data = Dataset.from_dataframe(pd.DataFrame({{"u": users, "i": items}}), user="u", item="i",
                              items=tags, item_name="name", item_tags="tags", item_noun="artist",
                              duplicates="sum")
U, V = rng.normal(size=(data.n_users, 30)), rng.normal(size=(data.n_items, 30))
model = Factors(U, V, dataset=data)
data
"""
CELLS = [
    SETUP,
    "import time; t0 = time.time(); emap = EmbeddingMap(data, model); print(f'built in {time.time() - t0:.1f} s'); emap",  # noqa: E501
    "print('kernel answered')",
    "ex = NeighborExplorer(data, model)\nex",
]


def main(argv: list[str] | None = None) -> None:
    from playwright.sync_api import expect

    args = options(__doc__, argv, lambda p: p.add_argument("--items", type=int, default=160_000))
    args.items = 2_000 if args.quick else args.items
    if find_chromium() is None:
        sys.exit("needs a Chromium (see README)")
    cells = [CELLS[0].format(items=args.items), *CELLS[1:]]
    timings = {}
    with lab_page() as (lab, page, blocked):
        write(lab, "large.ipynb", cells)
        root = open_notebook(page, lab, "large.ipynb")
        run_cell(page, 0)
        expect(cell(page, 0).locator(".jp-OutputArea-output")).to_contain_text(
            "Dataset(", timeout=300_000
        )
        t0 = time.perf_counter()
        run_cell(page, 1)
        run_cell(page, 2)
        expect(cell(page, 2).locator(".jp-OutputArea-output")).to_contain_text(
            "kernel answered", timeout=300_000
        )
        timings["kernel answers while the map is built"] = time.perf_counter() - t0
        cell(page, 1).locator("canvas.marks").wait_for(state="visible", timeout=300_000)
        timings["map first paint"] = time.perf_counter() - t0
        cell(page, 1).screenshot(path=str(Path(tempfile.gettempdir()) / "map-160k.png"))
        run_cell(page, 3)
        t0 = time.perf_counter()
        box = page.locator(f"{root} .mf-search input")
        box.wait_for(timeout=120_000)
        box.fill("artist 123")
        expect(page.locator(f"{root} .mf-neighbors tbody tr").first).to_be_visible(timeout=60_000)
        timings["explorer: type a name to tables"] = time.perf_counter() - t0
        assert not blocked, blocked
    print(f"machine: {machine()}; headless Chromium, JupyterLab; {args.items:,} items")
    for label, t in timings.items():
        print(f"{label:40s} {t:6.1f} s")
    emit({k.replace(" ", "_").replace(":", ""): round(v, 2) for k, v in timings.items()},
         __file__, args.quick)  # fmt: skip


if __name__ == "__main__":
    main()
