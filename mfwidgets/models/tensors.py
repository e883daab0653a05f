"""The tensors every family's maths shares: observed pairs as constants, and sparse × dense
products split into column blocks that stay on TensorFlow's fast CPU kernel.

With the families, :mod:`.kernels` and :mod:`.als`, the modules that import TensorFlow (through
:func:`.backend.import_tensorflow`, when a model is built).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import import_tensorflow

tf = import_tensorflow()

#: tf.sparse.sparse_dense_matmul on CPU slows down ~10x when the dense operand has 32 or more
#: columns; products are split into column blocks no wider than this.
MAX_SPMM_COLUMNS = 31


def column_cuts(d: int, max_width: int = MAX_SPMM_COLUMNS) -> list[tuple[int, int]]:
    """Split ``d`` columns into near-equal contiguous blocks no wider than ``max_width``."""
    n = -(-d // max_width)
    edges = np.linspace(0, d, n + 1).round().astype(int)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def spmm(S: Any, X: Any, adjoint: bool = False) -> Any:
    """S·X (or Sᵀ·X), in column blocks of X (:func:`column_cuts`) to stay on the fast CPU
    kernel."""
    cuts = column_cuts(X.shape[1])
    if len(cuts) == 1:
        return tf.sparse.sparse_dense_matmul(S, X, adjoint_a=adjoint)
    return tf.concat(
        [tf.sparse.sparse_dense_matmul(S, X[:, a:b], adjoint_a=adjoint) for a, b in cuts], axis=1
    )


def sparse_tensor(matrix: Any) -> Any:
    """A scipy sparse matrix as a tf.SparseTensor (float32, row-major order)."""
    coo = matrix.tocoo()
    indices = np.stack([coo.row, coo.col], 1).astype(np.int64)
    return tf.sparse.reorder(tf.SparseTensor(indices, coo.data.astype(np.float32), matrix.shape))


class Pairs:
    """Observed (user, item, value) pairs as constant tensors, sorted user-major."""

    def __init__(self, users: np.ndarray, items: np.ndarray, values: np.ndarray) -> None:
        order = np.lexsort((items, users))
        self.n = len(order)
        # (int32 throughout, and the sparse indices made by TensorFlow from the int32 columns:
        # numpy's int64 copies of 17.5M pairs were most of the 0.7 GiB this saves at the peak)
        self.users = np.asarray(users, dtype=np.int32)[order]
        self.items = np.asarray(items, dtype=np.int32)[order]
        self.u = tf.constant(self.users)
        self.i = tf.constant(self.items)
        self.a = tf.constant(np.asarray(values, dtype=np.float32)[order])
        self.indices = tf.cast(tf.stack([self.u, self.i], 1), tf.int64)
