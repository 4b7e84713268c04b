"""Mel filterbank, mel spectrogram and MFCC layers with librosa's numerics."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from spela import filters, ops
from spela.filters._arguments import MAX_N_MELS, _check_bool, _check_positive_int
from spela.layers._base import FeatureLayer
from spela.layers.decibel import check_decibel_arguments
from spela.layers.spectral import _SpectralLayer, check_power
from spela.ops._tensors import _as_float32_signal

__all__ = ["MFCC", "LogMelToMFCC", "MelFilterbank", "MelSpectrogram"]


def _mel_matrix(sample_rate, n_fft, n_mels, f_min, f_max, htk, norm) -> np.ndarray:
    """``(bins, n_mels)`` filterbank (transposed librosa layout, for ``spectrum @ W``)."""
    return filters.mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max, htk, norm).T


def _set_mel_bands(layer, sample_rate, n_fft, n_mels, f_min, f_max, htk, norm) -> None:
    """Validate the mel options, store them on ``layer`` and compute the initial matrix."""
    layer._initial_mel = _mel_matrix(sample_rate, n_fft, n_mels, f_min, f_max, htk, norm)
    layer.sample_rate = float(sample_rate)
    layer.n_mels = int(n_mels)
    layer.f_min = float(f_min)
    layer.f_max = None if f_max is None else float(f_max)
    layer.htk = bool(htk)
    layer.norm = norm if norm in (None, "slaney") else float(norm)


def _add_mel_weight(layer) -> None:
    """The filterbank as a weight of ``layer``, trainable with the layer."""
    layer.filterbank = layer.add_weight(
        name="mel_filterbank",
        shape=layer._initial_mel.shape,
        initializer=keras.initializers.Constant(layer._initial_mel),
        trainable=layer.trainable,
        dtype="float32",
    )


def _apply_mel(layer, spectrum):
    """``spectrum @ filterbank`` along axis 2, storing only the bands when it can.

    A filterbank that is not trainable and still holds the mel matrix becomes
    constant blocks (``ops.apply_banded_matrix``): the exported model stores
    and multiplies about an eighth of the dense matrix. A trainable one, or
    one whose weight was set to anything else, is applied whole.
    """
    if not layer.trainable:
        # Read outside any graph being traced: the comparison is a Python bool.
        with tf.init_scope():
            current = keras.ops.convert_to_numpy(layer.filterbank)
        if np.array_equal(current, layer._initial_mel.astype(np.float32)):
            return ops.apply_banded_matrix(spectrum, current, axis=2)
    return ops.apply_matrix(spectrum, layer.filterbank, axis=2)


def _mel_config(layer) -> dict:
    return {
        "sample_rate": layer.sample_rate,
        "n_mels": layer.n_mels,
        "f_min": layer.f_min,
        "f_max": layer.f_max,
        "htk": layer.htk,
        "norm": layer.norm,
    }


@keras.saving.register_keras_serializable(package="spela")
class MelFilterbank(FeatureLayer):
    """Apply a mel filterbank to a linear-frequency spectrogram.

    Parameters
    ----------
    sample_rate : float
        Sampling rate of the audio in Hz.
    n_fft : int
        FFT length the spectrogram was computed with; the input has
        ``n_fft // 2 + 1`` bins.
    n_mels : int, default 128
        Number of mel bands.
    f_min, f_max : float
        Band edges in Hz; ``f_max`` defaults to ``sample_rate / 2`` and must not exceed it.
    htk : bool, default False
        HTK mel scale instead of Slaney's.
    norm : {"slaney", None} or float, default "slaney"
        Filter normalisation, as ``librosa.filters.mel``.
    trainable : bool, default False
        Make the filterbank a trainable weight initialised to the mel matrix.
        Not trainable, the filterbank is applied in blocks of consecutive
        bands over the bins where they are nonzero
        (``spela.ops.apply_banded_matrix``): graphs and exported files hold
        about an eighth of the dense matrix.

    Input shape
    -----------
    ``(batch, frames, n_fft // 2 + 1[, channels])``.

    Output shape
    ------------
    ``(batch, frames, n_mels[, channels])``.

    Warns
    -----
    UserWarning
        At construction, if some filters are empty (too many mels for ``n_fft``).
    """

    def __init__(
        self,
        sample_rate,
        n_fft,
        n_mels=128,
        f_min=0.0,
        f_max=None,
        htk=False,
        norm="slaney",
        trainable=False,
        **kwargs,
    ):
        super().__init__(trainable=trainable, **kwargs)
        _set_mel_bands(self, sample_rate, n_fft, n_mels, f_min, f_max, htk, norm)
        self.n_fft = int(n_fft)

    def _check_input_shape(self, input_shape) -> None:
        super()._check_input_shape(input_shape)
        bins = self.n_fft // 2 + 1
        if input_shape[2] is not None and input_shape[2] != bins:
            raise ValueError(
                f"MelFilterbank(n_fft={self.n_fft}) expects {bins} frequency bins on axis 2, "
                f"got input shape {tuple(input_shape)}"
            )

    def build(self, input_shape):
        super().build(input_shape)
        _add_mel_weight(self)

    def call(self, inputs):
        spectrum = _as_float32_signal(inputs, "MelFilterbank input")
        return _apply_mel(self, spectrum)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        return (*input_shape[:2], self.n_mels, *input_shape[3:])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(n_fft=self.n_fft, **_mel_config(self))
        return config


@keras.saving.register_keras_serializable(package="spela")
class MelSpectrogram(_SpectralLayer):
    """Mel spectrogram of raw audio, equal to ``librosa.feature.melspectrogram``.

    Parameters
    ----------
    sample_rate : float, default 16000
        Sampling rate in Hz.
    n_fft, hop_length, win_length, window, center, pad_mode, backend
        As for ``spela.STFT``.
    power : {1.0, 2.0}, default 2.0
        Exponent of the magnitude before the filterbank.
    n_mels, f_min, f_max, htk, norm
        As for ``MelFilterbank``.
    to_db : bool, default False
        Convert to decibels: ``librosa.power_to_db`` for ``power=2``,
        ``librosa.amplitude_to_db`` for ``power=1``.
    ref, amin, top_db
        Decibel options (see ``PowerToDecibel``); ``amin`` defaults to
        1e-10 for power and 1e-5 for magnitude.
    trainable : bool, default False
        Train the DFT kernel (matmul backend) and the mel filterbank. Not
        trainable, the filterbank is applied in blocks, as in ``MelFilterbank``.

    Input shape
    -----------
    ``(batch, samples)`` or ``(batch, samples, channels)``, float audio.

    Output shape
    ------------
    ``(batch, frames, n_mels)`` or ``(batch, frames, n_mels, channels)``.

    Examples
    --------
    >>> import keras, spela
    >>> x = keras.Input((16000,))
    >>> spela.MelSpectrogram(16000, n_fft=512, hop_length=160, n_mels=64, to_db=True)(x).shape
    (None, 101, 64)
    """

    def __init__(
        self,
        sample_rate=16000,
        n_fft=2048,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
        pad_mode="constant",
        power=2.0,
        n_mels=128,
        f_min=0.0,
        f_max=None,
        htk=False,
        norm="slaney",
        to_db=False,
        ref=1.0,
        amin=None,
        top_db=80.0,
        backend="auto",
        trainable=False,
        **kwargs,
    ):
        super().__init__(
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            pad_mode=pad_mode,
            backend=backend,
            trainable=trainable,
            **kwargs,
        )
        self.power = check_power(power)
        _set_mel_bands(self, sample_rate, n_fft, n_mels, f_min, f_max, htk, norm)
        if amin is None:
            amin = 1e-10 if self.power == 2.0 else 1e-5
        check_decibel_arguments(ref, amin, top_db)
        self.to_db = _check_bool("to_db", to_db)
        self.ref = ref if ref == "max" else float(ref)
        self.amin = float(amin)
        self.top_db = None if top_db is None else float(top_db)

    def build(self, input_shape):
        super().build(input_shape)
        _add_mel_weight(self)

    def call(self, inputs):
        spectrum, channels = self._spectrum(inputs)
        mel = _apply_mel(self, spectrum)
        if channels is not None:
            mel = ops.unfold_channels(mel, channels)
        # "max" references and top_db act per example over all channels, as librosa
        # does for one multichannel clip, so they come after unfolding channels.
        return self._decibels(mel) if self.to_db else mel

    def _decibels(self, mel):
        to_db = ops.power_to_db if self.power == 2.0 else ops.amplitude_to_db
        return to_db(mel, self.ref, self.amin, self.top_db)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        shape = (input_shape[0], self._num_frames(input_shape[1]), self.n_mels)
        return shape + ((input_shape[2],) if len(input_shape) == 3 else ())

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            power=self.power,
            **_mel_config(self),
            to_db=self.to_db,
            ref=self.ref,
            amin=self.amin,
            top_db=self.top_db,
        )
        return config


def _check_dct_norm(dct_norm):
    if dct_norm not in ("ortho", None):
        raise ValueError(f"dct_norm must be 'ortho' or None, got {dct_norm!r}")


@keras.saving.register_keras_serializable(package="spela")
class LogMelToMFCC(FeatureLayer):
    """MFCCs from a log-mel spectrogram: DCT-II over the mel axis, as ``librosa.feature.mfcc``.

    Parameters
    ----------
    n_mfcc : int, default 20
        Number of coefficients kept, ``<= n_mels``.
    dct_norm : {"ortho", None}, default "ortho"
        DCT normalisation.
    lifter : float, default 0.0
        Cepstral liftering (``> 0`` enables it), as librosa.

    Input shape
    -----------
    ``(batch, frames, n_mels[, channels])``, log-mel in dB.

    Output shape
    ------------
    ``(batch, frames, n_mfcc[, channels])``.
    """

    def __init__(self, n_mfcc=20, dct_norm="ortho", lifter=0.0, **kwargs):
        super().__init__(**kwargs)
        _check_positive_int("n_mfcc", n_mfcc, maximum=MAX_N_MELS)
        _check_dct_norm(dct_norm)
        filters.cepstral_matrix(1, 1, dct_norm, lifter)  # validates lifter
        self.n_mfcc = int(n_mfcc)
        self.dct_norm = dct_norm
        self.lifter = float(lifter)

    def _check_input_shape(self, input_shape) -> None:
        super()._check_input_shape(input_shape)
        if input_shape[2] is None or input_shape[2] < self.n_mfcc:
            raise ValueError(
                f"n_mfcc={self.n_mfcc} needs a static mel axis (axis 2) of at least "
                f"{self.n_mfcc} bands, got input shape {tuple(input_shape)}"
            )

    def build(self, input_shape):
        super().build(input_shape)
        self._matrix = filters.cepstral_matrix(
            self.n_mfcc, input_shape[2], self.dct_norm, self.lifter
        ).astype(np.float32)

    def call(self, inputs):
        log_mel = _as_float32_signal(inputs, "LogMelToMFCC input")
        return ops.apply_matrix(log_mel, self._matrix, axis=2)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        return (*input_shape[:2], self.n_mfcc, *input_shape[3:])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(n_mfcc=self.n_mfcc, dct_norm=self.dct_norm, lifter=self.lifter)
        return config


@keras.saving.register_keras_serializable(package="spela")
class MFCC(MelSpectrogram):
    """Mel-frequency cepstral coefficients of raw audio, as ``librosa.feature.mfcc``.

    ``power_to_db`` of a mel spectrogram (``ref=1``, ``amin=1e-10``, ``top_db=80``
    by default; ``power_to_db`` whatever ``power`` is, as librosa), then a
    DCT-II over the mel axis.

    Parameters
    ----------
    sample_rate : float, default 16000
        Sampling rate in Hz.
    n_mfcc : int, default 20
        Number of coefficients, ``<= n_mels``.
    dct_norm : {"ortho", None}, default "ortho"
        DCT normalisation.
    lifter : float, default 0.0
        Cepstral liftering, as librosa.
    **kwargs
        Any ``MelSpectrogram`` argument (``n_fft``, ``hop_length``, ``n_mels``,
        ``ref``, ``top_db``, ``backend``, ...); ``to_db`` is always True.

    Input shape
    -----------
    ``(batch, samples[, channels])``, float audio.

    Output shape
    ------------
    ``(batch, frames, n_mfcc[, channels])``.
    """

    def __init__(self, sample_rate=16000, n_mfcc=20, dct_norm="ortho", lifter=0.0, **kwargs):
        kwargs.pop("to_db", None)
        if kwargs.get("amin") is None:
            kwargs["amin"] = 1e-10
        super().__init__(sample_rate=sample_rate, to_db=True, **kwargs)
        _check_positive_int("n_mfcc", n_mfcc, maximum=MAX_N_MELS)
        if n_mfcc > self.n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} must be <= n_mels={self.n_mels}")
        _check_dct_norm(dct_norm)
        self._cepstral = filters.cepstral_matrix(n_mfcc, self.n_mels, dct_norm, lifter).astype(
            np.float32
        )
        self.n_mfcc = int(n_mfcc)
        self.dct_norm = dct_norm
        self.lifter = float(lifter)

    def call(self, inputs):
        return ops.apply_matrix(super().call(inputs), self._cepstral, axis=2)

    def _decibels(self, mel):
        return ops.power_to_db(mel, self.ref, self.amin, self.top_db)

    def compute_output_shape(self, input_shape):
        shape = super().compute_output_shape(input_shape)
        return (*shape[:2], self.n_mfcc, *shape[3:])

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("to_db")
        config.update(n_mfcc=self.n_mfcc, dct_norm=self.dct_norm, lifter=self.lifter)
        return config
