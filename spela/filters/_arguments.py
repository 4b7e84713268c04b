"""Argument checks and size limits shared by the constant builders (private)."""

from __future__ import annotations

import numbers

import numpy as np

from spela_tflite._checks import _check_positive_int as _check_positive_int

__all__ = []

MAX_N_FFT = 32768
"""Largest ``n_fft`` (and window, frame) any spela transform accepts."""

MAX_MATMUL_N_FFT = 8192
"""Largest ``n_fft`` of the ``"matmul"`` backend, whose DFT kernel is dense."""

MAX_N_MELS = 4096
"""Largest number of mel bands (and of MFCCs)."""

MAX_DELTA_WIDTH = 1001
"""Largest window of a delta filter, in frames."""

MAX_SIGNAL_LENGTH = 2**27
"""Largest output length an inverse STFT may be asked for, in samples (47 min at 48 kHz)."""

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_real(name: str, value) -> float:
    """A real number (not a bool) that float32 holds as a finite value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    if not np.isfinite(value) or abs(value) > _FLOAT32_MAX:
        raise ValueError(f"{name} must be a finite number (float32 range), got {value}")
    return float(value)


def _check_positive_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(value) or value <= 0 or value > _FLOAT32_MAX:
        raise ValueError(f"{name} must be a positive finite number (float32 range), got {value}")
    return float(value)


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _is_positive_number(value) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and (value > 0 or value == np.inf)
    )
