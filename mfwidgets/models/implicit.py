"""The implicit family: weighted matrix factorization of implicit feedback (Hu, Koren and
Volinsky), trained by ALS.

Loss, per observed pair: Σ_observed c·(1 − x·y)² + Σ_unobserved (x·y)² + λ(‖U‖² + ‖V‖²), with
confidence c = 1 + alpha·weight. The unobserved cells are never formed: their sum is the Gram
identity Σ_all (x·y)² = Σ (UᵀU)∘(VᵀV) minus the observed cells.
"""

from __future__ import annotations

from typing import Any

from .family import Family
from .tensors import Pairs, tf

#: keeps every row's system solvable at λ = 0
EPS = 1e-6


class Implicit(Family):
    """Preference 1 at every observed pair (0 elsewhere), weighted by confidence."""

    part_names = ("observed", "weighted_observed", "unobserved")
    loss_names = ("weighted_observed", "unobserved")

    def __init__(self, config, n_users, n_items, train, global_mean) -> None:
        super().__init__(config, n_users, n_items, train, global_mean)
        self.confidence = 1.0 + config.alpha * train.a

    def target(self, pairs: Pairs) -> Any:
        return tf.ones_like(pairs.a)

    def parts(self, E: list, r: Any) -> dict[str, Any]:
        U, V = E[0], E[1]
        n = float(self.train.n)
        sq = tf.square(r)
        all_sq = tf.reduce_sum(tf.matmul(U, U, True) * tf.matmul(V, V, True))
        return {
            "observed": tf.reduce_mean(sq),
            "weighted_observed": tf.reduce_sum(self.confidence * sq) / n,
            "unobserved": (all_sq - tf.reduce_sum(tf.square(r + 1.0))) / n,
        }

    def ridges(self) -> list[float]:
        lam = self.config.regularization_coeff / self.train.n
        return [lam, lam]

    def sweep(self, als: Any, E: list, offsets: list | None, free_scale: float) -> tuple:
        """Σ_all-cells c·(p − x·y)² = xᵀ(YᵀY + Yᵀ(C−I)Y)x − 2xᵀYᵀCp + …, so each row needs the
        shared Gram YᵀY plus a sum over its own observed pairs only, with weight c − 1 in the
        matrix and target c (preference 1 times confidence c)."""
        U, V = E[0], E[1]
        c, lam = self.confidence, self.config.regularization_coeff
        d = U.shape[1]
        eye = tf.eye(d)
        U = als.solve(als.users, V, tf.matmul(V, V, True) + (lam + EPS) * eye, c - 1, c, U)
        shared = tf.matmul(U, U, True)
        ridge = tf.fill([d], free_scale * lam)  # the items' free parts' ridge
        G = shared + (free_scale * lam + EPS) * eye
        offset = None if offsets is None else offsets[0]
        V = als.solve(als.items, U, G, c - 1, c, V, ridge, offset)
        return [U, V], (shared, ridge, tf.fill([d], lam))

    def metrics(self, parts: dict[str, float]) -> dict[str, float]:
        return self.errors(parts, "_observed") | {
            "observed_loss": parts["weighted_observed"],
            "unobserved_loss": parts["unobserved"],
            "regularization_loss": parts["regularization"],
        }
