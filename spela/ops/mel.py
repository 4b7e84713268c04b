"""Matrix products over a spectrogram axis (mel filterbanks, DCTs)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from spela.ops._tensors import _dim, _shape

__all__ = [
    "apply_matrix",
]


def apply_matrix(values: tf.Tensor, matrix, axis: int = 2) -> tf.Tensor:
    """Multiply ``values`` along ``axis`` by ``matrix`` (e.g. a mel filterbank or DCT).

    Parameters
    ----------
    values : tf.Tensor
        Shape ``(batch, frames, n_in[, channels])`` (for ``axis=2``).
    matrix : array or tf.Tensor
        Shape ``(n_in, n_out)``.
    axis : int, default 2
        The axis of size ``n_in`` to transform.

    Returns
    -------
    tf.Tensor
        ``values`` with ``axis`` replaced by ``n_out``: ``out[..., j, ...] =
        sum_i values[..., i, ...] * matrix[i, j]``. Computed as one 2-D matmul
        (FULLY_CONNECTED in TFLite, int8-quantizable).
    """
    matrix = tf.convert_to_tensor(matrix, tf.float32)
    rank = values.shape.rank
    axis = axis % rank
    order = [i for i in range(rank) if i != axis] + [axis]
    moved = tf.transpose(values, order) if axis != rank - 1 else values
    outer = [_dim(moved, i) for i in range(rank - 1)]
    flat = tf.reshape(moved, [-1, matrix.shape[0]])
    result = tf.reshape(tf.matmul(flat, matrix), _shape([-1, *outer[1:], matrix.shape[1]]))
    if axis == rank - 1:
        return result
    inverse = np.argsort(order).tolist()
    return tf.transpose(result, inverse)
