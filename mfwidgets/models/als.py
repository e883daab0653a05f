"""Alternating least squares for CFModel's losses: exact per-row solves, batched by row length.

The chapter's loss is quadratic in U for fixed V (and the reverse), so each half-sweep solves
every row in closed form. Imports TensorFlow (through :mod:`.kernels`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels import tf

#: conjugate-gradient steps per row and half-sweep (the implicit library's default is 3)
CG_STEPS = 3


class AlsSweep:
    """One model's ALS sweeps over its kernels' variables and training pairs.

    ``solver="exact"`` solves every row's normal equations (batched Cholesky); ``"cg"`` takes
    :data:`CG_STEPS` conjugate-gradient steps from the current factors instead (Takács et al.;
    the implicit library's CPU solver), never forming the per-row d × d matrices.
    """

    def __init__(self, kernels: Any, solver: str = "exact") -> None:
        self.k = kernels
        self.solver = solver
        tr, obj = kernels.train, kernels.obj
        self.users = AlsSide(tr.users, tr.items, obj.n_users)
        self.items = AlsSide(tr.items, tr.users, obj.n_items)

    def loop(self, k):
        """``k`` sweeps in a graph loop."""

        def body(t):
            self.sweep()
            return (t + 1,)

        tf.while_loop(lambda t: t < k, body, (tf.constant(0),))

    def sweep(self) -> None:
        """Solve every user row exactly with the items fixed, then every item row.

        Each half minimises the total loss over its rows in closed form: the observed MSE, L2 and
        gravity are all quadratic in U for fixed V (and the reverse). (A little over 60 lines:
        the two losses' solves side by side, with the comments their maths needs.)
        """
        kern = self.k
        o = kern.obj
        n = float(kern.train.n)
        d = kern.dim
        eye = tf.eye(d)
        eps = 1e-6  # keeps the unregularized (plain) systems solvable
        tr = kern.train
        U, V = (v.read_value() for v in kern.variables[:2])
        if o.implicit:
            # Hu–Koren–Volinsky: Σ_all-cells c·(p − x·y)² = xᵀ(YᵀY + Yᵀ(C−I)Y)x − 2xᵀYᵀCp + …,
            # so each row needs the shared Gram YᵀY plus a sum over its own observed pairs only,
            # with weight c − 1 in the matrix and target c (preference 1 times confidence c).
            c = kern.confidence
            U = self._solve(
                self.users, V, tf.matmul(V, V, True) + (o.regularization + eps) * eye, c - 1, c, U
            )
            V = self._solve(
                self.items, U, tf.matmul(U, U, True) + (o.regularization + eps) * eye, c - 1, c, V
            )
            new = [U, V]
        else:
            # The loss is a mean over the n observed pairs; multiplying it by n turns each row's
            # problem into Σ_pairs (x·y − t)² + xᵀGx, so L2 and gravity enter G scaled by n:
            # L2 as n·coeff/n_rows·I, gravity as n·coeff/(n_users·n_items)·(YᵀY).
            grav = n * o.gravity / (o.n_users * o.n_items)
            ones = tf.ones_like(tr.a)

            def gram(X, n_rows, bias_reg):
                G = (n * o.regularization / n_rows + eps) * eye + grav * tf.matmul(X, X, True)
                if not o.biased:
                    return G
                # the bias is one more unknown per row, paired with a constant 1 column appended
                # to Y (with_ones): pad G with a row and column holding only the bias ridge
                G = tf.pad(G, [[0, 1], [0, 1]])
                return G + tf.pad([[bias_reg + eps]], [[d, 0], [d, 0]])

            def with_ones(X):
                return tf.concat([X, tf.ones((tf.shape(X)[0], 1))], 1) if o.biased else X

            cfg = o.config
            if o.biased:
                bu, bi = (v.read_value() for v in kern.variables[2:])
                t_u = tr.a - o.global_mean - tf.gather(bi, tr.i)
            else:
                t_u = tr.a
            x0 = tf.concat([U, bu[:, None]], 1) if o.biased else U
            Xu = self._solve(
                self.users, with_ones(V), gram(V, o.n_users, cfg.user_bias_reg), ones, t_u, x0
            )
            U = Xu[:, :d]
            if o.biased:
                bu = Xu[:, d]
                t_i = tr.a - o.global_mean - tf.gather(bu, tr.u)
            else:
                t_i = tr.a
            x0 = tf.concat([V, bi[:, None]], 1) if o.biased else V
            Xi = self._solve(
                self.items, with_ones(U), gram(U, o.n_items, cfg.item_bias_reg), ones, t_i, x0
            )
            new = [U, Xi[:, :d]] + ([bu, Xi[:, d]] if o.biased else [])
        for v, value in zip(kern.variables, new, strict=True):
            v.assign(value)

    def _solve(self, side: AlsSide, Y, G, w, t, x0):
        if self.solver == "cg":
            return side.solve_cg(Y, G, w, t, x0, CG_STEPS)
        return side.solve(Y, G, w, t)


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

    def solve_cg(self, Y, G, w, t, x0, steps: int):
        """The rows of :meth:`solve`, approximately: ``steps`` conjugate-gradient steps per row
        from ``x0``, with A·p = p G + Σ_j w_j (y_jᵀp) y_j taken over the pairs (no d × d
        matrix per row); (n_rows, d)."""
        Yp = tf.gather(Y, self.cols)  # (pairs, d)

        def times_a(P):
            along = w * tf.reduce_sum(Yp * tf.gather(P, self.rows), 1)
            return tf.matmul(P, G) + tf.math.unsorted_segment_sum(
                along[:, None] * Yp, self.rows, self.n_rows
            )

        b = tf.math.unsorted_segment_sum(t[:, None] * Yp, self.rows, self.n_rows)
        x = x0
        r = b - times_a(x)
        p = r
        rs = tf.reduce_sum(r * r, 1)
        for _ in range(steps):
            Ap = times_a(p)
            # rows already solved have rs = 0: keep them (no 0/0)
            alpha = tf.math.divide_no_nan(rs, tf.reduce_sum(p * Ap, 1))
            x = x + alpha[:, None] * p
            r = r - alpha[:, None] * Ap
            rs_new = tf.reduce_sum(r * r, 1)
            p = r + tf.math.divide_no_nan(rs_new, rs)[:, None] * p
            rs = rs_new
        return x

    def solve(self, Y, G, w, t):
        """Rows x minimising Σ_j w (y_jᵀx)² − 2 t y_jᵀx + xᵀGx, for every row; (n_rows, d).

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
            rhs = tf.einsum("bp,bpd->bd", tf.gather(t_pad, pair_idx), Yb)[..., None]
            ids.append(rows_b)
            values.append(tf.linalg.cholesky_solve(tf.linalg.cholesky(A), rhs)[..., 0])
        ids.append(self.empty_rows)
        values.append(tf.zeros((tf.size(self.empty_rows), d), tf.float64))
        x = tf.scatter_nd(tf.concat(ids, 0)[:, None], tf.concat(values, 0), (self.n_rows, d))
        return tf.cast(x, tf.float32)
