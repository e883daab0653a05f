"""Projections: shapes, seeds, cache, progress and cancel of the t-SNE worker."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from mfwidgets.analysis.projection import ProjectionCache, ProjectionCancelled, project
from mfwidgets.models import Factors


@pytest.fixture
def emb():
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 3, (3, 6))
    return np.concatenate([c + rng.normal(0, 0.3, (40, 6)) for c in centers])


def test_pca_shape_determinism_and_cache(emb):
    cache = ProjectionCache()
    a = project(emb, "pca", seed=0, cache=cache)
    b = project(emb, "pca", seed=0, cache=cache)
    assert a.shape == (120, 2) and cache.hits == 1
    np.testing.assert_array_equal(a, b)
    b[0, 0] = 99.0  # callers get copies; the cache is not corrupted
    np.testing.assert_array_equal(project(emb, "pca", seed=0, cache=cache), a)
    # the projection keeps the three clusters apart
    centers = [a[k * 40 : (k + 1) * 40].mean(0) for k in range(3)]
    assert min(np.linalg.norm(centers[i] - centers[j]) for i, j in [(0, 1), (0, 2), (1, 2)]) > 1


@pytest.mark.parametrize("engine", ["opentsne", "sklearn"])
def test_tsne_in_a_worker_reports_progress_and_is_seeded(emb, engine):
    seen = []
    a = project(emb, "tsne", seed=3, perplexity=10, max_iter=300, engine=engine,
                progress=lambda f, m: seen.append(f))  # fmt: skip
    b = project(emb, "tsne", seed=3, perplexity=10, max_iter=300, engine=engine)
    assert a.shape == (120, 2)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 3
    labels = np.repeat(np.arange(3), 40)
    centers = np.array([a[labels == k].mean(0) for k in range(3)])
    within = np.mean([np.linalg.norm(a[labels == k] - centers[k], axis=1).mean() for k in range(3)])
    assert np.linalg.norm(centers[0] - centers[1]) > 2 * within  # clusters stay apart


@pytest.mark.parametrize("engine", ["opentsne", "sklearn"])
def test_cancel_stops_the_worker(emb, engine):
    big = np.tile(emb, (40, 1)) + np.random.default_rng(1).normal(0, 0.01, (4800, 6))
    cancel = threading.Event()
    phases = []

    def progress(fraction, message):  # cancel at the first report: the neighbour phase
        phases.append(message)
        cancel.set()

    with pytest.raises(ProjectionCancelled):
        project(big, "tsne", seed=0, progress=progress, cancel=cancel, engine=engine)
    assert "neighbour" in phases[0]


def test_opentsne_is_the_default_and_differs_from_sklearn(emb):
    a = project(emb, "tsne", seed=0, perplexity=10)
    assert np.allclose(a, project(emb, "tsne", seed=0, perplexity=10, engine="opentsne"))
    assert not np.allclose(a, project(emb, "tsne", seed=0, perplexity=10, engine="sklearn"))
    with pytest.raises(ValueError, match="engine must be 'opentsne' or 'sklearn'"):
        project(emb, "tsne", engine="umap")
    with pytest.raises(TypeError, match="angle is a setting of engine='sklearn'"):
        project(emb, "tsne", angle=0.3)


def test_model_input_and_bad_arguments(emb):
    model = Factors(np.ones((2, emb.shape[1])), emb)
    np.testing.assert_allclose(project(model, "pca"), project(emb, "pca"), atol=1e-6)
    with pytest.raises(ValueError, match="method"):
        project(emb, "umap")
    with pytest.raises(ValueError, match="perplexity"):
        project(emb, "tsne", perplexity=500)
    with pytest.raises(TypeError, match="setting"):
        project(emb, "tsne", n_iter=300)
    with pytest.raises(TypeError, match="pca takes no settings"):
        project(emb, "pca", perplexity=5)
    with pytest.raises(ValueError, match="shape"):
        project(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        project(np.full((5, 2), np.nan))
    with pytest.raises(TypeError, match="seed"):
        project(emb, seed="0")


def test_the_tsne_worker_exits_when_its_parent_dies(tmp_path):
    """A killed kernel must not leave a t-SNE worker running."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil  # installed with ipykernel, so always here in the test environment

    script = tmp_path / "parent.py"
    script.write_text(
        "import numpy as np\n"
        "from mfwidgets.analysis.projection import project\n"
        "x = np.random.default_rng(0).normal(size=(6000, 8))\n"
        "project(x, 'tsne', seed=0)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 60
        worker = None
        while worker is None and time.monotonic() < deadline:
            kids = psutil.Process(parent.pid).children()
            worker = next(
                (k for k in kids if "mfwidgets.analysis.projection" in " ".join(k.cmdline())), None
            )
            time.sleep(0.1)
        assert worker is not None, "the worker did not start"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        _, alive = psutil.wait_procs([worker], timeout=10)
        assert not alive, "the t-SNE worker outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
