"""Alternating least squares for the families' losses: per-row solves, in bounded memory.

A family's loss is quadratic in U for fixed V (and the reverse), so each half-sweep solves every
row in closed form (or by a few conjugate-gradient steps). Knows no kind: the family sets up each
row's system (:meth:`.family.Family.sweep`).

Two ways to solve the rows, the same arithmetic: on a CPU, numba-compiled loops that build each
row's system from its own pairs (:mod:`.rowsolve`: no per-pair copy of the factors); on a GPU,
or without numba, TensorFlow ops that gather a factor row per pair — in blocks of rows whose
gathered copies fit :data:`BLOCK_BYTES`, one block after another, so memory stays bounded at any
number of pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import rowsolve
from .tensors import tf

#: conjugate-gradient steps per row and half-sweep (the implicit library's default is 3)
CG_STEPS = 3
#: bytes the TensorFlow path's per-block temporaries may take (the gathered factor rows of a
#: block of rows, their products and, for the exact solver, the rows' d × d systems)
BLOCK_BYTES = 256 * 2**20
#: the ways to solve the rows: "auto" is numba's on a CPU (when installed), else TensorFlow's
ROW_SOLVERS = ("auto", "numba", "tensorflow")


def compiled_rows(row_solver: str = "auto") -> bool:
    """Whether rows are solved by the numba kernels (:mod:`.rowsolve`) rather than TensorFlow:
    ``"auto"`` takes them when numba is installed and TensorFlow sees no GPU."""
    if row_solver not in ROW_SOLVERS:
        raise ValueError(f"row_solver must be one of {ROW_SOLVERS}, got {row_solver!r}")
    if row_solver == "auto":
        return rowsolve.available() and not tf.config.list_logical_devices("GPU")
    if row_solver == "numba" and not rowsolve.available():
        raise ValueError("row_solver='numba' needs numba (pip install 'mfwidgets[cpu]')")
    return row_solver == "numba"


class AlsSweep:
    """One model's ALS sweeps: the family solves its rows (:meth:`.family.Family.sweep`), through
    :meth:`solve`; a tag tower then re-solves the tag embeddings.

    ``solver="exact"`` solves every row's normal equations (Cholesky, float64); ``"cg"`` takes
    :data:`CG_STEPS` conjugate-gradient steps from the current factors instead (Takács et al.;
    the implicit library's CPU solver), never forming the per-row d × d matrices.
    ``row_solver`` picks the kernels (:func:`compiled_rows`); ``block_bytes`` bounds the
    TensorFlow path's temporaries.
    """

    def __init__(
        self,
        kernels: Any,
        solver: str = "exact",
        row_solver: str = "auto",
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        self.k = kernels
        self.solver = solver
        family = kernels.family
        tr = family.train
        compiled = compiled_rows(row_solver)
        width = family.config.embedding_dim + 1  # (the biased family solves a bias column too)
        self.users = AlsSide(tr.users, tr.items, family.n_users, compiled, width, block_bytes)
        self.items = AlsSide(tr.items, tr.users, family.n_items, compiled, width, block_bytes)

    def loop(self, k):
        """``k`` sweeps in a graph loop."""

        def body(t):
            self.sweep()
            return (t + 1,)

        tf.while_loop(lambda t: t < k, body, (tf.constant(0),))

    def sweep(self) -> None:
        """Every user row with the items fixed, then every item row (then the tag embeddings):
        each half minimises the whole loss over its rows."""
        kern, tower = self.k, self.k.tower
        params = [v.read_value() for v in kern.variables]
        E = kern.effective(params)
        offsets = None if tower is None else tower.offsets(params)
        free_scale = 1.0 if tower is None else tower.free_scale
        new, blocks = kern.family.sweep(self, E, offsets, free_scale)
        if tower is not None:
            new = tower.sweep(new, params, *blocks)
        for v, value in zip(kern.variables, new, strict=True):
            v.assign(value)

    def solve(self, side: AlsSide, Y, G, w, t, x0, ridge=None, offset=None):
        """The rows of ``side`` (see :meth:`AlsSide.solve`); with ``offset`` (a tag tower's
        part) the ridge ``ridge`` (per column) pulls towards it instead of towards 0."""
        prior = None if offset is None else offset * ridge
        if self.solver == "cg":
            return side.solve_cg(Y, G, w, t, x0, CG_STEPS, prior)
        return side.solve(Y, G, w, t, prior)


class AlsSide:
    """One side's pairs grouped by row (users, or artists) for per-row least-squares solves:
    A_r = G + Σ_j w_rj y_j y_jᵀ,  b_r = Σ_j t_rj y_j  (+ a prior), solved for every row r.

    ``compiled``: by the numba kernels (:class:`.rowsolve.RowSolver`). Otherwise by TensorFlow,
    in blocks of consecutive rows whose temporaries fit ``block_bytes`` for factors of ``width``
    columns; within a block the exact solver buckets rows by their number of pairs into padded
    blocks of 1, 2, 4, … columns (padding under 2×), each one batched Cholesky solve.
    """

    def __init__(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        n_rows: int,
        compiled: bool = False,
        width: int = 64,
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        self.n_rows, self.n_pairs = n_rows, len(rows)
        self.cpu = rowsolve.RowSolver(rows, cols, n_rows) if compiled else None
        if compiled:
            return
        order, indptr, csr_cols = rowsolve.csr_order(rows, cols, n_rows)
        counts = np.diff(indptr)
        # conjugate gradients: ~4 gathered copies of a factor row per pair, float32
        self.cg_blocks = []  # (first row, end row, pair ids, column ids, local row ids)
        for r0, r1 in row_blocks(counts, 16 * width, 0, block_bytes):
            k0, k1 = indptr[r0], indptr[r1]
            self.cg_blocks.append((
                r0, r1,
                tf.constant(order[k0:k1], tf.int32),
                tf.constant(csr_cols[k0:k1], tf.int32),
                tf.constant(np.repeat(np.arange(r1 - r0), counts[r0:r1]), tf.int32),
            ))  # fmt: skip
        # exact: ~3 float64 copies per padded pair (padding under 2x), two d x d per row
        self.buckets = []  # (row ids, padded column ids, padded pair ids; pad -> n_pairs)
        for r0, r1 in row_blocks(counts, 48 * width, 16 * width * width, block_bytes):
            self.buckets += _buckets(r0 + np.flatnonzero(counts[r0:r1] > 0), counts, indptr,
                                     order, csr_cols)  # fmt: skip
        self.empty_rows = tf.constant(np.flatnonzero(counts == 0), tf.int32)

    def solve_cg(self, Y, G, w, t, x0, steps: int, prior=None):
        """The rows of :meth:`solve`, approximately: ``steps`` conjugate-gradient steps per row
        from ``x0``, each product A_r·x = x G + Σ_j w_j (y_jᵀx) y_j taken over the row's pairs
        (no d × d matrix per row); (n_rows, d)."""
        if self.cpu is not None:
            return self._compiled(lambda *a: self.cpu.cg(*a[:5], steps, *a[5:]), x0.shape,
                                  Y, G, w, t, x0, prior)  # fmt: skip
        out, done = [], []
        for r0, r1, pairs, cols, local in self.cg_blocks:
            with tf.control_dependencies(done):  # one block after another: bounded memory
                n = r1 - r0
                Yp = tf.gather(Y, cols)
                wp = tf.gather(w, pairs)

                def times(P, Yp=Yp, wp=wp, local=local, n=n):
                    along = wp * tf.reduce_sum(Yp * tf.gather(P, local), 1)
                    return tf.matmul(P, G) + tf.math.unsorted_segment_sum(
                        along[:, None] * Yp, local, n
                    )

                b = tf.math.unsorted_segment_sum(tf.gather(t, pairs)[:, None] * Yp, local, n)
                if prior is not None:
                    b += prior[r0:r1]
                x = conjugate_gradient(times, b, x0[r0:r1], steps, axis=1)
            out.append(x)
            done = [x]
        return tf.concat(out, 0) if len(out) > 1 else out[0]

    def solve(self, Y, G, w, t, prior=None):
        """Rows x minimising Σ_j w (y_jᵀx)² − 2 t y_jᵀx + xᵀGx (− 2 priorᵀx), for every row;
        (n_rows, d).

        ``w`` and ``t`` are per-pair weights and targets in pair order; solved in float64.
        Rows without pairs are 0.
        """
        d = Y.shape[1]
        if self.cpu is not None:
            return self._compiled(self.cpu.exact, (self.n_rows, d), Y, G, w, t, prior)
        w_pad = tf.concat([tf.cast(w, tf.float64), tf.zeros(1, tf.float64)], 0)
        t_pad = tf.concat([tf.cast(t, tf.float64), tf.zeros(1, tf.float64)], 0)
        Y64, G64 = tf.cast(Y, tf.float64), tf.cast(G, tf.float64)
        ids, values, done = [], [], []
        for rows_b, col_idx, pair_idx in self.buckets:
            with tf.control_dependencies(done):  # one block after another: bounded memory
                Yb = tf.gather(Y64, col_idx)  # (b, width, d)
                wb = tf.gather(w_pad, pair_idx)
                A = G64 + tf.matmul(Yb * wb[..., None], Yb, transpose_a=True)
                rhs = tf.einsum("bp,bpd->bd", tf.gather(t_pad, pair_idx), Yb)
                if prior is not None:
                    rhs += tf.gather(tf.cast(prior, tf.float64), rows_b)
                x = tf.linalg.cholesky_solve(tf.linalg.cholesky(A), rhs[..., None])[..., 0]
            ids.append(rows_b)
            values.append(x)
            done = [x]
        ids.append(self.empty_rows)
        values.append(tf.zeros((tf.size(self.empty_rows), d), tf.float64))
        x = tf.scatter_nd(tf.concat(ids, 0)[:, None], tf.concat(values, 0), (self.n_rows, d))
        return tf.cast(x, tf.float32)

    @staticmethod
    def _compiled(fn, shape, *args):
        """``fn`` (a numba row solve) called from the graph on the arrays ``args`` (a None
        prior left out)."""
        inputs = [a for a in args if a is not None]
        out = tf.numpy_function(fn, inputs, tf.float32, stateful=False)
        out.set_shape(shape)
        return out


def row_blocks(counts: np.ndarray, per_pair: int, per_row: int, budget: int) -> list:
    """Consecutive row ranges [r0, r1) whose cost (``per_pair`` bytes a pair, ``per_row`` a
    row) stays within ``budget`` (a row costing more is a block of its own)."""
    cost = np.cumsum(counts * per_pair + per_row)
    blocks, r0, n = [], 0, len(counts)
    while r0 < n:
        spent = cost[r0 - 1] if r0 else 0
        r1 = max(int(np.searchsorted(cost, spent + budget, side="right")), r0 + 1)
        blocks.append((r0, min(r1, n)))
        r0 = r1
    return blocks or [(0, 0)]


def _buckets(rows: np.ndarray, counts, indptr, order, csr_cols) -> list:
    """The exact solver's padded buckets of ``rows`` (rows with pairs), by their number of
    pairs: 1, 2, 4, … columns."""
    out, width, n_pairs = [], 1, len(order)
    remaining = rows
    while len(remaining):
        rows_b = remaining[counts[remaining] <= width]
        remaining = remaining[counts[remaining] > width]
        if len(rows_b):
            pair_idx = np.full((len(rows_b), width), n_pairs, dtype=np.int64)
            col_idx = np.zeros((len(rows_b), width), dtype=np.int64)
            for slot in range(width):  # at most log2(max count) buckets x width slots
                has = counts[rows_b] > slot
                k = indptr[rows_b[has]] + slot
                pair_idx[has, slot], col_idx[has, slot] = order[k], csr_cols[k]
            out.append((tf.constant(rows_b, tf.int32), tf.constant(col_idx, tf.int32),
                        tf.constant(pair_idx, tf.int32)))  # fmt: skip
        width *= 2
    return out


def conjugate_gradient(times, b, x, steps: int, axis: int | None):
    """``steps`` conjugate-gradient steps on times(x) = b from ``x``: each row its own system
    (``axis=1``), or one system over the whole array (``axis=None``)."""

    def dot(a, c):
        total = tf.reduce_sum(a * c, axis)
        return total if axis is None else total[:, None]

    r = b - times(x)
    p = r
    rs = dot(r, r)
    for _ in range(steps):
        Ap = times(p)
        # rows already solved have rs = 0: keep them (no 0/0)
        alpha = tf.math.divide_no_nan(rs, dot(p, Ap))
        x = x + alpha * p
        r = r - alpha * Ap
        rs_new = dot(r, r)
        p = r + tf.math.divide_no_nan(rs_new, rs) * p
        rs = rs_new
    return x
