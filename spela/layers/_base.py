"""Shared plumbing of spela's Keras layers (private)."""

from __future__ import annotations

import keras


def require_tensorflow_backend() -> None:
    """Raise a clear error unless Keras runs on TensorFlow (spela's ops are TensorFlow)."""
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "spela layers run on Keras' TensorFlow backend; set KERAS_BACKEND=tensorflow "
            f"(the current backend is {keras.backend.backend()!r})"
        )


class FeatureLayer(keras.layers.Layer):
    """Base of layers that map a spectrogram-like ``(batch, frames, bins[, channels])``.

    Computes in float32 whatever the global dtype policy (spectral values span
    too wide a range for float16), and checks the input rank at build time.
    """

    def __init__(self, **kwargs):
        require_tensorflow_backend()
        kwargs.setdefault("dtype", "float32")
        super().__init__(autocast=False, **kwargs)

    def _check_input_shape(self, input_shape) -> None:
        if len(input_shape) not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} expects input of shape (batch, frames, bins) or "
                f"(batch, frames, bins, channels), got shape {tuple(input_shape)}"
            )

    def build(self, input_shape):
        self._check_input_shape(input_shape)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        return tuple(input_shape)
