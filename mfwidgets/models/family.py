"""What a family of factorization losses defines, and the defaults a new one inherits.

A family is bound to one model: its configuration, sizes, training pairs (and global mean). It
names its variables, gives its loss in named parts at the *effective* parameters (what
predictions see: for a model wearing the tag tower, an item's factor is its free part plus its
tags' part), the per-variable L2 ridges, its initial arrays and its metrics. Gradients default to
autodiff of the loss, and gradient descent to ``p − lr·∇p``; a family overrides them with faster
hand-written ones, and adds ALS by defining :meth:`Family.sweep`. The engine
(:mod:`.kernels`) and the tag tower (:mod:`.tagtower`) know nothing more of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import ModelConfig
from .tensors import Pairs, column_cuts, tf


class Family:
    """Base of the families: the observed MSE of ``U·Vᵀ`` and nothing else, by autodiff.

    Subclasses override :meth:`parts` (and ``part_names``/``loss_names``) for another loss.
    """

    #: the variables, in the order of ``params`` everywhere (rows: users, then items)
    variables: tuple[str, ...] = ("U", "V")
    #: the slots of ``params`` that hold one value (row) per item: the factor, then the bias
    item_slots: tuple[int, ...] = (1,)
    #: the loss parts :meth:`parts` returns, in the order records stack them
    part_names: tuple[str, ...] = ("observed",)
    #: the parts the loss is the sum of (with the engine's "regularization"); the rest are shown
    loss_names: tuple[str, ...] = ("observed",)

    def __init__(
        self, config: ModelConfig, n_users: int, n_items: int, train: Pairs, global_mean: float
    ) -> None:
        self.config, self.n_users, self.n_items = config, n_users, n_items
        self.train, self.global_mean = train, global_mean

    # -- what a model starts from (no TensorFlow) -------------------------------------------------
    @classmethod
    def initial_arrays(
        cls, config: ModelConfig, n_users: int, n_items: int, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """N(0, init_stddev²) factors for users, then items."""
        d, s = config.embedding_dim, config.init_stddev
        return {"U": rng.normal(0.0, s, (n_users, d)), "V": rng.normal(0.0, s, (n_items, d))}

    @classmethod
    def mean_of(cls, weights: np.ndarray) -> float:
        """The global mean a model of this family keeps (0: none)."""
        return 0.0

    # -- the loss ---------------------------------------------------------------------------------
    def target(self, pairs: Pairs) -> Any:
        """What the prediction at each pair is compared with (the observed values)."""
        return pairs.a

    def residual(self, E: list, u: Any, i: Any, a: Any) -> Any:
        """prediction − target at the pairs (u, i); summed over column blocks (XLA's fused
        reduction gets twice as slow above 32 columns)."""
        U, V = E[0], E[1]
        pred = tf.add_n(
            [
                tf.reduce_sum(tf.gather(U[:, a0:b0], u) * tf.gather(V[:, a0:b0], i), axis=1)
                for a0, b0 in column_cuts(U.shape[1])
            ]
        )
        return pred + self.offset(E, u, i) - a

    def offset(self, E: list, u: Any, i: Any) -> Any:
        """What the prediction adds to u·v (biases); 0 by default."""
        return 0.0

    def parts(self, E: list, r: Any) -> dict[str, Any]:
        """The named loss parts at the effective parameters ``E`` (``r``: their train
        residual), but for the L2 part, which the engine adds from :meth:`ridges`."""
        return {"observed": tf.reduce_mean(tf.square(r))}

    def ridges(self) -> list[float]:
        """For each variable, c in the L2 term c·Σp² (0: none)."""
        return [0.0] * len(self.variables)

    def gradients(self, E: list, r: Any) -> list:
        """Gradients of the summed ``loss_names`` parts with respect to ``E`` (by autodiff)."""
        E = list(E)
        with tf.GradientTape() as tape:
            tape.watch(E)
            r = self.residual(E, self.train.u, self.train.i, self.target(self.train))
            parts = self.parts(E, r)
            total = tf.add_n([parts[name] for name in self.loss_names])
        return tape.gradient(total, E)

    def step(self, params: list, lr: Any, r: Any) -> list | None:
        """A fused gradient-descent step, or None for the engine's ``p − lr·∇p``."""
        return None

    def sweep(self, als: Any, E: list, offsets: list | None, free_scale: float) -> tuple:
        """One ALS sweep (see :class:`.als.AlsSweep`); a family without one trains by
        gradient descent only."""
        raise NotImplementedError(f"{type(self).__name__} has no ALS sweep")

    # -- what is recorded -------------------------------------------------------------------------
    @staticmethod
    def errors(parts: dict[str, float], suffix: str = "") -> dict[str, float]:
        """``train_error`` (the observed MSE) and ``test_error`` when there is a test set, each
        name ending in ``suffix`` (the chapter's ``_observed`` beside other loss parts)."""
        named = {f"train_error{suffix}": parts["observed"]}
        return named | ({f"test_error{suffix}": parts["test"]} if "test" in parts else {})

    def metrics(self, parts: dict[str, float]) -> dict[str, float]:
        """The recorded parts under the names a history shows: :meth:`errors`, and every other
        part as ``<name>_loss``."""
        return self.errors(parts) | {
            f"{name}_loss": value
            for name, value in parts.items()
            if name not in ("observed", "test")
        }
