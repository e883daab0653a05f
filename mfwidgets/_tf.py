"""Lazy TensorFlow import: only the model layer calls this, and only when a model is built."""

from __future__ import annotations

import os
from types import ModuleType

INSTALL_HINT = (
    "mfwidgets needs TensorFlow to build and train models. Install it with "
    "`pip install 'mfwidgets[cpu]'` (CPU-only, small wheel where one exists) or "
    "`pip install 'mfwidgets[gpu]'` (Linux with an NVIDIA GPU)."
)


def import_tensorflow() -> ModuleType:
    """Return the tensorflow module, or raise ImportError saying what to install.

    TensorFlow's C++ info banner is silenced unless the user set TF_CPP_MIN_LOG_LEVEL.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
        raise ImportError(INSTALL_HINT) from exc
    return tf
