"""The explicit family: the chapter's observed MSE of ``U·Vᵀ``, its L2 and gravity terms, and
the biased variant (global mean μ and user/item biases).

Loss: observed MSE + regularization_coeff·(ΣU²/n_users + ΣV²/n_items)
+ gravity_coeff/(n_users·n_items)·‖UVᵀ‖²_F (+ the bias ridges / n_train when biased). Nothing
here forms the users × items matrix: the observed-MSE gradients are two sparse × dense products
and gravity works on the d × d Gram matrices UᵀU and VᵀV. Why hand-written gradients:
GradientTape through ``gather`` builds and scatters per-pair copies; two sparse × dense products
are several times faster and give the same numbers (tested against the dense formulation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .family import Family
from .tensors import spmm, tf

#: keeps the unregularized (plain) ALS systems solvable
EPS = 1e-6


class Explicit(Family):
    """The chapter's ``build_regularized_model``: observed MSE + L2 + gravity."""

    part_names = ("observed", "gravity")
    loss_names = ("observed", "gravity")

    @property
    def gravity(self) -> float:
        """g with gravity = g/2·Σ(UᵀU)∘(VᵀV): 2·gravity_coeff/(n_users·n_items)."""
        return 2.0 * self.config.gravity_coeff / (self.n_users * self.n_items)

    def parts(self, E: list, r: Any) -> dict[str, Any]:
        U, V = E[0], E[1]
        # gravity without UVᵀ: Σ (UᵀU)∘(VᵀV) = tr(UᵀU VᵀV) = ‖UVᵀ‖²_F, two d × d Gram matrices
        gravity = (
            self.config.gravity_coeff
            / (self.n_users * self.n_items)
            * tf.reduce_sum(tf.matmul(U, U, True) * tf.matmul(V, V, True))
            if self.config.gravity_coeff
            else tf.constant(0.0)
        )
        return {"observed": tf.reduce_mean(tf.square(r)), "gravity": gravity}

    def ridges(self) -> list[float]:
        lam = self.config.regularization_coeff
        return [lam / self.n_users, lam / self.n_items]

    def metrics(self, parts: dict[str, float]) -> dict[str, float]:
        return self.errors(parts, "_observed") | {
            "observed_loss": parts["observed"],
            "regularization_loss": parts["regularization"],
            "gravity_loss": parts["gravity"],
        }

    def _products(self, E: list, r: Any, scale: float) -> tuple[Any, Any]:
        """(S·V, Sᵀ·U), S holding ``scale`` times the residuals at the training pairs."""
        S = tf.SparseTensor(self.train.indices, scale * r, (self.n_users, self.n_items))
        return spmm(S, E[1]), spmm(S, E[0], adjoint=True)

    def gradients(self, E: list, r: Any) -> list:
        U, V = E[0], E[1]
        gU, gV = self._products(E, r, 2.0 / self.train.n)
        if self.config.gravity_coeff:  # ∂/∂U of g/2·Σ(UᵀU)∘(VᵀV) is g·U·VᵀV (and the reverse)
            gU += self.gravity * tf.matmul(U, tf.matmul(V, V, True))
            gV += self.gravity * tf.matmul(V, tf.matmul(U, U, True))
        return [gU, gV]

    def step(self, params: list, lr: Any, r: Any) -> list:
        """``p − lr·∇p`` arranged to pass over U and V once each: U ← U·Cu + S'·V with
        S' = −lr·(2/n)·residuals and Cu = I − lr·(L2 + gravity terms)."""
        U, V = params[0], params[1]
        dU, dV = self._products(params, r, -lr * 2.0 / self.train.n)
        cu, cv = self.ridges()[:2]
        if not (cu or cv or self.config.gravity_coeff):
            return [U + dU, V + dV]
        eye = tf.eye(U.shape[1])
        g = self.gravity
        shrink_u = (1.0 - lr * 2.0 * cu) * eye - lr * g * tf.matmul(V, V, True)
        shrink_v = (1.0 - lr * 2.0 * cv) * eye - lr * g * tf.matmul(U, U, True)
        return [tf.matmul(U, shrink_u) + dU, tf.matmul(V, shrink_v) + dV]

    def sweep(self, als: Any, E: list, offsets: list | None, free_scale: float) -> tuple:
        """Users, then items, each row in closed form with the other side fixed.

        The loss is a mean over the n observed pairs; multiplying it by n turns each row's
        problem into Σ_pairs (x·y − t)² + xᵀGx, so L2 and gravity enter G scaled by n: L2 as
        n·coeff/n_rows·I, gravity as n·coeff/(n_users·n_items)·(YᵀY). Returns the new effective
        parameters and, for the tag tower, (cold items' Gram, free-part ridge, tag ridge).
        """
        tr, U, V = self.train, E[0], E[1]
        n, lam = float(tr.n), self.config.regularization_coeff
        grav = n * self.config.gravity_coeff / (self.n_users * self.n_items)
        eye = tf.eye(U.shape[1])
        ones = tf.ones_like(tr.a)
        U = als.solve(als.users, V, grav * tf.matmul(V, V, True) + (n * lam / self.n_users + EPS)
                      * eye, ones, tr.a, U)  # fmt: skip
        tag_ridge = tf.fill([U.shape[1]], n * lam / self.n_items)
        ridge = free_scale * tag_ridge
        shared = grav * tf.matmul(U, U, True)
        G = shared + (free_scale * n * lam / self.n_items + EPS) * eye
        offset = None if offsets is None else offsets[0]
        V = als.solve(als.items, U, G, ones, tr.a, V, ridge, offset)
        return [U, V], (shared, ridge, tag_ridge)


class Plain(Explicit):
    """The chapter's ``build_model``: the observed MSE alone, recorded under its names."""

    def metrics(self, parts: dict[str, float]) -> dict[str, float]:
        return self.errors(parts)


class Biased(Explicit):
    """μ + b_u + b_i + u·v: the explicit loss plus ridges on the biases (in interactions)."""

    variables = ("U", "V", "bu", "bi")
    item_slots = (1, 3)

    @classmethod
    def initial_arrays(cls, config, n_users, n_items, rng) -> dict[str, np.ndarray]:
        arrays = super().initial_arrays(config, n_users, n_items, rng)
        return arrays | {"bu": np.zeros(n_users), "bi": np.zeros(n_items)}

    @classmethod
    def mean_of(cls, weights: np.ndarray) -> float:
        return float(weights.mean())

    def offset(self, E: list, u: Any, i: Any) -> Any:
        return self.global_mean + tf.gather(E[2], u) + tf.gather(E[3], i)

    def ridges(self) -> list[float]:
        n = self.train.n
        return [*super().ridges(), self.config.user_bias_reg / n, self.config.item_bias_reg / n]

    def _bias_gradients(self, r: Any) -> list:
        scale = 2.0 / self.train.n
        return [
            scale * tf.math.unsorted_segment_sum(r, self.train.u, self.n_users),
            scale * tf.math.unsorted_segment_sum(r, self.train.i, self.n_items),
        ]

    def gradients(self, E: list, r: Any) -> list:
        return super().gradients(E, r) + self._bias_gradients(r)

    def step(self, params: list, lr: Any, r: Any) -> list:
        c = self.ridges()
        return super().step(params, lr, r) + [
            params[k] - lr * (g + 2.0 * c[k] * params[k])
            for k, g in zip((2, 3), self._bias_gradients(r), strict=True)
        ]

    def sweep(self, als: Any, E: list, offsets: list | None, free_scale: float) -> tuple:
        """As :meth:`Explicit.sweep`, each row's bias one more unknown: a constant 1 column
        appended to the other side's factors, its ridge in the padded corner of G."""
        tr, (U, V, bu, bi) = self.train, E
        n, lam, cfg = float(tr.n), self.config.regularization_coeff, self.config
        d = U.shape[1]
        grav = n * self.config.gravity_coeff / (self.n_users * self.n_items)
        ones = tf.ones_like(tr.a)

        def gram(X, ridge, bias_ridge):  # (d + 1) × (d + 1)
            G = tf.pad(grav * tf.matmul(X, X, True) + ridge * tf.eye(d), [[0, 1], [0, 1]])
            return G + tf.pad([[bias_ridge]], [[d, 0], [d, 0]])

        def with_ones(X):
            return tf.concat([X, tf.ones((tf.shape(X)[0], 1))], 1)

        t_u = tr.a - self.global_mean - tf.gather(bi, tr.i)
        G = gram(V, n * lam / self.n_users + EPS, cfg.user_bias_reg + EPS)
        Xu = als.solve(als.users, with_ones(V), G, ones, t_u, tf.concat([U, bu[:, None]], 1))
        U, bu = Xu[:, :d], Xu[:, d]
        t_i = tr.a - self.global_mean - tf.gather(bu, tr.u)
        tag_ridge = tf.concat([tf.fill([d], n * lam / self.n_items), [cfg.item_bias_reg]], 0)
        ridge = tf.concat([free_scale * tag_ridge[:d], [cfg.item_bias_reg]], 0)
        G = gram(U, free_scale * n * lam / self.n_items + EPS, cfg.item_bias_reg + EPS)
        offset = None if offsets is None else tf.concat([offsets[0], offsets[1][:, None]], 1)
        x0 = tf.concat([V, bi[:, None]], 1)
        Xi = als.solve(als.items, with_ones(U), G, ones, t_i, x0, ridge, offset)
        shared = gram(U, 0.0, 0.0)
        return [U, Xi[:, :d], bu, Xi[:, d]], (shared, ridge, tag_ridge)
