"""PCA and t-SNE of real artist embeddings; t-SNE in the worker against scikit-learn in-process.

t-SNE runs with the chapter's settings (cosine, perplexity 40, early exaggeration 10, PCA init,
400 iterations, learning rate 200). The baseline of the same run is scikit-learn's TSNE called
in-process with the same settings (what the chapter did, blocking the kernel): the ratio shows
what the worker process (progress, cancel, a free kernel) costs. Run:
python benchmarks/projection_speed.py
"""

from __future__ import annotations

import sys
import time

from _common import data_source, emit, machine

from mfwidgets import build_regularized_model, load_lastfm
from mfwidgets.analysis.projection import TSNE_DEFAULTS, project


def main() -> None:
    src = data_source()
    if src is None:
        sys.exit("set MFWIDGETS_DATA to the hetrec2011-lastfm-2k folder")
    data = load_lastfm(src)
    model = build_regularized_model(data.listens, 35, 0.1, 1.0, 0.05, seed=0)
    model.train(num_iterations=500, learning_rate=20.0)
    emb = model.item_factors
    t0 = time.perf_counter()
    project(emb, "pca", seed=0)
    t_pca = time.perf_counter() - t0
    steps = []
    t0 = time.perf_counter()
    project(emb, "tsne", seed=0, progress=lambda f, m: steps.append(f))
    t_worker = time.perf_counter() - t0
    from sklearn.manifold import TSNE

    t0 = time.perf_counter()
    TSNE(n_components=2, random_state=0, **TSNE_DEFAULTS).fit_transform(emb)
    t_inproc = time.perf_counter() - t0
    print(f"machine: {machine()}; {emb.shape[0]:,} artists x d={emb.shape[1]}")
    print(f"PCA: {t_pca * 1000:.0f} ms")
    print(f"t-SNE in the worker (progress reports: {len(steps)}): {t_worker:.1f} s")
    print(f"t-SNE in-process, scikit-learn (the chapter's way): {t_inproc:.1f} s "
          f"-> worker/in-process {t_worker / t_inproc:.2f}")  # fmt: skip
    emit({"pca_s": round(t_pca, 3), "tsne_worker_s": round(t_worker, 2),
          "tsne_inprocess_s": round(t_inproc, 2), "progress_reports": len(steps)})  # fmt: skip


if __name__ == "__main__":
    main()
