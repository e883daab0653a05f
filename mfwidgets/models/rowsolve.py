"""ALS row solves on the CPU, compiled by numba: every row's system built from its own pairs,
rows in parallel, nothing per pair kept.

TensorFlow solves all rows at once by gathering a factor row per observed pair (pairs × d floats,
several times over): cheap at the chapter's size, gigabytes at Last.fm-360K's. Here each thread
works on one row at a time with O(d²) scratch, reading the other side's factors in place through
the pairs' CSR order — what the implicit library's CPU solver does. LLVM compiles the loops for
the processor it runs on (its own vector instructions), so the speed does not hang on one
vendor's library. The arithmetic is :mod:`.als`'s (TensorFlow's path, kept for GPUs):
the same systems, the same conjugate-gradient steps from the same start.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - numba comes with the cpu extra
    numba = None

#: numba's default thread pool must not run two parallel kernels at once (two models training
#: in two threads): one kernel at a time per process
_LAUNCH = threading.Lock()
#: reassociation lets LLVM vectorise the dot products; NaN and Inf keep their meaning (a
#: diverging run must still show them)
_FAST = {"reassoc", "contract", "nsz", "arcp"}


def available() -> bool:
    """True when numba is installed (the ``cpu`` extra brings it)."""
    return numba is not None


def _jit(fn):
    return numba.njit(parallel=True, fastmath=_FAST, cache=True, nogil=True)(fn)


def _cg_rows(indptr, cols, pair, Y, G, w, t, X0, prior, steps, out):  # pragma: no cover (numba)
    n, d = X0.shape
    has_prior = prior.shape[0] > 0
    for r in numba.prange(n):
        x = X0[r].copy()
        res = np.empty(d, np.float32)
        # res = b − A·x, with A·x = x·G + Σ_j w_j (y_j·x) y_j and b = Σ_j t_j y_j (+ prior)
        for b in range(d):  # (G is symmetric: x·G = G·x, read along G's rows)
            s = np.float32(0.0)
            for a in range(d):
                s += G[b, a] * x[a]
            res[b] = (prior[r, b] if has_prior else np.float32(0.0)) - s
        for k in range(indptr[r], indptr[r + 1]):
            y = Y[cols[k]]
            s = np.float32(0.0)
            for a in range(d):
                s += y[a] * x[a]
            coef = t[pair[k]] - w[pair[k]] * s
            for a in range(d):
                res[a] += coef * y[a]
        p = res.copy()
        rs = np.float32(0.0)
        for a in range(d):
            rs += res[a] * res[a]
        Ap = np.empty(d, np.float32)
        for _ in range(steps):
            for b in range(d):
                s = np.float32(0.0)
                for a in range(d):
                    s += G[b, a] * p[a]
                Ap[b] = s
            for k in range(indptr[r], indptr[r + 1]):
                y = Y[cols[k]]
                s = np.float32(0.0)
                for a in range(d):
                    s += y[a] * p[a]
                s *= w[pair[k]]
                for a in range(d):
                    Ap[a] += s * y[a]
            pAp = np.float32(0.0)
            for a in range(d):
                pAp += p[a] * Ap[a]
            alpha = rs / pAp if pAp != 0 else np.float32(0.0)  # (a solved row: keep it)
            rs_new = np.float32(0.0)
            for a in range(d):
                x[a] += alpha * p[a]
                res[a] -= alpha * Ap[a]
                rs_new += res[a] * res[a]
            beta = rs_new / rs if rs != 0 else np.float32(0.0)
            for a in range(d):
                p[a] = res[a] + beta * p[a]
            rs = rs_new
        out[r] = x


def _exact_rows(indptr, cols, pair, Y, G, w, t, prior, out):  # pragma: no cover (numba)
    n, d = out.shape
    has_prior = prior.shape[0] > 0
    for r in numba.prange(n):
        if indptr[r] == indptr[r + 1]:  # no pairs: 0, as the TensorFlow path leaves it
            for a in range(d):
                out[r, a] = 0.0
            continue
        A = np.empty((d, d), np.float64)  # the lower triangle of G + Σ_j w_j y_j y_jᵀ
        rhs = np.zeros(d, np.float64)
        y = np.empty(d, np.float64)
        for a in range(d):
            for b in range(a + 1):
                A[a, b] = G[a, b]
            if has_prior:
                rhs[a] = prior[r, a]
        for k in range(indptr[r], indptr[r + 1]):
            for a in range(d):
                y[a] = Y[cols[k], a]
            wk, tk = np.float64(w[pair[k]]), np.float64(t[pair[k]])
            for a in range(d):
                wy = wk * y[a]
                for b in range(a + 1):
                    A[a, b] += wy * y[b]
                rhs[a] += tk * y[a]
        for j in range(d):  # Cholesky, in place: A = L·Lᵀ
            s = A[j, j]
            for m in range(j):
                s -= A[j, m] * A[j, m]
            A[j, j] = np.sqrt(s)
            for i in range(j + 1, d):
                s = A[i, j]
                for m in range(j):
                    s -= A[i, m] * A[j, m]
                A[i, j] = s / A[j, j]
        for i in range(d):  # L·z = rhs, then Lᵀ·x = z
            s = rhs[i]
            for m in range(i):
                s -= A[i, m] * rhs[m]
            rhs[i] = s / A[i, i]
        for i in range(d - 1, -1, -1):
            s = rhs[i]
            for m in range(i + 1, d):
                s -= A[m, i] * rhs[m]
            rhs[i] = s / A[i, i]
        for a in range(d):
            out[r, a] = rhs[a]


def csr_order(rows: np.ndarray, cols: np.ndarray, n_rows: int) -> tuple[np.ndarray, ...]:
    """The pairs (rows[k], cols[k]) grouped by row: (order, indptr, cols in that order), where
    ``order[j]`` is the pair at CSR position j and row r's pairs are ``indptr[r]:indptr[r + 1]``
    (int32 positions while they fit)."""
    index = np.int32 if len(rows) < 2**31 else np.int64
    if np.all(rows[1:] >= rows[:-1]):  # (the users' side: pairs come sorted by user)
        order = np.arange(len(rows), dtype=index)
    else:
        order = np.argsort(rows, kind="stable").astype(index)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))])
    return order, indptr, np.asarray(cols, dtype=np.int32)[order]


class RowSolver:
    """One side's pairs in CSR order (rows × the other side's columns), and its solves."""

    _cg = None
    _exact = None

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n_rows: int) -> None:
        # pair: CSR position -> pair position (w and t come per pair)
        self.pair, self.indptr, self.cols = csr_order(rows, cols, n_rows)
        self.n_rows = n_rows

    @classmethod
    def _kernels(cls) -> tuple[Any, Any]:
        if cls._cg is None:
            cls._cg, cls._exact = _jit(_cg_rows), _jit(_exact_rows)
        return cls._cg, cls._exact

    @staticmethod
    def _prior(prior: np.ndarray | None, d: int) -> np.ndarray:
        return np.zeros((0, d), np.float32) if prior is None else np.ascontiguousarray(prior)

    def cg(self, Y, G, w, t, X0, steps: int, prior=None) -> np.ndarray:
        """``steps`` conjugate-gradient steps per row from ``X0`` (float32; see
        :meth:`.als.AlsSide.solve_cg`)."""
        cg, _ = self._kernels()
        out = np.empty_like(X0)
        with _LAUNCH:
            cg(self.indptr, self.cols, self.pair, Y, G, w, t, X0, self._prior(prior, Y.shape[1]),
               steps, out)  # fmt: skip
        return out

    def exact(self, Y, G, w, t, prior=None) -> np.ndarray:
        """Every row's normal equations solved in float64 (see :meth:`.als.AlsSide.solve`)."""
        _, exact = self._kernels()
        out = np.empty((self.n_rows, Y.shape[1]), np.float64)
        with _LAUNCH:
            exact(self.indptr, self.cols, self.pair, Y, G.astype(np.float64), w, t,
                  self._prior(prior, Y.shape[1]), out)  # fmt: skip
        return out.astype(np.float32)
