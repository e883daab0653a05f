"""t-SNE of real artist embeddings: openTSNE (the default) against scikit-learn, same run.

Both run in the worker process with the chapter's settings (cosine, perplexity 40, early
exaggeration 10, PCA init, 400 iterations in all, learning rate 200, seed 0), on the item
embeddings of a regularized model (17,632 × 35). Measured for each engine: seconds to finish,
and the time from setting Cancel to the call returning, with Cancel set in the neighbour phase
(at its first report) and in the gradient phase (at the report nearest half-way). Also the map:
an EmbeddingMap switched to t-SNE, seconds until the map is drawn (headless: the spec is built
and sent; the browser's own paint is ``map_browser.py``'s). Also PCA. Targets (issue 18): a
cancel within 1 s in every phase. Run: python benchmarks/projection_speed.py
"""

from __future__ import annotations

import sys
import threading
import time

from _common import data_source, emit, first_items, machine, options

from mfwidgets import CFModel, EmbeddingMap, build_regularized_model, load_lastfm
from mfwidgets.analysis.projection import ProjectionCancelled, project


def cancel_latency(emb, engine: str, phase: str) -> float:
    """Seconds from Cancel to the call returning, Cancel set in ``phase``."""
    cancel = threading.Event()
    when: list[float] = []

    def progress(fraction: float, message: str) -> None:
        hit = "neighbour" in message if phase == "neighbours" else fraction >= 0.5
        if hit and not cancel.is_set():
            when.append(time.perf_counter())
            cancel.set()

    try:
        project(emb, "tsne", 0, progress=progress, cancel=cancel, engine=engine)
    except ProjectionCancelled:
        return time.perf_counter() - when[0]
    raise RuntimeError(f"{engine}: the {phase} phase was never reported")


def map_first_tsne(data, model, engine: str) -> float:
    emap = EmbeddingMap(data, {"reg": model}, tsne_engine=engine)
    t0 = time.perf_counter()
    emap.method.value = "tsne"
    emap.wait()
    assert emap.status.level == "ok", emap.status.text
    return time.perf_counter() - t0


RESULT_KEYS = ("pca_s", "sklearn", "opentsne", "speedup")


def main(argv: list[str] | None = None) -> None:
    args = options(__doc__, argv)
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    data = load_lastfm(src)
    if args.quick:  # a smoke run: 150 artists, a few steps
        data = first_items(data, 150)
        model = CFModel.from_listens(data, holdout_fraction=0.1, seed=0, kind="regularized",
                                     embedding_dim=35, init_stddev=0.05)  # fmt: skip
        model.train(num_iterations=5, learning_rate=20.0)
    else:
        model = build_regularized_model(data.listens, 35, 0.1, 1.0, 0.05, seed=0)
        model.train(num_iterations=500, learning_rate=20.0)
    emb = model.item_factors
    print(f"machine: {machine()}; {emb.shape[0]:,} artists x d={emb.shape[1]}")
    t0 = time.perf_counter()
    project(emb, "pca", seed=0)
    out = {"pca_s": time.perf_counter() - t0}
    print(f"PCA: {out['pca_s'] * 1000:.0f} ms")
    for engine in ("sklearn", "opentsne"):
        reports: list[float] = []
        t0 = time.perf_counter()
        project(emb, "tsne", 0, engine=engine, progress=lambda f, m, r=reports: r.append(f))
        finish = time.perf_counter() - t0
        cancels = {p: cancel_latency(emb, engine, p) for p in ("neighbours", "gradient")}
        shown = map_first_tsne(data, model, engine)
        out[engine] = {"finish_s": finish, "reports": len(reports), "map_tsne_s": shown,
                       **{f"cancel_{p}_s": v for p, v in cancels.items()}}  # fmt: skip
        print(f"{engine:9s}: finished in {finish:5.1f} s ({len(reports)} progress reports); "
              f"cancel in the neighbour phase {cancels['neighbours']:.2f} s, in the gradient "
              f"phase {cancels['gradient']:.2f} s; the map's t-SNE drawn {shown:5.1f} s after "
              "the switch")  # fmt: skip
    ratio = out["sklearn"]["finish_s"] / out["opentsne"]["finish_s"]
    print(f"openTSNE is {ratio:.1f}x as fast as scikit-learn here")
    out["speedup"] = ratio
    emit(out, __file__, args.quick)


if __name__ == "__main__":
    main()
