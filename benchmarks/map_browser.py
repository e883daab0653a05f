"""Time from running a cell to the PCA EmbeddingMap drawn in real JupyterLab (headless Chromium).

Needs the real data and a Chromium (as the browser tests). Three cells are timed, each from the
moment the cell is run to vega's canvas being visible in its output: the first map in a fresh
kernel (cold: the offline vega bundle is built once per kernel), a second map (warm), and as the
baseline of the same run, the same 17,632 points drawn the plain altair way (a DataFrame chart
shown through an offline JupyterChart with altair's row limit lifted in a `with` block).
Target: the PCA map in under 3 s. Run: python benchmarks/map_browser.py (``--quick``: random
factors instead of the 101 training steps)
"""

from __future__ import annotations

import sys
import time

from _common import ROOT, data_source, emit, lab_page, machine, options

sys.path.insert(0, str(ROOT / "tests" / "browser"))
from harness import cell, find_chromium, open_notebook, run_cell, write_notebook

RESULT_KEYS = ("map_(cold_kernel)", "map_(warm)", "plain_altair")

CELLS = [
    "import altair as alt, numpy as np, pandas as pd\n"
    "from mfwidgets import EmbeddingMap, build_model, load_lastfm\n"
    "data = load_lastfm()\n"
    "model = build_model(data.listens, embedding_dim=30, init_stddev=0.05, seed=0)\n"
    "model.train(num_iterations=100, learning_rate=10.0)",
    "emap = EmbeddingMap(data, {'model': model})\nemap",
    "emap2 = EmbeddingMap(data, {'model': model})\nemap2",
    "pts = emap.points\n"
    "with alt.data_transformers.disable_max_rows():\n"
    "    plain = alt.JupyterChart(alt.Chart(pts).mark_circle().encode(\n"
    "        x='x:Q', y='y:Q', color='tag:N', size='n_users:Q',\n"
    "        tooltip=['name', 'tags', 'n_users', 'norm']),\n"
    "        embed_options={'renderer': 'canvas'})\n"
    "plain",
]


QUICK_MODEL = (
    "import altair as alt, numpy as np, pandas as pd\n"
    "from mfwidgets import EmbeddingMap, Factors, load_lastfm\n"
    "data = load_lastfm()\n"
    "rng = np.random.default_rng(0)\n"
    "model = Factors(rng.normal(size=(data.n_users, 30)), rng.normal(size=(data.n_items, 30)),\n"
    "                dataset=data)"
)


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv)
    if data_source() is None or find_chromium() is None:
        sys.exit("needs MFWIDGETS_DATA and a Chromium (see README)")
    timings = {}
    cells = [QUICK_MODEL, *CELLS[1:]] if args.quick else CELLS
    with lab_page() as (lab, page, blocked):
        write_notebook(lab, "bench.ipynb", cells)
        open_notebook(page, lab, "bench.ipynb")
        run_cell(page, 0)
        wait_all_executed_first(page)
        for index, label in ((1, "map (cold kernel)"), (2, "map (warm)"), (3, "plain altair")):
            t0 = time.perf_counter()
            run_cell(page, index)
            cell(page, index).locator("canvas.marks").wait_for(state="visible", timeout=120_000)
            timings[label] = time.perf_counter() - t0
        assert not blocked, blocked
    print(f"machine: {machine()}; headless Chromium, JupyterLab, 17,632 artists")
    base = timings["plain altair"]
    for label, t in timings.items():
        print(f"{label:20s}: {t:5.2f} s from running the cell to the drawn canvas "
              f"({t / base:.2f}x the plain altair chart)")  # fmt: skip
    emit({k.replace(" ", "_"): round(v, 3) for k, v in timings.items()}, __file__, args.quick)


def wait_all_executed_first(page) -> None:
    """Wait until the set-up cell (data, model, TensorFlow) has run."""
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
        const p = w.node.querySelector('.jp-CodeCell .jp-InputArea-prompt').textContent;
        return /\\[\\d+\\]/.test(p) && w.sessionContext.session.kernel.status === 'idle'; }""",
        timeout=180_000,
    )


if __name__ == "__main__":
    main()
