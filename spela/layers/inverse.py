"""Keras layer for the inverse short-time Fourier transform."""

from __future__ import annotations

import keras
import tensorflow as tf

from spela import filters, ops
from spela.filters._arguments import MAX_SIGNAL_LENGTH, _check_positive_int
from spela.layers._base import require_tensorflow_backend
from spela.layers.spectral import checked_stft_settings, stft_settings
from spela.ops._tensors import _dim, _shape

__all__ = ["InverseSTFT"]


@keras.saving.register_keras_serializable(package="spela")
class InverseSTFT(keras.layers.Layer):
    """Inverse short-time Fourier transform layer, numerically as ``librosa.istft``.

    Turns the output of ``STFT`` (with the same settings) back into audio:
    each frame's inverse DFT, windowed and overlap-added, divided by the
    overlap-added squared window. Every backend but ``"rfft"`` converts to
    TFLite with builtin ops only, so STFT -> mask -> InverseSTFT models
    (denoisers, separators) run on a phone.

    Parameters
    ----------
    n_fft : int, default 2048
        FFT length of the forward STFT, >= 2 (any integer).
    hop_length : int, optional
        Hop of the forward STFT; default ``win_length // 4``.
    win_length : int, optional
        Window length of the forward STFT, ``<= n_fft``; default ``n_fft``.
    window : str or tuple, default "hann"
        Window of the forward STFT. Window and hop must satisfy NOLA (the
        overlapping squared windows never sum to zero); otherwise the
        constructor raises ``ValueError``.
    center : bool, default True
        Whether the forward STFT centred its frames; the ``n_fft // 2`` padded
        samples are removed.
    length : int, optional
        Exact output length in samples (trimmed, or padded with zeros): pass
        the input's length to get it back sample for sample. Default
        ``spela.ops.istft_length(frames, ...)``.
    backend : {"auto", "rfft", "matmul", "factored"}, default "auto"
        ``"factored"`` (what ``"auto"`` is): the inverse DFT in two small
        matrix stages (BATCH_MATMUL). ``"matmul"``: one windowed inverse DFT
        matrix (FULLY_CONNECTED; int8-quantizable). ``"rfft"``: TensorFlow's
        ``irfft``, TensorFlow only (TFLite has no builtin inverse FFT).

    Input shape
    -----------
    ``(batch, frames, bins, 2)`` or ``(batch, frames, bins, channels, 2)``
    (``STFT``'s ``"real_imag"`` output), or the same without the trailing 2 as
    complex64 (its ``"complex"`` output); ``bins = n_fft // 2 + 1``.

    Output shape
    ------------
    ``(batch, samples)`` or ``(batch, samples, channels)``, float32.

    Examples
    --------
    >>> import keras, spela
    >>> audio = keras.Input((16000,))
    >>> spectrum = spela.STFT(n_fft=512, hop_length=128)(audio)
    >>> spela.InverseSTFT(n_fft=512, hop_length=128, length=16000)(spectrum).shape
    (None, 16000)
    """

    def __init__(
        self,
        n_fft: int = 2048,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str | tuple = "hann",
        center: bool = True,
        length: int | None = None,
        backend: str = "auto",
        **kwargs,
    ):
        require_tensorflow_backend()
        kwargs.setdefault("dtype", "float32")
        super().__init__(autocast=False, **kwargs)
        (
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            self.center,
            window_values,
        ) = checked_stft_settings(n_fft, hop_length, win_length, window, center)
        filters.check_nola(window_values, self.hop_length, name=f"window {window!r}")
        self.length = (
            None
            if length is None
            else _check_positive_int("length", length, maximum=MAX_SIGNAL_LENGTH)
        )
        self.backend = ops.check_backend(backend)
        ops.resolve_backend(self.backend, self.n_fft)

    @property
    def resolved_backend(self) -> str:
        """The inverse DFT this layer runs, the same on every route (``"auto"`` is factored)."""
        return ops.resolve_backend(self.backend, self.n_fft)

    def _check_input(self, shape, dtype) -> bool:
        """Whether the input has channels; raises on a shape that is not an STFT's."""
        complex_input = dtype is not None and "complex" in str(dtype)
        ranks = (3, 4) if complex_input else (4, 5)
        if len(shape) not in ranks or (not complex_input and shape[-1] != 2):
            layout = (
                "(batch, frames, bins[, channels])"
                if complex_input
                else ("(batch, frames, bins, 2) or (batch, frames, bins, channels, 2)")
            )
            raise ValueError(
                f"InverseSTFT expects an STFT output of shape {layout}, got {tuple(shape)}"
            )
        bins = self.n_fft // 2 + 1
        if shape[2] is not None and shape[2] != bins:
            raise ValueError(
                f"InverseSTFT(n_fft={self.n_fft}) expects {bins} frequency bins, "
                f"got {shape[2]}: use the n_fft of the forward STFT"
            )
        if shape[1] == 0:
            raise ValueError("InverseSTFT input has 0 frames; it needs at least 1")
        return len(shape) == ranks[1]

    def call(self, inputs):
        inputs = tf.convert_to_tensor(inputs)
        has_channels = self._check_input(tuple(inputs.shape), inputs.dtype.name)
        if inputs.dtype.is_complex:
            inputs = tf.stack([tf.math.real(inputs), tf.math.imag(inputs)], axis=-1)
        inputs = tf.cast(inputs, tf.float32)
        frames, bins = _dim(inputs, 1), self.n_fft // 2 + 1
        channels = inputs.shape[3] if has_channels else None
        if has_channels:
            # (batch, frames, bins, ch, 2) -> (batch * ch, frames, bins, 2)
            inputs = tf.transpose(inputs, [0, 3, 1, 2, 4])
        # Real and imaginary parts stay interleaved in one axis: (batch [* ch], frames, 2 * bins).
        spectrum = tf.reshape(inputs, _shape([-1, frames, 2 * bins]))
        signal = ops.istft_of_stacked(
            spectrum,
            interleaved=True,
            length=self.length,
            backend=self.resolved_backend,
            **stft_settings(self),
        )
        return signal if channels is None else ops.unfold_channels(signal, channels)

    def compute_output_shape(self, input_shape, complex_input: bool = False):
        """Output shape for a ``"real_imag"`` input (``complex_input``: a complex one)."""
        frames = input_shape[1]
        if self.length is not None:
            samples = self.length
        elif frames is None:
            samples = None
        else:
            samples = ops.istft_length(frames, self.n_fft, self.hop_length, self.center)
        has_channels = len(input_shape) == (4 if complex_input else 5)
        return (input_shape[0], samples) + ((input_shape[3],) if has_channels else ())

    def compute_output_spec(self, inputs):
        complex_input = "complex" in str(inputs.dtype)
        self._check_input(tuple(inputs.shape), inputs.dtype)
        shape = self.compute_output_shape(inputs.shape, complex_input)
        return keras.KerasTensor(shape, dtype="float32")

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(**stft_settings(self), length=self.length, backend=self.backend)
        return config
