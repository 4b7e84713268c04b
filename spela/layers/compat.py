"""The spela 0.0.5 layers, kept working on today's layers (deprecated).

spela 0.0.5 took ``(batch, channels, samples)`` audio, framed it as a strided
convolution with ``padding="same"`` or ``"valid"``, and returned
``(batch, freq, time, channels)`` images (``(batch, channels, freq, time)`` for
``channels_first``) with decibels ``10 * log10`` of the output relative to each
example's maximum, clipped at -80 dB. These classes reproduce that on
``spela.Spectrogram`` and ``spela.MelSpectrogram``; see
``docs/upgrading.md`` for the arguments' new names.
"""

from __future__ import annotations

import warnings

import keras
import tensorflow as tf

from spela import ops
from spela.filters._arguments import _check_bool, _check_positive_float, _check_positive_int
from spela.layers.mel import MelSpectrogram
from spela.layers.spectral import Spectrogram as _Spectrogram
from spela.ops._tensors import _as_float32_signal

__all__ = ["LegacyMelspectrogram", "LegacySpectrogram"]

PADDINGS = ("same", "valid")
IMAGE_DATA_FORMATS = ("default", "channels_first", "channels_last")


def _same_padding(signal: tf.Tensor, frame_length: int, hop_length: int) -> tf.Tensor:
    """Zeros around ``(batch, samples, ch)`` as TensorFlow's strided ``"same"`` convolution adds.

    ``ceil(samples / hop)`` frames; ``(frames - 1) * hop + frame_length - samples``
    zeros in all (at least 0), the smaller half before the signal.
    """
    length = tf.shape(signal)[1]
    frames = (length + hop_length - 1) // hop_length
    total = tf.maximum((frames - 1) * hop_length + frame_length - length, 0)
    return tf.pad(signal, [[0, 0], [total // 2, total - total // 2], [0, 0]])


def _legacy_decibels(values: tf.Tensor) -> tf.Tensor:
    """0.0.5's ``amplitude_to_decibel``: ``10 log10(max(x, 1e-10))`` less each example's
    maximum, clipped at -80 dB, whatever ``x`` is (power or amplitude)."""
    return ops.power_to_db(values, ref="max", amin=1e-10, top_db=80.0)


class _LegacyLayer(keras.layers.Layer):
    """Shared 0.0.5 arguments, framing and output layout."""

    _old_path = ""
    _replacement = ""

    def __init__(
        self,
        n_dft=512,
        n_hop=None,
        padding="same",
        trainable_kernel=False,
        image_data_format="default",
        **kwargs,
    ):
        warnings.warn(
            f"{self._old_path} is the spela 0.0.5 API, kept for upgrading; use "
            f"{self._replacement} (see the 'Upgrading from spela 0.0.5' page)",
            DeprecationWarning,
            stacklevel=3,
        )
        super().__init__(**kwargs)
        self.n_dft = _check_positive_int("n_dft", n_dft, minimum=2)
        self.n_hop = self.n_dft // 2 if n_hop is None else _check_positive_int("n_hop", n_hop)
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        self.padding = padding
        self.trainable_kernel = _check_bool("trainable_kernel", trainable_kernel)
        if image_data_format not in IMAGE_DATA_FORMATS:
            raise ValueError(
                f"image_data_format must be one of {IMAGE_DATA_FORMATS}, got {image_data_format!r}"
            )
        if image_data_format == "default":
            image_data_format = keras.config.image_data_format()
        self.image_data_format = image_data_format

    def _frames_args(self) -> dict:
        return {"n_fft": self.n_dft, "hop_length": self.n_hop, "center": False}

    def _images(self, inputs, exponent: float, decibels: bool) -> tf.Tensor:
        """0.0.5's output of the wrapped spela layer on ``(batch, channels, samples)``."""
        signal = tf.transpose(_as_float32_signal(inputs, f"{self._old_path} input"), [0, 2, 1])
        if self.padding == "same":
            signal = _same_padding(signal, self.n_dft, self.n_hop)
        values = self._features(signal)  # (batch, frames, bins, channels), power
        if exponent != 2.0:
            values = tf.pow(ops.sqrt_of_power(values), exponent)
        if decibels:
            values = _legacy_decibels(values)
        order = [0, 3, 2, 1] if self.image_data_format == "channels_first" else [0, 2, 1, 3]
        return tf.transpose(values, order)

    def build(self, input_shape):
        self._check_inputs(input_shape)
        # The spela layer sees (batch, samples, channels), padded to any length.
        self._features.build((input_shape[0], None, input_shape[1]))

    def _check_inputs(self, input_shape) -> None:
        if len(input_shape) != 3:
            raise ValueError(
                f"{self._old_path} expects input of shape (batch, channels, samples), "
                f"got shape {tuple(input_shape)}"
            )

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        batch, channels, length = input_shape
        frames = None
        if length is not None:
            if self.padding == "same":
                frames = -(-length // self.n_hop)
            else:
                frames = 1 + (length - self.n_dft) // self.n_hop
        image = (self._bands, frames)
        if self.image_data_format == "channels_first":
            return (batch, channels, *image)
        return (batch, *image, channels)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            n_dft=self.n_dft,
            n_hop=self.n_hop,
            padding=self.padding,
            trainable_kernel=self.trainable_kernel,
            image_data_format=self.image_data_format,
        )
        return config


@keras.saving.register_keras_serializable(package="spela.v0")
class LegacySpectrogram(_LegacyLayer):
    """spela 0.0.5's ``Spectrogram``, importable as ``spela.spectrogram.Spectrogram`` (deprecated).

    Parameters
    ----------
    n_dft : int, default 512
        FFT length in samples (0.0.5 required a power of two; any size >= 2 works).
    n_hop : int, optional
        Hop in samples; defaults to ``n_dft // 2``.
    padding : {"same", "valid"}, default "same"
        ``"same"``: ``ceil(samples / n_hop)`` frames over a zero-padded signal,
        as a strided convolution pads; ``"valid"``: no padding.
    power_spectrogram : float, default 2.0
        2 for power, 1 for magnitude (any positive exponent of the magnitude).
    return_decibel_spectrogram : bool, default False
        ``10 log10`` of the output relative to each example's maximum, clipped
        at -80 dB (also for magnitudes: half the dB of ``20 log10``).
    trainable_kernel : bool, default False
        Train the DFT kernel (the ``"matmul"`` backend).
    image_data_format : {"default", "channels_first", "channels_last"}
        Output layout; ``"default"`` follows ``keras.config.image_data_format()``.

    Input shape
    -----------
    ``(batch, channels, samples)``, floats.

    Output shape
    ------------
    ``(batch, n_dft // 2 + 1, frames, channels)``, or ``(batch, channels,
    n_dft // 2 + 1, frames)`` for ``channels_first``.
    """

    _old_path = "spela.spectrogram.Spectrogram"
    _replacement = "spela.Spectrogram(n_fft=n_dft, hop_length=n_hop, center=False)"

    def __init__(
        self,
        n_dft=512,
        n_hop=None,
        padding="same",
        power_spectrogram=2.0,
        return_decibel_spectrogram=False,
        trainable_kernel=False,
        image_data_format="default",
        **kwargs,
    ):
        super().__init__(n_dft, n_hop, padding, trainable_kernel, image_data_format, **kwargs)
        self.power_spectrogram = _check_positive_float("power_spectrogram", power_spectrogram)
        self.return_decibel_spectrogram = _check_bool(
            "return_decibel_spectrogram", return_decibel_spectrogram
        )
        self._bands = self.n_dft // 2 + 1
        self._features = _Spectrogram(
            **self._frames_args(),
            backend="matmul" if self.trainable_kernel else "auto",
            trainable=self.trainable_kernel,
        )

    def call(self, inputs):
        self._check_inputs(inputs.shape)
        return self._images(inputs, self.power_spectrogram, self.return_decibel_spectrogram)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            power_spectrogram=self.power_spectrogram,
            return_decibel_spectrogram=self.return_decibel_spectrogram,
        )
        return config


@keras.saving.register_keras_serializable(package="spela.v0")
class LegacyMelspectrogram(_LegacyLayer):
    """spela 0.0.5's ``Melspectrogram``, importable as ``spela.melspectrogram.Melspectrogram``
    (deprecated).

    Parameters
    ----------
    sr : int, default 22050
        Sample rate in Hz.
    n_mels : int, default 128
        Mel bands.
    fmin, fmax : float
        Band edges in Hz; ``fmax`` defaults to ``sr / 2``.
    power_melgram : float, default 1.0
        The mel power spectrum is raised to ``power_melgram / 2``: 1 gives a
        "magnitude" mel spectrogram, 2 the mel power spectrum.
    return_decibel_melgram : bool, default False
        As ``return_decibel_spectrogram`` of ``LegacySpectrogram``.
    trainable_fb : bool, default False
        Train the mel filterbank (and, in spela 1.0, the DFT kernel with it).
    htk : bool, default False
        HTK mel scale.
    norm : 1, "slaney", None or a positive number, default 1
        0.0.5's ``norm=1`` (librosa's area normalization then) is ``"slaney"``.
    **kwargs
        ``n_dft``, ``n_hop``, ``padding``, ``trainable_kernel``,
        ``image_data_format`` as in ``LegacySpectrogram``.

    Input shape
    -----------
    ``(batch, channels, samples)``, floats.

    Output shape
    ------------
    ``(batch, n_mels, frames, channels)``, or ``(batch, channels, n_mels, frames)``
    for ``channels_first``.
    """

    _old_path = "spela.melspectrogram.Melspectrogram"
    _replacement = (
        "spela.MelSpectrogram(sample_rate=sr, n_fft=n_dft, hop_length=n_hop, center=False, "
        "n_mels=n_mels, f_min=fmin, f_max=fmax)"
    )

    def __init__(
        self,
        sr=22050,
        n_mels=128,
        fmin=0.0,
        fmax=None,
        power_melgram=1.0,
        return_decibel_melgram=False,
        trainable_fb=False,
        htk=False,
        norm=1,
        n_dft=512,
        n_hop=None,
        padding="same",
        trainable_kernel=False,
        image_data_format="default",
        power_spectrogram=2.0,
        **kwargs,
    ):
        super().__init__(n_dft, n_hop, padding, trainable_kernel, image_data_format, **kwargs)
        if power_spectrogram != 2.0:
            raise ValueError(
                f"power_spectrogram must be 2.0 in Melspectrogram, got {power_spectrogram!r}"
            )
        self.sr = _check_positive_int("sr", sr)
        self.fmin, self.fmax = fmin, fmax
        self.power_melgram = _check_positive_float("power_melgram", power_melgram)
        self.return_decibel_melgram = _check_bool("return_decibel_melgram", return_decibel_melgram)
        self.trainable_fb = _check_bool("trainable_fb", trainable_fb)
        self.htk, self.norm = htk, norm
        self._bands = _check_positive_int("n_mels", n_mels)
        self._features = MelSpectrogram(
            sample_rate=self.sr,
            **self._frames_args(),
            n_mels=n_mels,
            f_min=fmin,
            f_max=fmax,
            htk=htk,
            norm="slaney" if norm == 1 and not isinstance(norm, bool) else norm,
            backend="matmul" if self.trainable_kernel or self.trainable_fb else "auto",
            trainable=self.trainable_kernel or self.trainable_fb,
        )

    def call(self, inputs):
        self._check_inputs(inputs.shape)
        return self._images(inputs, self.power_melgram, self.return_decibel_melgram)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            sr=self.sr,
            n_mels=self._bands,
            fmin=self.fmin,
            fmax=self.fmax,
            power_melgram=self.power_melgram,
            return_decibel_melgram=self.return_decibel_melgram,
            trainable_fb=self.trainable_fb,
            htk=self.htk,
            norm=self.norm,
        )
        return config
