"""TensorFlow graph functions for audio front ends.

Every function here is built only from operations that lower to TFLite
builtin kernels (GATHER, BATCH_MATMUL, FULLY_CONNECTED, RFFT2D, MIRROR_PAD,
...), so graphs that use them convert with ``TFLITE_BUILTINS`` alone. Constants
come from ``spela.filters``; one module per concern, as in
``spela.layers``.
"""

from spela.ops.decibel import amplitude_to_db, power_to_db
from spela.ops.inverse import istft, istft_length, istft_of_stacked, overlap_add
from spela.ops.mel import apply_banded_matrix, apply_matrix
from spela.ops.spectral import (
    BACKENDS,
    PAD_MODES,
    check_backend,
    fold_channels,
    frame,
    is_power_of_two,
    magnitude,
    num_frames,
    pad_center,
    power,
    power_spectrogram,
    resolve_backend,
    sqrt_of_power,
    stft,
    unfold_channels,
)
from spela.ops.temporal import delta, exponential_smoothing, pcen

__all__ = [
    "BACKENDS",
    "PAD_MODES",
    "amplitude_to_db",
    "apply_banded_matrix",
    "apply_matrix",
    "check_backend",
    "delta",
    "exponential_smoothing",
    "fold_channels",
    "frame",
    "is_power_of_two",
    "istft",
    "istft_length",
    "istft_of_stacked",
    "magnitude",
    "num_frames",
    "overlap_add",
    "pad_center",
    "pcen",
    "power",
    "power_spectrogram",
    "power_to_db",
    "resolve_backend",
    "sqrt_of_power",
    "stft",
    "unfold_channels",
]
