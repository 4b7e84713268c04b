"""Power and amplitude to decibels, as librosa."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from spela.ops import _float16

# 10 / ln(10): natural log to decibels of power.
_DECIBELS_PER_NEPER = 10.0 / np.log(10.0)

__all__ = [
    "amplitude_to_db",
    "power_to_db",
]


def power_to_db(
    power_values: tf.Tensor,
    ref: float | str = 1.0,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
) -> tf.Tensor:
    """Power to decibels, ``10 * log10(max(S, amin) / ref)``, as ``librosa.power_to_db``.

    Parameters
    ----------
    power_values : tf.Tensor
        Shape ``(batch, ...)``, non-negative.
    ref : float or "max", default 1.0
        Reference power for 0 dB; ``"max"`` uses each example's maximum
        (librosa's ``ref=np.max`` applied per clip).
    amin : float, default 1e-10
        Floor applied to ``S`` and ``ref`` before the log, > 0.
    top_db : float or None, default 80.0
        If given, clip each example at ``its maximum - top_db`` dB.

    Returns
    -------
    tf.Tensor
        Same shape, dB.
    """
    reference = 1.0 if ref == "max" else max(float(amin), float(ref))
    relative = power_values if reference == 1.0 else _float16.divide(power_values, reference)
    floor = float(amin) / reference
    nepers = tf.math.log(tf.maximum(relative, floor))
    # The same floor after the log: a no-op in float32, it restores amin where a
    # float16 export has rounded the constant above to 0 (log(0) = -inf).
    nepers = _float16.maximum(nepers, float(np.log(floor)))
    decibels = _float16.multiply(nepers, _DECIBELS_PER_NEPER)
    if ref == "max" or top_db is not None:
        axes = list(range(1, power_values.shape.rank))
        peak = tf.reduce_max(decibels, axis=axes, keepdims=True)
    if top_db is not None:
        # float32 powers span less than 900 dB, so a larger top_db clips nothing.
        decibels = tf.maximum(decibels, peak - min(float(top_db), 1000.0))
    return decibels - peak if ref == "max" else decibels


def amplitude_to_db(
    amplitude: tf.Tensor,
    ref: float | str = 1.0,
    amin: float = 1e-5,
    top_db: float | None = 80.0,
) -> tf.Tensor:
    """Amplitude to decibels, ``20 * log10(max(A, amin) / ref)``, as ``librosa.amplitude_to_db``.

    Parameters are those of ``power_to_db`` for the amplitude ``A``
    (``ref="max"``: each example's maximum amplitude); computed as
    ``power_to_db(A**2, ref**2, amin**2, top_db)``.
    """
    power_ref = ref if ref == "max" else float(ref) ** 2
    return power_to_db(amplitude * amplitude, power_ref, float(amin) ** 2, top_db)
