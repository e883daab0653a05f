"""Alternating least squares for the families' losses: per-row solves, batched by row length.

A family's loss is quadratic in U for fixed V (and the reverse), so each half-sweep solves every
row in closed form (or by a few conjugate-gradient steps). Knows no kind: the family sets up each
row's system (:meth:`.family.Family.sweep`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensors import tf

#: conjugate-gradient steps per row and half-sweep (the implicit library's default is 3)
CG_STEPS = 3


class AlsSweep:
    """One model's ALS sweeps: the family solves its rows (:meth:`.family.Family.sweep`), through
    :meth:`solve`; a tag tower then re-solves the tag embeddings.

    ``solver="exact"`` solves every row's normal equations (batched Cholesky); ``"cg"`` takes
    :data:`CG_STEPS` conjugate-gradient steps from the current factors instead (Takács et al.;
    the implicit library's CPU solver), never forming the per-row d × d matrices.
    """

    def __init__(self, kernels: Any, solver: str = "exact") -> None:
        self.k = kernels
        self.solver = solver
        family = kernels.family
        tr = family.train
        self.users = AlsSide(tr.users, tr.items, family.n_users)
        self.items = AlsSide(tr.items, tr.users, family.n_items)

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
    """The pairs grouped by row (users, or artists) for batched per-row least-squares solves.

    Rows are bucketed by their number of pairs into padded blocks of 1, 2, 4, … columns, so the
    padding stays under 2× and each bucket is one batched Cholesky solve of (d × d) systems:
    A_r = G + Σ_j w_rj y_j y_jᵀ,  b_r = Σ_j t_rj y_j  (+ rows without pairs solve G x = 0).
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n_rows: int) -> None:
        order = np.argsort(rows, kind="stable")
        counts = np.bincount(rows, minlength=n_rows)
        starts = np.concatenate([[0], np.cumsum(counts)])
        self.n_rows, self.n_pairs = n_rows, len(rows)
        self.buckets = []  # (row ids, padded column ids, padded pair ids; pad -> n_pairs)
        width = 1
        remaining = np.flatnonzero(counts > 0)
        while len(remaining):
            rows_b = remaining[counts[remaining] <= width]
            remaining = remaining[counts[remaining] > width]
            if len(rows_b):
                pair_idx = np.full((len(rows_b), width), len(rows), dtype=np.int64)
                for slot in range(width):  # at most log2(max count) buckets x width slots
                    has = counts[rows_b] > slot
                    pair_idx[has, slot] = order[starts[rows_b[has]] + slot]
                col_idx = np.where(
                    pair_idx < len(rows), cols[np.minimum(pair_idx, len(rows) - 1)], 0
                )
                self.buckets.append(
                    (
                        tf.constant(rows_b, tf.int32),
                        tf.constant(col_idx, tf.int32),
                        tf.constant(pair_idx, tf.int32),
                    )
                )
            width *= 2
        self.empty_rows = tf.constant(np.flatnonzero(counts == 0), tf.int32)
        self.rows = tf.constant(rows, tf.int32)  # pair order, for the conjugate-gradient solver
        self.cols = tf.constant(cols, tf.int32)

    def times(self, Yp, G, w, X):
        """Each row's A_r·x_r = x_r G + Σ_j w_j (y_jᵀx_r) y_j, over the pairs (no d × d matrix
        per row); ``Yp`` is Y gathered at the pairs' columns. (n_rows, k)."""
        along = w * tf.reduce_sum(Yp * tf.gather(X, self.rows), 1)
        return tf.matmul(X, G) + tf.math.unsorted_segment_sum(
            along[:, None] * Yp, self.rows, self.n_rows
        )

    def rhs(self, Yp, t):
        """Each row's b_r = Σ_j t_j y_j; (n_rows, k)."""
        return tf.math.unsorted_segment_sum(t[:, None] * Yp, self.rows, self.n_rows)

    def solve_cg(self, Y, G, w, t, x0, steps: int, prior=None):
        """The rows of :meth:`solve`, approximately: ``steps`` conjugate-gradient steps per row
        from ``x0`` (see :meth:`times`); (n_rows, d)."""
        Yp = tf.gather(Y, self.cols)  # (pairs, d)
        b = self.rhs(Yp, t) + (0.0 if prior is None else prior)
        return conjugate_gradient(lambda P: self.times(Yp, G, w, P), b, x0, steps, axis=1)

    def solve(self, Y, G, w, t, prior=None):
        """Rows x minimising Σ_j w (y_jᵀx)² − 2 t y_jᵀx + xᵀGx (− 2 priorᵀx), for every row;
        (n_rows, d).

        ``w`` and ``t`` are per-pair weights and targets in pair order; solved in float64.
        """
        d = Y.shape[1]
        w_pad = tf.concat([tf.cast(w, tf.float64), tf.zeros(1, tf.float64)], 0)
        t_pad = tf.concat([tf.cast(t, tf.float64), tf.zeros(1, tf.float64)], 0)
        Y64, G64 = tf.cast(Y, tf.float64), tf.cast(G, tf.float64)
        ids, values = [], []
        for rows_b, col_idx, pair_idx in self.buckets:
            Yb = tf.gather(Y64, col_idx)  # (b, width, d)
            wb = tf.gather(w_pad, pair_idx)
            A = G64 + tf.matmul(Yb * wb[..., None], Yb, transpose_a=True)
            rhs = tf.einsum("bp,bpd->bd", tf.gather(t_pad, pair_idx), Yb)
            if prior is not None:
                rhs += tf.gather(tf.cast(prior, tf.float64), rows_b)
            rhs = rhs[..., None]
            ids.append(rows_b)
            values.append(tf.linalg.cholesky_solve(tf.linalg.cholesky(A), rhs)[..., 0])
        ids.append(self.empty_rows)
        values.append(tf.zeros((tf.size(self.empty_rows), d), tf.float64))
        x = tf.scatter_nd(tf.concat(ids, 0)[:, None], tf.concat(values, 0), (self.n_rows, d))
        return tf.cast(x, tf.float32)


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
