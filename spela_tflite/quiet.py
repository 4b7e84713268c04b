"""Hiding TensorFlow's start-up and conversion logging."""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import sys
import tempfile

__all__ = ["import_tensorflow_quietly", "logging_hidden", "tensorflow_quietly"]

_hidden = False


def logging_hidden() -> bool:
    """Whether `import_tensorflow_quietly` hid logging for the rest of the process.

    `spela_tflite.load_interpreter` then also creates LiteRT interpreters
    quietly (LiteRT prints an ``INFO`` line for each one it gives XNNPACK).
    """
    return _hidden


def _flush_c_streams() -> None:
    """Flush C's stdio buffers, where LiteRT's notices wait until the process exits."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


@contextlib.contextmanager
def tensorflow_quietly(verbose: bool = False):
    """Run a block with standard error set aside: file descriptor 2 and ``sys.stderr``.

    TensorFlow, absl and the TFLite converter write their notices (oneDNN,
    CUDA, ``cpu_feature_guard``, converter statistics) from C++ straight to
    file descriptor 2, which ``TF_CPP_MIN_LOG_LEVEL`` does not silence in
    TensorFlow 2.16 and later, and Python-level ones (``Assets written``)
    through the ``tensorflow`` and ``absl`` loggers, which are held at
    ``ERROR`` for the block. Importing TensorFlow, or converting, inside this
    block hides them; errors still arrive as Python exceptions.

    Parameters
    ----------
    verbose : bool, default False
        True runs the block unchanged, showing everything.

    Examples
    --------
    >>> from spela_tflite.quiet import tensorflow_quietly
    >>> with tensorflow_quietly():
    ...     import tensorflow as tf
    """
    if verbose:
        yield
        return
    sys.stderr.flush()
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink, contextlib.redirect_stderr(io.StringIO()):
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                _flush_c_streams()
                os.dup2(saved, 2)
    finally:
        os.close(saved)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def import_tensorflow_quietly(verbose: bool = False) -> None:
    """Import TensorFlow and Keras, and let TensorFlow look for devices, quietly.

    After this, later imports of TensorFlow are silent; the device search
    (where CUDA reports a missing driver) is done here rather than at the
    first layer call. Command-line programs call it after parsing their
    arguments, so that ``--help`` stays fast.

    Parameters
    ----------
    verbose : bool, default False
        True shows the logging instead of hiding it.
    """
    global _hidden
    _hidden = not verbose
    with tensorflow_quietly(verbose):
        import keras
        import tensorflow as tf

        tf.config.list_physical_devices()
        keras.backend.backend()
