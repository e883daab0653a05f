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
#: conjugate-gradient steps on the tag embeddings per sweep (hybrid kinds, either solver)
TAG_CG_STEPS = 5


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
        """Solve every user row exactly with the items fixed, then every item row (then, for a
        hybrid kind, the tag embeddings).

        Each half minimises the total loss over its rows in closed form: the observed MSE, L2 and
        gravity are all quadratic in U for fixed V (and the reverse). A hybrid item row is
        solved for its whole factor x = v + A·T with the ridge pulled towards its tag part
        (λ‖x − A·T‖² = λ‖v‖²); :meth:`_tag_block` then solves T. (About 80 lines: the two
        losses' solves side by side, with the comments their maths needs.)
        """
        kern = self.k
        o = kern.obj
        n = float(kern.train.n)
        d = kern.dim
        eye = tf.eye(d)
        eps = 1e-6  # keeps the unregularized (plain) systems solvable
        tr = kern.train
        params = [v.read_value() for v in kern.variables]
        U, Ve, *biases = kern.effective(params)
        offset = None if kern.tags is None else Ve - params[1]  # A·T (+ A·tb below)
        if o.implicit:
            # Hu–Koren–Volinsky: Σ_all-cells c·(p − x·y)² = xᵀ(YᵀY + Yᵀ(C−I)Y)x − 2xᵀYᵀCp + …,
            # so each row needs the shared Gram YᵀY plus a sum over its own observed pairs only,
            # with weight c − 1 in the matrix and target c (preference 1 times confidence c).
            c = kern.confidence
            lam = o.regularization + eps
            U = self._solve(self.users, Ve, tf.matmul(Ve, Ve, True) + lam * eye, c - 1, c, U)
            shared = tf.matmul(U, U, True)
            free = o.free_scale * o.regularization  # the items' free parts' ridge
            ridge = tf.fill([d], free)
            G = shared + (free + eps) * eye
            Ve = self._solve(self.items, U, G, c - 1, c, Ve, ridge, offset)
            new = [U, Ve]
            blocks = (shared, ridge, tf.fill([d], o.regularization))
        else:
            # The loss is a mean over the n observed pairs; multiplying it by n turns each row's
            # problem into Σ_pairs (x·y − t)² + xᵀGx, so L2 and gravity enter G scaled by n:
            # L2 as n·coeff/n_rows·I, gravity as n·coeff/(n_users·n_items)·(YᵀY).
            grav = n * o.gravity / (o.n_users * o.n_items)
            ones = tf.ones_like(tr.a)
            cfg = o.config

            def gram(X, n_rows, bias_reg, ridge=True, scale=1.0):
                G = grav * tf.matmul(X, X, True)
                if ridge:
                    G += (scale * n * o.regularization / n_rows + eps) * eye
                if not o.biased:
                    return G
                # the bias is one more unknown per row, paired with a constant 1 column appended
                # to Y (with_ones): pad G with a row and column holding only the bias ridge
                G = tf.pad(G, [[0, 1], [0, 1]])
                return G + tf.pad([[bias_reg + eps if ridge else 0.0]], [[d, 0], [d, 0]])

            def with_ones(X):
                return tf.concat([X, tf.ones((tf.shape(X)[0], 1))], 1) if o.biased else X

            def and_bias(X, b):
                return tf.concat([X, b[:, None]], 1) if o.biased else X

            if o.biased:
                bu, bi = biases
                t_u = tr.a - o.global_mean - tf.gather(bi, tr.i)
            else:
                t_u = tr.a
            Xu = self._solve(
                self.users, with_ones(Ve), gram(Ve, o.n_users, cfg.user_bias_reg), ones, t_u,
                and_bias(U, biases[0]) if o.biased else U,
            )  # fmt: skip
            U = Xu[:, :d]
            if o.biased:
                bu = Xu[:, d]
                t_i = tr.a - o.global_mean - tf.gather(bu, tr.u)
            else:
                t_i = tr.a
            Y = with_ones(U)
            tag_ridge = tf.fill([d], n * o.regularization / o.n_items)
            ridge = o.free_scale * tag_ridge
            if o.biased:
                ridge = tf.concat([ridge, [cfg.item_bias_reg]], 0)
                tag_ridge = tf.concat([tag_ridge, [cfg.item_bias_reg]], 0)
                if offset is not None:
                    offset = and_bias(offset, biases[1] - params[3])
            x0 = and_bias(Ve, biases[1]) if o.biased else Ve
            G = gram(U, o.n_items, cfg.item_bias_reg, scale=o.free_scale)
            Xi = self._solve(self.items, Y, G, ones, t_i, x0, ridge, offset)
            new = [U, Xi[:, :d]] + ([bu, Xi[:, d]] if o.biased else [])
            blocks = (gram(U, o.n_items, 0.0, ridge=False), ridge, tag_ridge)
        if kern.tags is not None:
            new = self._tag_block(new, params, *blocks)
        for v, value in zip(kern.variables, new, strict=True):
            v.assign(value)

    def _solve(self, side: AlsSide, Y, G, w, t, x0, ridge=None, offset=None):
        """Rows of ``side``; with ``offset`` (a hybrid's tag part) the ridge ``ridge`` (per
        column) pulls towards it instead of towards 0."""
        prior = None if offset is None else offset * ridge
        if self.solver == "cg":
            return side.solve_cg(Y, G, w, t, x0, CG_STEPS, prior)
        return side.solve(Y, G, w, t, prior)

    def _tag_block(self, new, params, shared, ridge, tag_ridge):
        """``new`` with the tag embeddings T re-solved and the free item parts v = x − A·T.

        In the coordinates (x, T) — x an item's whole factor — the loss depends on T only
        through the ridges λ‖x − A·T‖² of the items with training pairs, the cold items' terms
        (their x is A·T: xᵀ·shared·x, from gravity or the implicit unobserved cells) and
        T's own ridge. With x fixed, T solves that regression of the factors on the tags,
        (Aᵀ(M·κλ + (1 − M)·shared)A + λ)·T = Aᵀ M·κλ·x (M: has pairs; κλ the free parts'
        ridge ``ridge``, λ the tags' ``tag_ridge``), by :data:`TAG_CG_STEPS`
        conjugate-gradient steps from the current T: an exact block step, so the loss never rises
        and T follows the items at once (updating v and T in turn crept: v took it all).
        """
        kern, o = self.k, self.k.obj
        d = kern.dim
        mask = kern.item_mask[:, None]
        X = tf.concat([new[1], new[3][:, None]], 1) if o.biased else new[1]
        tag = kern.tag_params(params)
        T = tf.concat([tag[0], tag[1][:, None]], 1) if o.biased else tag[0]

        def a_times(Z, adjoint=False):  # A·Z (or Aᵀ·Z), the factor and bias columns apart
            if not o.biased:
                return kern.tag_part(Z, adjoint)
            return tf.concat(
                [kern.tag_part(Z[:, :d], adjoint), kern.tag_part(Z[:, d:], adjoint)], 1
            )

        def times(P):
            AP = a_times(P)
            return a_times(mask * AP * ridge + (1.0 - mask) * tf.matmul(AP, shared), True) + (
                P * tag_ridge
            )

        T = conjugate_gradient(times, a_times(mask * X * ridge, True), T, TAG_CG_STEPS, None)
        free = (X - a_times(T)) * mask  # items without training pairs keep v = 0
        tags = [T[:, :d], T[:, d]] if o.biased else [T]
        items = [free[:, :d], new[2], free[:, d]] if o.biased else [free]
        return [new[0], *items, *tags]


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
