"""Scalar constants that keep float32 precision in float16 exports (private).

A float16 TFLite export stores every float constant, scalars included, in
float16: 11 significant bits, nothing below 6e-8, nothing above 65504. A dB
scale factor then drifts by 2e-4 (0.02 dB at -100 dB), ``amin=1e-10`` becomes 0
and ``1 / eps = 1e6`` becomes infinity. The helpers here apply a scalar as a
float16-exact part plus a float16 remainder, or as a chain of float16-exact
powers of two; the converter does not fold either back into one constant
because the other operand is computed at run time. In float32 they equal the
plain operation to within float32 rounding.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

# The largest power of two whose reciprocal and itself are both normal float16 numbers.
_POWER_OF_TWO_STEP = 14


def _float16_parts(value: float) -> tuple[float, float]:
    """``(high, low)`` with ``high + low == value`` and both exact in float16 to ~2**-22."""
    high = float(np.float16(value))
    if not math.isfinite(high) or (high == 0.0 and value != 0.0):
        raise ValueError(f"{value!r} is outside float16's range; scale it by a power of two")
    return high, float(value - high)


def multiply(values: tf.Tensor, factor: float) -> tf.Tensor:
    """``values * factor`` as ``values * high + values * low`` (see the module)."""
    high, low = _float16_parts(factor)
    product = values * high
    return product + values * low if low != 0.0 else product


def add(values: tf.Tensor, term: float) -> tf.Tensor:
    """``values + term`` as ``(values + high) + low``."""
    high, low = _float16_parts(term)
    total = values + high if high != 0.0 else values
    return total + low if low != 0.0 else total


def maximum(values: tf.Tensor, floor: float) -> tf.Tensor:
    """``max(values, floor)`` as ``max(values - low, high) + low``."""
    high, low = _float16_parts(floor)
    if low == 0.0:
        return tf.maximum(values, high)
    return tf.maximum(values - low, high) + low


def scale_by_power_of_two(values: tf.Tensor, exponent: int) -> tf.Tensor:
    """``values * 2**exponent`` as a chain of products by ``2**(+-14)`` at most."""
    step = _POWER_OF_TWO_STEP if exponent > 0 else -_POWER_OF_TWO_STEP
    while exponent != 0:
        part = step if abs(exponent) > abs(step) else exponent
        values = values * float(2.0**part)
        exponent -= part
    return values


def log_of_sum(values: tf.Tensor, offset: float) -> tf.Tensor:
    """``log(values + offset)`` for ``offset > 0`` of any magnitude.

    Computed as ``log(values * 2**k + offset * 2**k) - k log(2)`` with ``k`` such
    that ``offset * 2**k`` lies in [1, 2), so no constant leaves float16's range.
    """
    exponent = -math.frexp(offset)[1] + 1
    shifted = add(scale_by_power_of_two(values, exponent), math.ldexp(offset, exponent))
    return add(tf.math.log(shifted), -exponent * math.log(2.0))
