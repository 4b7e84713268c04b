"""Tensor plumbing shared by the graph functions (private)."""

from __future__ import annotations

import tensorflow as tf

__all__ = []


def _as_float32_signal(signal, name: str = "signal") -> tf.Tensor:
    signal = tf.convert_to_tensor(signal)
    if not signal.dtype.is_floating:
        raise TypeError(
            f"{name} must be a floating-point tensor (audio scaled to [-1, 1]), "
            f"got dtype {signal.dtype.name}"
        )
    return tf.cast(signal, tf.float32)


def _dim(tensor: tf.Tensor, axis: int):
    """Static size of ``axis`` when known, else its dynamic size."""
    size = tensor.shape[axis]
    return size if size is not None else tf.shape(tensor)[axis]


def _shape(dims: list):
    """A reshape target: a plain list when all sizes are static, else a tensor."""
    if all(isinstance(d, int) for d in dims):
        return dims
    return tf.stack(dims)
