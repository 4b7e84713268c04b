"""Scalar constants that keep float32 precision in float16 exports (private).

A float16 TFLite export stores every float constant, scalars included, in
float16: 11 significant bits, nothing below 6e-8, nothing above 65504. A dB
scale factor then drifts by 2e-4 (0.02 dB at -100 dB), ``amin=1e-10`` becomes 0
and ``1 / eps = 1e6`` becomes infinity. The helpers here apply a scalar as a
float16-exact part plus a float16 remainder, or as a chain of products by
float16-exact powers of two. The converter folds chains of additions of
constants into one constant, but not products by constants nor a constant
applied on both sides of a MAXIMUM, so each helper uses only those. In
float32 they equal the plain operation to within float32 rounding.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

# Powers of two up to 2**14 and down to 2**-14 are normal float16 numbers.
_POWER_OF_TWO_STEP = 14


def _float16_parts(value: float) -> tuple[float, float]:
    """``(high, low)``: ``high`` is ``value`` rounded to float16, ``low`` the remainder."""
    high = float(np.float16(value))
    if not math.isfinite(high) or (high == 0.0 and value != 0.0):
        raise ValueError(f"{value!r} is outside float16's range; scale it by a power of two")
    return high, float(value - high)


def multiply(values: tf.Tensor, factor: float) -> tf.Tensor:
    """``values * factor`` as ``values * high + values * low``."""
    high, low = _float16_parts(factor)
    product = values * high
    return product + values * low if low != 0.0 else product


def maximum(values: tf.Tensor, floor: float) -> tf.Tensor:
    """``max(values, floor)`` as ``max(values - low, high) + low``."""
    high, low = _float16_parts(floor)
    if low == 0.0:
        return tf.maximum(values, high)
    return tf.maximum(values - low, high) + low


def scale_by_power_of_two(values: tf.Tensor, exponent: int) -> tf.Tensor:
    """``values * 2**exponent`` as a chain of products by at most ``2**(+-14)``."""
    step = _POWER_OF_TWO_STEP if exponent > 0 else -_POWER_OF_TWO_STEP
    while exponent != 0:
        part = step if abs(exponent) > abs(step) else exponent
        values = values * float(2.0**part)
        exponent -= part
    return values


def divide(values: tf.Tensor, divisor: float) -> tf.Tensor:
    """``values / divisor`` for ``divisor > 0`` of any magnitude.

    ``divisor = m * 2**e`` with ``m`` in [1, 2): a chain of products by powers of
    two, then ``multiply`` by ``1 / m``.
    """
    mantissa, exponent = math.frexp(divisor)
    return multiply(scale_by_power_of_two(values, 1 - exponent), 1.0 / (2.0 * mantissa))


def log_of_sum(values: tf.Tensor, offset: float) -> tf.Tensor:
    """``log(values + offset)`` for ``offset > 0`` of any magnitude.

    Computed as ``log((values * 2**k + offset * 2**k) * 2**-k)`` with ``k`` such
    that ``offset * 2**k`` lies in [1, 2): float16 then rounds the offset by at
    most 2**-11 of itself, where a plain constant ``1e-6`` would lose 1.3 %.
    """
    exponent = 1 - math.frexp(offset)[1]
    shifted = scale_by_power_of_two(values, exponent) + math.ldexp(offset, exponent)
    return tf.math.log(scale_by_power_of_two(shifted, -exponent))
