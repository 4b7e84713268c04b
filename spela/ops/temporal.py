"""Graph functions along time: Savitzky-Golay deltas, exponential smoothing, PCEN."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from spela import filters
from spela.ops import _float16
from spela.ops._tensors import _dim, _shape

__all__ = [
    "delta",
    "exponential_smoothing",
    "pcen",
]


def delta(values: tf.Tensor, width: int = 9, order: int = 1, axis: int = 1) -> tf.Tensor:
    """Savitzky-Golay derivative along ``axis``, as ``librosa.feature.delta`` (``mode="interp"``).

    Parameters
    ----------
    values : tf.Tensor
        Shape ``(batch, frames, bins[, channels])``; ``values.shape[axis] >= width``.
    width : int, default 9
        Odd window length >= 3.
    order : int, default 1
        Derivative order.
    axis : int, default 1
        Axis to differentiate (1: time, 2: frequency).

    Returns
    -------
    tf.Tensor
        Same shape as ``values``.
    """
    centre, left, right = filters.delta_coefficients(width, order)
    rank = values.shape.rank
    axis = axis % rank
    order_axes = [i for i in range(rank) if i != axis] + [axis]
    moved = tf.transpose(values, order_axes)
    length = _dim(moved, rank - 1)
    inner = length - width + 1
    interior = tf.add_n(
        [float(c) * moved[..., j : j + inner] for j, c in enumerate(centre) if c != 0.0]
    )
    head = tf.matmul(moved[..., :width], tf.constant(left.T, tf.float32))
    tail = tf.matmul(moved[..., length - width :], tf.constant(right.T, tf.float32))
    result = tf.concat([head, interior, tail], axis=-1)
    return tf.transpose(result, np.argsort(order_axes).tolist())


def pcen(
    energy: tf.Tensor,
    smoothing=None,
    gain=0.98,
    bias=2.0,
    power=0.5,
    eps: float = 1e-6,
    smoothing_logit=None,
) -> tf.Tensor:
    """Per-channel energy normalization, as ``librosa.pcen``.

    Parameters
    ----------
    energy : tf.Tensor
        Shape ``(batch, frames, bins[, channels])``, non-negative, static ``frames``.
    smoothing : float or tf.Tensor, optional
        Smoother weight ``b`` (see ``spela.filters.pcen_smoothing_coefficient``).
    gain, bias, power : float or tf.Tensor
        ``alpha``, ``delta`` and ``r`` of the paper; scalars or per-bin ``(bins,)``
        (or ``(bins, 1)`` with channels). ``bias > 0`` and ``power > 0``.
    eps : float, default 1e-6
        Floor of the smoothed energy.
    smoothing_logit : tf.Tensor, optional
        ``log(b / (1 - b))`` instead of ``smoothing`` (see
        ``exponential_smoothing``).

    Returns
    -------
    tf.Tensor
        Same shape: ``(E / (eps + M)**gain + bias)**power - bias**power`` with
        ``M`` the smoothed energy, in librosa's numerically stable form.

    References
    ----------
    .. [1] Wang, Y. et al. "Trainable frontend for robust and far-field keyword
       spotting", ICASSP 2017.
    """
    smoothed = exponential_smoothing(energy, smoothing, logit=smoothing_logit)
    agc = tf.exp(-gain * _float16.log_of_sum(smoothed, float(eps)))
    return tf.pow(bias, power) * tf.math.expm1(power * tf.math.log1p(energy * agc / bias))


def exponential_smoothing(
    values: tf.Tensor, coefficient=None, initial: float = 1.0, logit=None
) -> tf.Tensor:
    """First-order smoother ``M[t] = (1 - b) M[t-1] + b x[t]`` along axis 1, exactly.

    Parameters
    ----------
    values : tf.Tensor
        Shape ``(batch, frames, ...)`` with a static ``frames``.
    coefficient : float or tf.Tensor, optional
        ``b`` in ``(0, 1]``, a scalar. A Python float is used in float64.
    initial : float, default 1.0
        ``M[-1]``; librosa's ``pcen`` starts from the steady state of a unit input.
    logit : tf.Tensor, optional
        ``log(b / (1 - b))`` instead of ``coefficient`` (e.g. a trainable weight):
        exact for ``b`` so close to 1 that ``1 - b`` would lose its digits in
        float32 (a time constant far below one frame).

    Returns
    -------
    tf.Tensor
        Same shape as ``values``.

    Notes
    -----
    Unrolled, ``M[t] = sum_{k<=t} b (1 - b)^(t-k) x[k] + (1 - b)^(t+1) M[-1]``:
    a lower-triangular matrix product over time (BATCH_MATMUL in TFLite) rather
    than a recurrence, so it converts to builtin ops and stays exact.
    """
    frames = values.shape[1]
    if frames is None:
        raise ValueError("exponential smoothing needs a static number of frames (axis 1)")
    if (coefficient is None) == (logit is None):
        raise ValueError("give exactly one of coefficient and logit")
    if logit is not None:
        logit = tf.convert_to_tensor(logit, tf.float32)
        b = tf.sigmoid(logit)
        # log(1 - sigmoid(z)) = -softplus(z), written with builtin ops.
        log_keep = -(tf.maximum(logit, 0.0) + tf.math.log1p(tf.exp(-tf.abs(logit))))
    elif isinstance(coefficient, tf.Tensor | tf.Variable):
        b = tf.cast(coefficient, tf.float32)
        log_keep = tf.math.log1p(-b)
    else:
        b = float(coefficient)
        log_keep = float(np.log1p(-b)) if b < 1.0 else -np.inf
    # b = 1 (no memory) has log(1 - b) = -inf, and -inf * 0 = NaN on the diagonal;
    # exp(-1000) is already 0 in float32.
    log_keep = tf.maximum(log_keep, -1000.0)
    lags = np.arange(frames)[:, None] - np.arange(frames)[None, :]
    weights = (
        b
        * tf.exp(log_keep * tf.constant(np.maximum(lags, 0), tf.float32))
        * tf.constant(lags >= 0, tf.float32)
    )
    carry = initial * tf.exp(log_keep * tf.constant(np.arange(1, frames + 1), tf.float32))
    flat = tf.reshape(values, _shape([-1, frames, int(np.prod(values.shape[2:]))]))
    smoothed = tf.matmul(weights, flat) + tf.reshape(carry, [frames, 1])
    return tf.reshape(smoothed, _shape([-1, *values.shape[1:]]))
