"""The engine's TensorFlow half: one model's loss, gradients and fused steps, compiled, for any
family (:mod:`.family`), with or without the tag tower (:mod:`.tagtower`). It knows no kind.

:class:`Kernels` holds one model's compiled functions; :class:`Stepper` is what the training
loop (:class:`.training.TrainingCall`) drives: records and steps by gradient descent, a Keras
optimizer or ALS sweeps, with the rollback to the last finite record. Predictions are taken at
the observed pairs only; nothing forms the dense users × items matrix. The residual is
XLA-compiled so gather, multiply and sum fuse.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from .config import ModelConfig
from .family import Family
from .tagtower import TagTower
from .tensors import Pairs, column_cuts, tf

__all__ = ["Kernels", "Pairs", "Stepper", "column_cuts", "make_kernels"]


def make_kernels(
    config: ModelConfig,
    variables: Sequence[Any],
    sizes: tuple[int, int],
    train: Pairs,
    test: Pairs | None = None,
    global_mean: float = 0.0,
    tags: Any = None,
) -> Kernels:
    """The kernels of a model of ``config``'s kind: its family bound to the data, wearing the
    tag tower when the kind is tagged (``tags``: the items × tags matrix, scipy sparse)."""
    family = config.spec.family_class()(config, *sizes, train, global_mean)
    tower = TagTower(family, tags, train) if config.spec.tagged else None
    return Kernels(variables, family, test, tower)


class Kernels:
    """Compiled loss, metrics and step functions for one model's variables and data.

    ``variables``: the family's (+ the tower's), in their order; params are passed in that order.
    """

    def __init__(
        self,
        variables: Sequence[Any],
        family: Family,
        test: Pairs | None = None,
        tower: TagTower | None = None,
    ) -> None:
        self.variables = list(variables)
        self.family, self.tower = family, tower
        self.train, self.test = family.train, test
        names = tower.variables if tower is not None else family.variables
        if len(names) != len(self.variables):
            raise ValueError(f"{type(family).__name__} needs the variables {names}")
        base = family.ridges()
        self.ridges = base if tower is None else tower.ridges(base)
        #: the parameters of the last finite record (what a divergence rolls back to)
        self.last_good = [tf.Variable(v.read_value(), trainable=False) for v in self.variables]
        # each model gets its own tf.function objects, over closures that TF tells apart (see
        # _compiled: no spurious "retracing" warnings when many models are built)
        self._residual = _compiled(
            lambda E, u, i, a: family.residual(list(E), u, i, a), jit_compile=True
        )
        self._sgd = None
        self._als: dict[str, tuple] = {}

    # -- pieces ---------------------------------------------------------------------------------
    def effective(self, params) -> list:
        """The family's parameters as the loss sees them (the tower adds the tags' parts)."""
        return list(params) if self.tower is None else self.tower.effective(params)

    def residual(self, params, pairs: Pairs, effective=None):
        """prediction − target at ``pairs``; ``effective``: :meth:`effective` of ``params``,
        when the caller has it."""
        E = self.effective(params) if effective is None else effective
        return self._residual(tuple(E), pairs.u, pairs.i, self.family.target(pairs))

    @property
    def part_names(self) -> list[str]:
        """Names of :meth:`loss_parts`, in the order :meth:`_records` stacks them."""
        test = ["test"] if self.test is not None else []
        return [*self.family.part_names, "regularization", *test]

    def loss_parts(self, params, r=None) -> dict[str, Any]:
        """Named loss parts at ``params`` (plus the test MSE when a test set exists).

        ``r``: the train residual at ``params``, when the caller already has it.
        """
        E = self.effective(params)
        if r is None:
            r = self.residual(params, self.train, E)
        parts = dict(self.family.parts(E, r))
        ridged = [c * tf.reduce_sum(tf.square(p)) for c, p in zip(self.ridges, params, strict=True)
                  if c]  # fmt: skip
        parts["regularization"] = tf.add_n(ridged) if ridged else tf.constant(0.0)
        if self.test is not None:
            parts["test"] = tf.reduce_mean(tf.square(self.residual(params, self.test, E)))
        return parts

    def metrics(self, row: list[float]) -> dict[str, float]:
        """A row of :meth:`loss_parts` values as the family names them in a history."""
        return self.family.metrics(dict(zip(self.part_names, row, strict=True)))

    def gradients(self, params, r=None) -> list:
        """Gradients of the total loss with respect to ``params``; ``r``: the train residual
        at ``params``, when the caller has it."""
        E = self.effective(params)
        if r is None:
            r = self.residual(params, self.train, E)
        grads = self.family.gradients(E, r)
        if self.tower is not None:
            grads = self.tower.pull_back(grads)
        grads = [g + 2.0 * c * p if c else g
                 for g, c, p in zip(grads, self.ridges, params, strict=True)]  # fmt: skip
        return grads if self.tower is None else self.tower.mask(grads)

    def sgd_update(self, params, lr, r=None) -> list:
        """One gradient-descent step ``p − lr·∇p`` (the family's fused one when it has one)."""
        if r is None:
            r = self.residual(params, self.train)
        fused = self.family.step(params, lr, r) if self.tower is None else None
        if fused is not None:  # (no walrus here: AutoGraph cannot convert one)
            return fused
        return [p - lr * g for p, g in zip(params, self.gradients(params, r), strict=True)]

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

    def _records(self, loop, ks, *args, sgd_lr=None):
        """For each ``ks[j]``: the loss parts at the current parameters; if they are finite,
        keep the parameters as the last good ones and run ``ks[j]`` steps, else stop there.

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
                for s, v in zip(self.last_good, self.variables, strict=True):
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

    def stepper(self, optimizer=None, learning_rate: float = 1.0) -> Stepper:
        """The compiled ``records`` and ``steps`` of SGD (default) or a Keras optimizer.

        The SGD functions take the learning rate as a tensor (no retracing when it changes) and
        are built once per model; a Keras optimizer gets fresh ones (the chapter made a fresh
        optimizer at every call to train).
        """
        if optimizer is None:
            if self._sgd is None:
                self._sgd = (
                    _records_fn(lambda ks, lr: self._records(self._sgd_loop, ks, lr, sgd_lr=lr)),
                    _compiled(lambda k, lr: self._sgd_loop(k, lr)),
                )
            return Stepper(self, *self._sgd, learning_rate)
        if not optimizer.built:  # slot variables must exist before the compiled loop runs
            optimizer.build(self.variables)
        loop = lambda k: self._optimizer_loop(optimizer, k)  # noqa: E731
        records = _records_fn(lambda ks, lr: self._records(loop, ks))
        return Stepper(self, records, _compiled(lambda k, lr: loop(k)), learning_rate)

    def als_stepper(
        self, solver: str = "exact", row_solver: str = "auto", block_bytes: int | None = None
    ) -> Stepper:
        """The compiled entry points where a step is one ALS sweep (users, then items), each row
        solved exactly or by conjugate gradients (``solver="cg"``), by the kernels
        ``row_solver`` names (see :class:`.als.AlsSweep`)."""
        from .als import BLOCK_BYTES, AlsSweep

        key = (solver, row_solver, block_bytes or BLOCK_BYTES)
        if key not in self._als:
            sweep = AlsSweep(self, *key)  # builds its constant tensors now, outside any trace
            loop = lambda k: sweep.loop(k)  # noqa: E731
            self._als = {key: (  # (only the last: each holds its own copy of the pairs)
                _records_fn(lambda ks, lr: self._records(loop, ks)),
                _compiled(lambda k, lr: loop(k)),
            )}  # fmt: skip
        return Stepper(self, *self._als[key], 1.0)

    def roll_back(self) -> None:
        """Back to the parameters of the last finite record."""
        for s, v in zip(self.last_good, self.variables, strict=True):
            v.assign(s)

    def all_finite(self) -> bool:
        return all(bool(tf.reduce_all(tf.math.is_finite(v))) for v in self.variables)


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


class Stepper:
    """What the training loop drives (:class:`.training.TrainingCall`): one optimizer's
    compiled records and steps on one model's kernels, with its learning rate."""

    def __init__(
        self, kernels: Kernels, records: Callable, steps: Callable, learning_rate: float
    ) -> None:
        self.kernels, self._records, self._steps = kernels, records, steps
        self.lr = tf.constant(learning_rate, tf.float32)

    def records(self, ks: list[int]) -> tuple[list[list[float]], list[float]]:
        """For each ks[j]: the loss parts at the current parameters (a row), then ks[j] steps;
        stops after a non-finite row. Returns the rows and each row's wall-clock time."""
        rows, times = self._records(tf.constant(ks, tf.int32), self.lr)
        return rows.numpy().tolist(), times.numpy().tolist()

    def steps(self, k: int) -> None:
        """``k`` steps, no metrics."""
        self._steps(tf.constant(k), self.lr)

    def roll_back(self) -> None:
        """Back to the parameters of the last finite record."""
        self.kernels.roll_back()

    def all_finite(self) -> bool:
        return self.kernels.all_finite()
