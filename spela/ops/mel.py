"""Matrix products over a spectrogram axis (mel filterbanks, DCTs)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from spela import filters
from spela.ops._tensors import _dim, _shape

__all__ = [
    "apply_banded_matrix",
    "apply_matrix",
]

# TFLite's dynamic-range quantization keeps constants of fewer than 1,024 entries in
# float: blocks this small keep a filterbank exact in a "dynamic" export.
_MAX_BLOCK_ENTRIES = 1023


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
    return _along_axis(
        values, axis, matrix.shape[0], matrix.shape[1], lambda flat: tf.matmul(flat, matrix)
    )


def apply_banded_matrix(values: tf.Tensor, matrix, axis: int = 2) -> tf.Tensor:
    """``apply_matrix`` for a constant banded matrix, storing only its bands.

    Parameters
    ----------
    values : tf.Tensor
        Shape ``(batch, frames, n_in[, channels])`` (for ``axis=2``).
    matrix : array_like
        Constant ``(n_in, n_out)`` matrix whose nonzero rows move down with the
        column, as a mel filterbank's (``spela.filters.band_blocks``).
    axis : int, default 2
        The axis of size ``n_in`` to transform.

    Returns
    -------
    tf.Tensor
        What ``apply_matrix(values, matrix, axis)`` returns, summing the same
        nonzero products: one matmul per block of consecutive columns over the
        rows where the block is nonzero, then one concatenation (STRIDED_SLICE,
        FULLY_CONNECTED and CONCATENATION in TFLite). For 80 mel bands of a
        512-point FFT that is 2,429 stored entries instead of 20,560. Each
        block holds fewer than 1,024 entries (one column excepted), so
        dynamic-range quantization leaves them in float.
    """
    matrix = np.asarray(matrix, np.float32)
    blocks = filters.band_blocks(matrix, max_entries=_MAX_BLOCK_ENTRIES)
    if len(blocks) == 1:
        return apply_matrix(values, matrix, axis)

    def blockwise(flat):
        parts = [
            tf.matmul(flat[:, row_start:row_stop], matrix[row_start:row_stop, start:stop])
            for row_start, row_stop, start, stop in blocks
        ]
        return tf.concat(parts, axis=-1)

    return _along_axis(values, axis, matrix.shape[0], matrix.shape[1], blockwise)


def _along_axis(values, axis, n_in, n_out, product):
    """Apply ``product`` (``(rows, n_in)`` -> ``(rows, n_out)``) along ``axis`` of ``values``."""
    rank = values.shape.rank
    axis = axis % rank
    order = [i for i in range(rank) if i != axis] + [axis]
    moved = tf.transpose(values, order) if axis != rank - 1 else values
    outer = [_dim(moved, i) for i in range(rank - 1)]
    flat = tf.reshape(moved, [-1, n_in])
    result = tf.reshape(product(flat), _shape([-1, *outer[1:], n_out]))
    if axis == rank - 1:
        return result
    inverse = np.argsort(order).tolist()
    return tf.transpose(result, inverse)
