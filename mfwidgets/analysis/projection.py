"""2-D projections of embeddings (no widgets): PCA at once, t-SNE with progress and cancel.

t-SNE takes the chapter's settings as defaults (cosine metric, perplexity 40, early exaggeration
10, PCA init, 400 iterations in all, learning rate 200) and a seed, with one of two engines:

- ``engine="opentsne"`` (the default): openTSNE with exact nearest neighbours and its own choice
  of gradients (Barnes-Hut under 10,000 points, FFT-accelerated above: at 120 points 0.15 s
  instead of 7 s); its 400 iterations are split as the chapter's were (250 exaggerated, then
  150);
- ``engine="sklearn"``: scikit-learn's TSNE, the chapter's own code path (Barnes-Hut).

Either runs in a worker process: its progress lines (openTSNE's callback every 10 iterations,
scikit-learn's verbose output) become progress reports, terminating the process cancels it in
any phase (the neighbour search included, which has no callback), and the notebook kernel stays
free meanwhile. Results are cached by (embeddings, method, seed, settings) in a
:class:`ProjectionCache`.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_seed
from ..models.contract import Recommender, check_model

METHODS = ("pca", "tsne")
ENGINES = ("opentsne", "sklearn")
#: the chapter's tsne_artist_embeddings settings (n_iter is called max_iter in scikit-learn now)
TSNE_DEFAULTS: dict[str, Any] = {
    "perplexity": 40.0,
    "metric": "cosine",
    "early_exaggeration": 10.0,
    "init": "pca",
    "max_iter": 400,
    "learning_rate": 200.0,
    "engine": "opentsne",
}
#: the chapter's (scikit-learn's) split of the iterations: exaggerated first, then the rest
EXAGGERATED_ITERATIONS = 250
Progress = Callable[[float, str], None]


class ProjectionCancelled(Exception):
    """The projection was cancelled before it finished."""


class ProjectionCache:
    """Projections keyed by a digest of the embeddings plus method, seed and settings (LRU)."""

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self.size = size
        self.hits = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(embeddings: np.ndarray, method: str, seed: int | None, settings: dict) -> tuple:
        arr = np.ascontiguousarray(embeddings, dtype=np.float32)
        digest = hashlib.sha1(arr.tobytes()).hexdigest() + str(arr.shape)
        return digest, method, seed, json.dumps(settings, sort_keys=True, default=str)

    def get(self, key: tuple) -> np.ndarray | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: tuple, value: np.ndarray) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _as_array(embeddings: Any) -> np.ndarray:
    if isinstance(embeddings, Recommender):  # a model: its item embeddings
        embeddings = check_model(embeddings, factors=True, needs="a map").item_factors
    arr = np.asarray(embeddings, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 3:
        raise ValueError(f"embeddings must have shape (n >= 3, d), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("embeddings contain NaN or infinite values")
    return arr


def project(
    embeddings: Any,
    method: str = "pca",
    seed: int | None = None,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    cache: ProjectionCache | None = None,
    **settings: Any,
) -> np.ndarray:
    """An (n, 2) projection of ``embeddings`` ((n, d) array, or a model's item embeddings).

    ``method``: "pca" or "tsne" (``settings`` override :data:`TSNE_DEFAULTS`, ``engine`` among
    them: "opentsne" or "sklearn"). ``progress`` is
    called with (fraction done, message); setting ``cancel`` stops t-SNE and raises
    :class:`ProjectionCancelled`. With a ``cache``, equal inputs return the stored result.
    """
    if method not in METHODS:
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    check_seed(seed)
    arr = _as_array(embeddings)
    if method == "pca" and settings:
        raise TypeError(f"pca takes no settings, got {', '.join(settings)}")
    unknown = set(settings) - set(TSNE_DEFAULTS) - {"angle", "n_jobs"}
    if unknown:
        raise TypeError(f"unknown t-SNE setting(s) {', '.join(sorted(unknown))}")
    full = TSNE_DEFAULTS | settings if method == "tsne" else {}
    if method == "tsne" and full["engine"] not in ENGINES:
        raise ValueError(f"engine must be 'opentsne' or 'sklearn', got {full['engine']!r}")
    if method == "tsne" and full["engine"] == "opentsne" and "angle" in settings:
        raise TypeError("angle is a setting of engine='sklearn' (Barnes-Hut) only")
    if method == "tsne" and not 0 < float(full["perplexity"]) < arr.shape[0]:
        raise ValueError(f"perplexity must lie in (0, {arr.shape[0]}), got {full['perplexity']}")
    key = ProjectionCache.key(arr, method, seed, full) if cache is not None else None
    if cache is not None and (hit := cache.get(key)) is not None:
        if progress:
            progress(1.0, "cached")
        return hit.copy()
    if method == "pca":
        from sklearn.decomposition import PCA

        out = PCA(n_components=2, random_state=seed).fit_transform(arr)
        if progress:
            progress(1.0, "done")
    else:
        out = _tsne_in_worker(arr, seed, full, progress, cancel)
    if cache is not None:
        cache.put(key, out)
    return out.copy()


def replay_frames(item_factors: list[Any]) -> list[np.ndarray]:
    """(n, 2) coordinates of each snapshot's item factors in one fixed frame: the PCA axes
    (and centre) of the last snapshot, applied to every one, so motion on screen is motion of
    the factors along the final map's axes (never a re-fitted projection's own drift)."""
    if not item_factors:
        raise ValueError("item_factors is empty: no snapshot to replay")
    from sklearn.decomposition import PCA

    final = np.asarray(item_factors[-1], dtype=np.float64)
    pca = PCA(n_components=2, random_state=0).fit(final)
    return [pca.transform(np.asarray(v, dtype=np.float64)) for v in item_factors]


# ------------------------------------------------------------------------------------------------
# the t-SNE worker process
# ------------------------------------------------------------------------------------------------
_NEIGHBOURS = re.compile(r"conditional probabilities for sample (\d+) / (\d+)")
_SEARCH = "nearest neighbours:"  # openTSNE's search has no callback: one line when it starts
_ITERATION = re.compile(r"Iteration (\d+):")
#: share of the work before the gradient iterations (nearest neighbours + probabilities)
_SETUP_SHARE = 0.15


def _tsne_in_worker(
    arr: np.ndarray,
    seed: int | None,
    settings: dict[str, Any],
    progress: Progress | None,
    cancel: threading.Event | None,
) -> np.ndarray:
    with tempfile.TemporaryDirectory(prefix="mfwidgets-tsne-") as tmp:
        src, dst = Path(tmp) / "in.npy", Path(tmp) / "out.npy"
        np.save(src, arr)
        job = json.dumps({"seed": seed, "settings": settings})
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "mfwidgets.analysis.projection", str(src), str(dst), job],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        if cancel is not None:  # a watcher terminates the worker as soon as cancel is set
            threading.Thread(target=_watch, args=(proc, cancel), daemon=True).start()
        lines: list[str] = []
        total = int(settings["max_iter"])
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if progress is None:
                continue
            if line.startswith(_SEARCH):
                progress(0.0, line.strip())
            elif m := _NEIGHBOURS.search(line):
                done, n = int(m.group(1)), int(m.group(2))
                progress(_SETUP_SHARE * done / n, f"neighbour probabilities {done}/{n}")
            elif m := _ITERATION.search(line):
                it = int(m.group(1))
                frac = _SETUP_SHARE + (1 - _SETUP_SHARE) * min(it / total, 1.0)
                progress(frac, f"t-SNE iteration {it}/{total}")
        code = proc.wait()
        if cancel is not None and cancel.is_set():
            raise ProjectionCancelled("t-SNE was cancelled")
        if code != 0 or not dst.exists():
            tail = "".join(lines[-5:]).strip()
            raise RuntimeError(f"t-SNE worker failed (exit {code}): {tail}")
        out = np.load(dst)
    if progress:
        progress(1.0, "done")
    return out


def _watch(proc: subprocess.Popen, cancel: threading.Event) -> None:
    while proc.poll() is None:
        if cancel.wait(0.1):
            proc.terminate()
            return


def _exit_with_parent() -> None:
    """In the worker: stop when the process that started it (the kernel) is gone."""
    import os
    import time

    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _worker(src: str, dst: str, job: str) -> None:
    """Run in the worker process: t-SNE with progress lines on stdout; the result saved
    atomically."""
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    spec = json.loads(job)
    settings = dict(spec["settings"])
    engine = settings.pop("engine")
    arr = np.load(src)
    if engine == "sklearn":
        from sklearn.manifold import TSNE

        out = TSNE(n_components=2, random_state=spec["seed"], verbose=2, **settings).fit_transform(
            arr
        )
    else:
        out = _opentsne(arr, spec["seed"], settings)
    tmp = dst + ".part"
    with open(tmp, "wb") as fh:
        np.save(fh, out)
    Path(tmp).replace(dst)


def _tell_parent(line: str) -> None:
    """In the worker: one line on stdout, the pipe the parent turns into progress callbacks."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _opentsne(arr: np.ndarray, seed: int | None, settings: dict[str, Any]) -> np.ndarray:
    """openTSNE with the chapter's settings; prints "Iteration n:" every 10 iterations."""
    from openTSNE import TSNE

    total = int(settings["max_iter"])
    early = min(EXAGGERATED_ITERATIONS, total)
    done = [0]

    def report(iteration: int, error: float, embedding: Any) -> None:
        done[0] += 10  # (openTSNE counts each phase from zero)
        _tell_parent(f"Iteration {done[0]}: KL divergence {error:.4f}")

    _tell_parent(f"{_SEARCH} exact, {arr.shape[0]} points")
    tsne = TSNE(
        n_components=2, perplexity=settings["perplexity"], metric=settings["metric"],
        early_exaggeration=settings["early_exaggeration"], early_exaggeration_iter=early,
        n_iter=total - early, initialization=settings["init"],
        learning_rate=settings["learning_rate"], neighbors="exact",
        negative_gradient_method="auto", n_jobs=int(settings.get("n_jobs") or 1),
        random_state=seed, callbacks=report, callbacks_every_iters=10,
    )  # fmt: skip
    return np.asarray(tsne.fit(arr))


if __name__ == "__main__":
    _worker(*sys.argv[1:4])
