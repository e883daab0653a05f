"""TensorFlow kernels behind CFModel: the loss in named parts, its gradients, fused descent steps.

With :mod:`.als` and :mod:`.backend`, the only modules that import TensorFlow; ``cfmodel`` imports
them when a model is built. Nothing here forms the dense users × artists matrix: predictions are
taken at the observed pairs only, the observed-MSE gradients are sparse × dense products, and the
gravity term works on the d × d Gram matrices UᵀU and VᵀV.

Why hand-written gradients: GradientTape through ``gather`` builds and scatters per-pair copies;
two sparse × dense products are several times faster and give the same numbers (tested against
the chapter's dense formulation). The residual is XLA-compiled so gather, multiply and sum fuse.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import import_tensorflow
from .config import ModelConfig

tf = import_tensorflow()

#: tf.sparse.sparse_dense_matmul on CPU slows down ~10x when the dense operand has 32 or more
#: columns; products are split into column blocks no wider than this.
MAX_SPMM_COLUMNS = 31


def column_cuts(d: int, max_width: int = MAX_SPMM_COLUMNS) -> list[tuple[int, int]]:
    """Split ``d`` columns into near-equal contiguous blocks no wider than ``max_width``."""
    n = -(-d // max_width)
    edges = np.linspace(0, d, n + 1).round().astype(int)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


class Pairs:
    """Observed (user, item, value) pairs as constant tensors, sorted user-major."""

    def __init__(self, users: np.ndarray, items: np.ndarray, values: np.ndarray) -> None:
        order = np.lexsort((items, users))
        self.n = len(order)
        self.users = np.asarray(users)[order]
        self.items = np.asarray(items)[order]
        self.u = tf.constant(self.users, tf.int32)
        self.i = tf.constant(self.items, tf.int32)
        self.a = tf.constant(np.asarray(values, dtype=np.float32)[order])
        self.indices = tf.constant(np.stack([self.users, self.items], 1), tf.int64)


@dataclass(frozen=True)
class Objective:
    """The loss of one model: its configuration (read under the config's own names), the matrix
    shape and, for the biased kind, the global mean μ.

    Plain / regularized / biased: observed MSE + regularization_coeff·(ΣU²/n_users + ΣV²/n_items)
    + gravity_coeff/(n_users·n_items)·‖UVᵀ‖²_F (+ bias ridges / n_train for the biased kind).
    Implicit: Σ_observed c·(1 − x·y)² + Σ_unobserved (x·y)² + λ(‖U‖² + ‖V‖²), per observed pair,
    the weighted matrix factorization of implicit feedback (c = 1 + alpha · weight).
    Hybrid kinds: each item's factor (bias) is V + A·T (bi + A·tb), A the row-normalised
    items × tags matrix; a tag embedding is regularized as an item row is, the L2 term reading
    regularization_coeff·(ΣU²/n_users + (κ·ΣV² + ΣT²)/n_items) (implicit: λ(‖U‖² + κ‖V‖² + ‖T‖²)),
    κ = free_reg_scale, and the tag biases join the bias ridge as item_bias_reg·Σtb²/n_train.
    """

    config: ModelConfig
    n_users: int
    n_items: int
    global_mean: float = 0.0

    @property
    def biased(self) -> bool:
        return self.config.biased

    @property
    def implicit(self) -> bool:
        return self.config.implicit

    @property
    def regularization(self) -> float:
        return self.config.regularization_coeff

    @property
    def free_scale(self) -> float:
        """κ: the items' free parts' L2 in multiples of the others' (1 but for hybrid kinds)."""
        return self.config.free_reg_scale if self.config.tagged else 1.0

    @property
    def gravity(self) -> float:
        return self.config.gravity_coeff


class Kernels:
    """Compiled loss, metrics and step functions for one model's variables and data.

    ``variables``: U, V (+ bu, bi when biased) (+ T (+ tb when biased) with ``tags``, the
    items × tags matrix of a hybrid kind, scipy CSR); params are passed in that order.
    """

    def __init__(
        self,
        variables: Sequence[Any],
        objective: Objective,
        train: Pairs,
        test: Pairs | None = None,
        tags: Any = None,
    ) -> None:
        self.variables = list(variables)
        self.obj = objective
        self.tags = None if tags is None else _sparse_tensor(tags)
        if tags is not None:
            has_pairs = np.bincount(train.items, minlength=objective.n_items) > 0
            #: 1 for the items with training pairs: the others keep a free part of 0, so
            #: their factor comes from their tags alone
            self.item_mask = tf.constant(has_pairs.astype(np.float32))
        self.train = train
        self.test = test
        self.dim = int(self.variables[0].shape[1])
        self.cuts = column_cuts(self.dim)
        self.shape = (objective.n_users, objective.n_items)
        self.snapshot = [tf.Variable(v.read_value(), trainable=False) for v in self.variables]
        # each model gets its own tf.function objects, over closures that TF tells apart (see
        # _compiled: no spurious "retracing" warnings when many models are built)
        self._residual = _compiled(lambda *args: self._residual_py(*args), jit_compile=True)
        self._sgd = None
        self._als: dict[str, Runner] = {}
        self.confidence = 1.0 + objective.config.alpha * train.a if objective.implicit else None

    # -- pieces ---------------------------------------------------------------------------------
    def _residual_py(self, params, u, i, a):
        """prediction - target at the pairs (u, i); XLA fuses the gathers, product and sum.

        Summed over column blocks: XLA's fused reduction gets twice as slow above 32 columns.
        """
        U, V = params[0], params[1]
        pred = tf.add_n(
            [
                tf.reduce_sum(tf.gather(U[:, a0:b0], u) * tf.gather(V[:, a0:b0], i), axis=1)
                for a0, b0 in self.cuts
            ]
        )
        if self.obj.biased:
            pred += self.obj.global_mean + tf.gather(params[2], u) + tf.gather(params[3], i)
        return pred - a

    def residual(self, params, pairs: Pairs, effective=None):
        """prediction − target at ``pairs``; ``effective``: :meth:`effective` of ``params``,
        when the caller has it (a hybrid's A·T is then not formed again)."""
        E = self.effective(params) if effective is None else effective
        target = tf.ones_like(pairs.a) if self.obj.implicit else pairs.a
        return self._residual(tuple(E), pairs.u, pairs.i, target)

    def tag_part(self, X, adjoint: bool = False):
        """A·X, or Aᵀ·X (A the items × tags matrix); X (rows, d) or (rows, 1)."""
        if X.shape[1] == self.dim:
            return self._spmm(self.tags, X, adjoint)
        return tf.sparse.sparse_dense_matmul(self.tags, X, adjoint_a=adjoint)

    def effective(self, params) -> list:
        """[U, V, bu, bi] as the loss sees them: for a hybrid kind V + A·T and bi + A·tb."""
        if self.tags is None:
            return list(params)
        o = self.obj
        U, V, T = params[0], params[1], params[4 if o.biased else 2]
        out = [U, V + self.tag_part(T)]
        if o.biased:
            out += [params[2], params[3] + self.tag_part(params[5][:, None])[:, 0]]
        return out

    def tag_params(self, params) -> list:
        """[T] (+ [tb] when biased) for a hybrid kind, else []."""
        return list(params[4:] if self.obj.biased else params[2:]) if self.tags is not None else []

    def _spmm(self, S, X, adjoint: bool):
        """S·X (or Sᵀ·X), in column blocks to stay on the fast CPU kernel."""
        if len(self.cuts) == 1:
            return tf.sparse.sparse_dense_matmul(S, X, adjoint_a=adjoint)
        return tf.concat(
            [tf.sparse.sparse_dense_matmul(S, X[:, a:b], adjoint_a=adjoint) for a, b in self.cuts],
            axis=1,
        )

    def loss_parts(self, params, r=None) -> dict[str, Any]:
        """Named loss parts at ``params`` (plus the test MSE when a test set exists).

        ``r``: the train residual at ``params``, when the caller already has it.
        """
        o = self.obj
        U, V = params[0], params[1]
        E = self.effective(params)
        Ve = E[1]
        tag = self.tag_params(params)
        if r is None:
            r = self.residual(params, self.train, E)
        parts = {"observed": tf.reduce_mean(tf.square(r))}
        zero = tf.constant(0.0)
        square = lambda X: tf.reduce_sum(tf.square(X))  # noqa: E731
        parts["regularization"] = (
            o.regularization
            * (
                square(U) / o.n_users
                + (o.free_scale * square(V) + (square(tag[0]) if tag else 0.0)) / o.n_items
            )
            if o.regularization and not o.implicit
            else zero
        )
        # gravity without UVᵀ: Σ (UᵀU)∘(VᵀV) = tr(UᵀU VᵀV) = ‖UVᵀ‖²_F, two d × d Gram matrices
        gram = (lambda: tf.matmul(U, U, True) * tf.matmul(Ve, Ve, True)) if o.gravity else None
        parts["gravity"] = (
            o.gravity / (o.n_users * o.n_items) * tf.reduce_sum(gram()) if gram else zero
        )
        if o.biased:
            bias = (
                o.config.user_bias_reg * square(params[2])
                + o.config.item_bias_reg * (square(params[3]) + (square(tag[1]) if tag else 0.0))
            ) / self.train.n
            parts["regularization"] += bias
        if o.implicit:  # see Objective; every part per observed pair
            n = float(self.train.n)
            sq = tf.square(r)
            parts["weighted_observed"] = tf.reduce_sum(self.confidence * sq) / n
            pred_sq = tf.reduce_sum(tf.square(r + 1.0))
            # Σ over all cells of (x·y)², again by the Gram identity; minus the observed cells
            all_sq = tf.reduce_sum(tf.matmul(U, U, True) * tf.matmul(Ve, Ve, True))
            parts["unobserved"] = (all_sq - pred_sq) / n
            parts["regularization"] = (
                o.regularization
                * (square(U) + o.free_scale * square(V) + sum(map(square, tag)))
                / n
            )
        if self.test is not None:
            parts["test"] = tf.reduce_mean(tf.square(self.residual(params, self.test, E)))
        return parts

    def _observed_products(self, params, r=None, scale=1.0):
        """(r, S·V, Sᵀ·U) where S holds ``scale`` times the train residuals r at the pairs
        (``params``: effective ones, see :meth:`effective`, when ``r`` is given)."""
        if r is None:
            r = self.residual(params, self.train)
        S = tf.SparseTensor(self.train.indices, scale * r, self.shape)
        return r, self._spmm(S, params[1], adjoint=False), self._spmm(S, params[0], adjoint=True)

    def _shrink(self, params, lr):
        """Cu, Cv with ∂(reg + gravity)/∂U = U·(I - Cu)/lr (likewise V), or None without them."""
        o = self.obj
        if not (o.regularization or o.gravity):
            return None
        U, V = params[0], params[1]
        g = 2.0 * o.gravity / (o.n_users * o.n_items)
        eye = tf.eye(self.dim)
        cu = (1.0 - lr * 2.0 * o.regularization / o.n_users) * eye - lr * g * tf.matmul(V, V, True)
        cv = (1.0 - lr * 2.0 * o.regularization / o.n_items) * eye - lr * g * tf.matmul(U, U, True)
        return cu, cv

    def _bias_grads(self, params, r, scale):
        o = self.obj
        return [
            scale * tf.math.unsorted_segment_sum(r, self.train.u, o.n_users)
            + (2.0 * o.config.user_bias_reg / self.train.n) * params[2],
            scale * tf.math.unsorted_segment_sum(r, self.train.i, o.n_items)
            + (2.0 * o.config.item_bias_reg / self.train.n) * params[3],
        ]

    def gradients(self, params, r=None):
        """Gradients of the total loss with respect to ``params``, by hand (see module doc);
        ``r``: the train residual at ``params``, when the caller has it."""
        o = self.obj
        E = self.effective(params)
        U, Ve = E[0], E[1]
        scale = 2.0 / self.train.n
        if r is None:
            r = self.residual(params, self.train, E)
        r, gU, gVe = self._observed_products(E, r, scale=scale)
        if o.gravity:  # ∂/∂U of g/2·Σ(UᵀU)∘(VᵀV) is g·U·VᵀV (and the reverse)
            g = 2.0 * o.gravity / (o.n_users * o.n_items)
            gU += g * tf.matmul(U, tf.matmul(Ve, Ve, True))
            gVe += g * tf.matmul(Ve, tf.matmul(U, U, True))
        lam = 2.0 * o.regularization
        grads = [gU + (lam / o.n_users) * U, gVe + (lam * o.free_scale / o.n_items) * params[1]]
        if o.biased:
            grads += self._bias_grads(params, r, scale)  # the ridges on the free biases
        if self.tags is None:
            return grads
        # through V + A·T: T gets Aᵀ of the effective factors' gradient (L2 apart); the items
        # without training pairs keep a free part of 0
        tag = self.tag_params(params)
        out = [grads[0], grads[1] * self.item_mask[:, None]]
        extra = [self.tag_part(gVe, adjoint=True) + (lam / o.n_items) * tag[0]]
        if o.biased:
            data_bi = grads[3] - (2.0 * o.config.item_bias_reg / self.train.n) * params[3]
            out += [grads[2], grads[3] * self.item_mask]
            extra.append(
                self.tag_part(data_bi[:, None], adjoint=True)[:, 0]
                + (2.0 * o.config.item_bias_reg / self.train.n) * tag[1]
            )
        return out + extra

    def sgd_update(self, params, lr, r=None):
        """One gradient-descent step ``p - lr·∇p``, arranged to pass over U and V once each:
        U ← U·Cu + S'·V with S' = −lr·(2/n)·residuals and Cu = I − lr·(L2 + gravity terms).
        (Hybrid kinds: the plain step ``p − lr·∇p``.)"""
        if self.tags is not None:
            return [p - lr * g for p, g in zip(params, self.gradients(params, r), strict=True)]
        U, V = params[0], params[1]
        r, dU, dV = self._observed_products(params, r, scale=-lr * 2.0 / self.train.n)
        shrink = self._shrink(params, lr)
        if shrink is None:
            new = [U + dU, V + dV]
        else:
            new = [tf.matmul(U, shrink[0]) + dU, tf.matmul(V, shrink[1]) + dV]
        if self.obj.biased:
            gb = self._bias_grads(params, r, 2.0 / self.train.n)
            new += [params[2] - lr * gb[0], params[3] - lr * gb[1]]
        return new

    # -- compiled entry points -------------------------------------------------------------------
    def _sgd_loop(self, k, learning_rate):
        """``k`` full-batch gradient-descent steps, fused; parameters carried as loop values."""

        def body(t, *params):
            return (t + 1, *self.sgd_update(params, learning_rate))

        start = (tf.constant(0), *[v.read_value() for v in self.variables])
        out = tf.while_loop(lambda t, *_: t < k, body, start)
        for v, value in zip(self.variables, out[1:], strict=True):
            v.assign(value)

    def _optimizer_loop(self, optimizer, k):
        def body(t):
            grads = self.gradients([v.read_value() for v in self.variables])
            optimizer.apply_gradients(zip(grads, self.variables, strict=True))
            return (t + 1,)

        tf.while_loop(lambda t: t < k, body, (tf.constant(0),))

    @property
    def part_names(self) -> list[str]:
        """Names of :meth:`loss_parts`, in the order :meth:`_records` stacks them."""
        names = ["observed", "regularization", "gravity"]
        if self.obj.implicit:
            names += ["weighted_observed", "unobserved"]
        return names + (["test"] if self.test is not None else [])

    def _records(self, loop, ks, *args, sgd_lr=None):
        """For each ``ks[j]``: the loss parts at the current parameters; if they are finite,
        snapshot the parameters and run ``ks[j]`` steps, else stop there.

        Many records and their steps in one compiled call (a call has a fixed cost of about half
        a step). Returns the parts as rows in :attr:`part_names` order and the wall-clock time of
        each record. With ``sgd_lr`` the first step after a record reuses its train residual.
        """
        names = self.part_names

        def body(j, ok, rows, times):
            params = [v.read_value() for v in self.variables]
            r = self.residual(params, self.train)
            parts = self.loss_parts(params, r)
            row = tf.stack([parts[name] for name in names])
            with tf.control_dependencies([row]):
                rows, times = rows.write(j, row), times.write(j, tf.timestamp())
            finite = tf.reduce_all(tf.math.is_finite(row))
            if finite:
                for s, v in zip(self.snapshot, self.variables, strict=True):
                    s.assign(v)
                k = ks[j]
                if sgd_lr is not None and k > 0:
                    for v, value in zip(
                        self.variables, self.sgd_update(params, sgd_lr, r), strict=True
                    ):
                        v.assign(value)
                    loop(k - 1, *args)
                else:
                    loop(k, *args)
            return j + 1, finite, rows, times

        m = tf.size(ks)
        start = (
            tf.constant(0),
            tf.constant(True),
            tf.TensorArray(tf.float32, size=m),
            tf.TensorArray(tf.float64, size=m),
        )
        _, _, rows, times = tf.while_loop(lambda j, ok, *_: ok & (j < m), body, start)
        return rows.stack(), times.stack()

    def runner(self, optimizer=None) -> Runner:
        """Compiled ``records`` and ``steps`` for SGD (default) or a Keras optimizer.

        The SGD runner takes the learning rate as a tensor (no retracing when it changes) and is
        built once per model; a Keras optimizer gets a fresh runner (the chapter made a fresh
        optimizer at every call to train).
        """
        if optimizer is None:
            if self._sgd is None:
                self._sgd = Runner(
                    _records_fn(lambda ks, lr: self._records(self._sgd_loop, ks, lr, sgd_lr=lr)),
                    _compiled(lambda k, lr: self._sgd_loop(k, lr)),
                )
            return self._sgd
        if not optimizer.built:  # slot variables must exist before the compiled loop runs
            optimizer.build(self.variables)
        loop = lambda k: self._optimizer_loop(optimizer, k)  # noqa: E731
        return Runner(
            _records_fn(lambda ks, lr: self._records(loop, ks)),
            _compiled(lambda k, lr: loop(k)),
        )

    def als_runner(self, solver: str = "exact") -> Runner:
        """Compiled entry points where a step is one ALS sweep (users, then items), each row
        solved exactly or by conjugate gradients (``solver="cg"``)."""
        if solver not in self._als:
            from .als import AlsSweep

            sweep = AlsSweep(self, solver)  # builds its constant tensors now, outside any trace
            loop = lambda k: sweep.loop(k)  # noqa: E731
            self._als[solver] = Runner(
                _records_fn(lambda ks, lr: self._records(loop, ks)),
                _compiled(lambda k, lr: loop(k)),
            )
        return self._als[solver]

    def restore_snapshot(self) -> None:
        for s, v in zip(self.snapshot, self.variables, strict=True):
            v.assign(s)

    def all_finite(self) -> bool:
        return all(bool(tf.reduce_all(tf.math.is_finite(v))) for v in self.variables)


def _sparse_tensor(matrix: Any):
    """A scipy CSR matrix as a tf.SparseTensor (float32, row-major order)."""
    coo = matrix.tocoo()
    indices = np.stack([coo.row, coo.col], 1).astype(np.int64)
    return tf.sparse.reorder(tf.SparseTensor(indices, coo.data.astype(np.float32), matrix.shape))


def _records_fn(fn: Callable) -> Callable:
    """``fn(ks, lr)`` compiled once for any number of records."""
    signature = [tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.float32)]
    return _compiled(fn, input_signature=signature)


class _Closure:
    """A closure as one callable object. tf.function keys its "frequent retracing" warning by a
    plain function's code, so the same lambda closed over another model's variables looked like
    a retrace of one function (a warning per run from the ninth on); an object is its own key."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.__signature__ = inspect.signature(fn)

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


def _compiled(fn: Callable, **options: Any) -> Callable:
    """``tf.function(fn)`` for a closure of one model (see :class:`_Closure`)."""
    return tf.function(_Closure(fn), **options)


@dataclass(frozen=True)
class Runner:
    """The two compiled entry points of a training run (see :meth:`Kernels.runner`)."""

    records: Callable  #: (ks, lr) -> (loss-part rows, times); see Kernels._records
    steps: Callable  #: (k, lr) -> None


class BoundRunner:
    """A runner with its learning rate, seen from the engine (:class:`.training.Kernel`)."""

    def __init__(self, kernels: Kernels, runner: Runner, learning_rate: float) -> None:
        self.kernels, self.runner = kernels, runner
        self.lr = tf.constant(learning_rate, tf.float32)

    def records(self, ks: list[int]) -> tuple[list[list[float]], list[float]]:
        rows, times = self.runner.records(tf.constant(ks, tf.int32), self.lr)
        return rows.numpy().tolist(), times.numpy().tolist()

    def steps(self, k: int) -> None:
        self.runner.steps(tf.constant(k), self.lr)

    def restore_snapshot(self) -> None:
        self.kernels.restore_snapshot()

    def all_finite(self) -> bool:
        return self.kernels.all_finite()
