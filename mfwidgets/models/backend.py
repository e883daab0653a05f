"""Lazy TensorFlow import: only the model layer calls this, and only when a model is built."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

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
    return tf
