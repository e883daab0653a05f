"""Lazy TensorFlow import, and the small TensorFlow/Keras helpers the models floor needs.

Only the models floor calls these, and only when a model is built.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from ..memory import freeze_imports

INSTALL_HINT = (
    "mfwidgets needs TensorFlow to build and train models. Install it with "
    "`pip install 'mfwidgets[cpu]'` (CPU-only, small wheel where one exists) or "
    "`pip install 'mfwidgets[gpu]'` (Linux with an NVIDIA GPU)."
)


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence C++ writes to file descriptor 2 for the duration (Python errors still raise).

    TensorFlow 2.21 logs CPU-feature and oneDNN notices through absl before its logging is
    initialised; no environment variable hides them, and in a notebook they show up as red
    stderr boxes on the first model built.
    """
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ else 2
        saved = os.dup(fd)
    except (OSError, ValueError):  # no real stderr (embedded interpreters): nothing to hide
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def import_tensorflow() -> ModuleType:
    """Return the tensorflow module, or raise ImportError saying what to install.

    The first import runs one tiny op with native stderr silenced (see _quiet_native_stderr);
    TF_CPP_MIN_LOG_LEVEL defaults to 2 unless the user set it.
    """
    if "tensorflow" in sys.modules and sys.modules["tensorflow"] is not None:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with _quiet_native_stderr():
            import tensorflow as tf

            tf.constant([1.0]) * 2.0  # the first op prints the oneDNN notice
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    freeze_imports()  # its ~360,000 objects live as long as the process: collections skip them
    return tf


def keras_optimizer(name_or_instance: Any, learning_rate: float):
    """A fresh Keras optimizer for "adagrad" or "adam", or the instance as given.

    (Plain gradient descent, the chapter's, never goes through Keras: see Kernels.sgd_update.)
    """
    import keras

    if isinstance(name_or_instance, str):
        classes = {"adagrad": keras.optimizers.Adagrad, "adam": keras.optimizers.Adam}
        return classes[name_or_instance](learning_rate=learning_rate)
    return name_or_instance


def is_keras_optimizer(obj: Any) -> bool:
    """True for a Keras optimizer instance (what ``train(optimizer=...)`` also accepts)."""
    import keras

    return isinstance(obj, keras.optimizers.Optimizer)


def new_variable(value: np.ndarray, name: str):
    """A float32 ``tf.Variable`` holding ``value``."""
    return import_tensorflow().Variable(np.asarray(value, dtype=np.float32), name=name)


def sparse_tensor(users: np.ndarray, items: np.ndarray, values: np.ndarray, shape):
    """A canonical-order ``tf.SparseTensor`` of float32 values with the given dense shape."""
    tf = import_tensorflow()
    st = tf.SparseTensor(
        indices=np.stack([users, items], 1).astype(np.int64),
        values=np.asarray(values, dtype=np.float32),
        dense_shape=[int(s) for s in shape],
    )
    return tf.sparse.reorder(st)
