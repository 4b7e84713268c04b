"""Keras layers for the short-time Fourier transform and spectrograms."""

from __future__ import annotations

import keras
import tensorflow as tf

from spela import filters, ops
from spela.layers._base import require_tensorflow_backend
from spela.ops._tensors import _as_float32_signal
from spela.ops.spectral import _check_stft_arguments

__all__ = ["STFT", "Spectrogram"]

STFT_OUTPUTS = ("real_imag", "complex")


def check_power(power) -> float:
    """Validate a spectrogram exponent: 1 (magnitude) or 2 (power)."""
    if isinstance(power, bool) or power not in (1, 2):
        raise ValueError(f"power must be 1.0 (magnitude) or 2.0 (power), got {power!r}")
    return float(power)


def checked_stft_settings(n_fft, hop_length, win_length, window, center) -> tuple:
    """An STFT layer's framing settings, validated, with its padded window.

    Returns
    -------
    tuple
        ``(n_fft, hop_length, win_length, window, center, window_values)``: the
        defaults resolved (``hop_length = win_length // 4``, ``win_length =
        n_fft``), a window given as a list made a tuple (as a loaded config
        gives it), and the window of ``n_fft`` samples.
    """
    if isinstance(window, list):
        window = tuple(window)
    hop_length, window_values = _check_stft_arguments(n_fft, hop_length, win_length, window)
    if not isinstance(center, bool):
        raise TypeError(f"center must be True or False, got {center!r}")
    n_fft = int(n_fft)
    win_length = n_fft if win_length is None else int(win_length)
    return n_fft, hop_length, win_length, window, center, window_values


def stft_settings(layer) -> dict:
    """``n_fft``, ``hop_length``, ``win_length``, ``window`` and ``center`` of an STFT layer."""
    return dict(
        n_fft=layer.n_fft,
        hop_length=layer.hop_length,
        win_length=layer.win_length,
        window=layer.window,
        center=layer.center,
    )


class _SpectralLayer(keras.layers.Layer):
    """Shared configuration, validation and shape logic of the STFT layers."""

    def __init__(
        self,
        n_fft: int = 2048,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str | tuple = "hann",
        center: bool = True,
        pad_mode: str = "constant",
        backend: str = "auto",
        trainable: bool = False,
        **kwargs,
    ):
        require_tensorflow_backend()
        kwargs.setdefault("dtype", "float32")
        super().__init__(trainable=trainable, autocast=False, **kwargs)
        (
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            self.center,
            self._window_values,
        ) = checked_stft_settings(n_fft, hop_length, win_length, window, center)
        if pad_mode not in ops.PAD_MODES:
            raise ValueError(f"pad_mode must be one of {ops.PAD_MODES}, got {pad_mode!r}")
        self.pad_mode = pad_mode
        self.backend = ops.check_backend(backend, trainable=trainable)
        ops.resolve_backend(self.backend, self.n_fft)  # checks n_fft against the backend
        self.kernel = None

    @property
    def resolved_backend(self) -> str:
        """The STFT implementation this layer runs, the same on every route.

        See ``spela.ops.resolve_backend``.
        """
        return ops.resolve_backend(self.backend, self.n_fft)

    @property
    def n_bins(self) -> int:
        """Number of frequency bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    def _check_input_shape(self, input_shape) -> None:
        if len(input_shape) not in (2, 3):
            raise ValueError(
                f"{type(self).__name__} expects input of shape (batch, samples) or "
                f"(batch, samples, channels), got shape {tuple(input_shape)}"
            )
        length = input_shape[1]
        if length is None:
            return
        if length == 0:
            raise ValueError(f"{type(self).__name__} input has 0 samples; it needs at least 1")
        if not self.center and length < self.n_fft:
            raise ValueError(
                f"input has {length} samples, fewer than n_fft={self.n_fft}; "
                "use center=True or a smaller n_fft"
            )
        if self.center and self.pad_mode == "reflect" and length <= self.n_fft // 2:
            raise ValueError(
                f"pad_mode='reflect' needs more than n_fft // 2 = {self.n_fft // 2} "
                f"samples, input has {length}"
            )

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        if self.resolved_backend == "matmul":
            initial = filters.dft_kernel(self.n_fft, self._window_values)
            self.kernel = self.add_weight(
                name="dft_kernel",
                shape=initial.shape,
                initializer=keras.initializers.Constant(initial),
                trainable=self.trainable,
                dtype="float32",
            )

    def _num_frames(self, length):
        if length is None:
            return None
        return ops.num_frames(length, self.n_fft, self.hop_length, self.center)

    def _folded_input(self, inputs) -> tuple[tf.Tensor, int | None]:
        """Float32 ``(batch * ch, samples)`` signal and the channel count (None if absent)."""
        inputs = _as_float32_signal(inputs, name=f"{type(self).__name__} input")
        # A model built for any length sees the real length when it is traced.
        self._check_input_shape(tuple(inputs.shape))
        if inputs.shape.rank == 3:
            return ops.fold_channels(inputs), inputs.shape[-1]
        return inputs, None

    def _stft_arguments(self) -> dict:
        return dict(
            **stft_settings(self),
            pad_mode=self.pad_mode,
            backend=self.resolved_backend,
            kernel=None if self.kernel is None else tf.convert_to_tensor(self.kernel),
        )

    def _transform(self, inputs) -> tuple[tf.Tensor, tf.Tensor, int | None]:
        """Real and imaginary parts ``(batch * ch, frames, bins)`` and the channel count."""
        signal, channels = self._folded_input(inputs)
        real, imag = ops.stft(signal, **self._stft_arguments())
        return real, imag, channels

    def _spectrum(self, inputs) -> tuple[tf.Tensor, int | None]:
        """``|X| ** self.power`` as ``(batch * ch, frames, bins)`` and the channel count."""
        signal, channels = self._folded_input(inputs)
        powers = ops.power_spectrogram(signal, **self._stft_arguments())
        return (powers if self.power == 2.0 else ops.sqrt_of_power(powers)), channels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            **stft_settings(self),
            pad_mode=self.pad_mode,
            # A trainable "auto" is stored as "matmul", the backend its saved
            # kernel belongs to.
            backend=self.backend,
        )
        return config


@keras.saving.register_keras_serializable(package="spela")
class STFT(_SpectralLayer):
    """Short-time Fourier transform layer, numerically as ``librosa.stft``.

    Parameters
    ----------
    n_fft : int, default 2048
        FFT length in samples, >= 2 (any integer; see ``backend``).
    hop_length : int, optional
        Hop between frames in samples, ``1 <= hop_length <= n_fft``;
        default ``win_length // 4`` (librosa's).
    win_length : int, optional
        Window length in samples, ``<= n_fft``, zero-padded to ``n_fft`` and
        centred; default ``n_fft``.
    window : str or tuple, default "hann"
        Periodic window name for ``scipy.signal.get_window`` (``"hann"``,
        ``"hamming"``, ``"blackman"``, ``("kaiser", 8.0)``, ...).
    center : bool, default True
        Pad ``n_fft // 2`` samples on both sides so frame ``t`` is centred at
        sample ``t * hop_length`` (librosa); False starts frame 0 at sample 0
        (tf.signal, Kaldi).
    pad_mode : {"constant", "reflect"}, default "constant"
        Padding for ``center=True``: zeros (librosa >= 0.10) or mirror.
    backend : {"auto", "rfft", "matmul", "factored"}, default "auto"
        ``"rfft"``: FFT (RFFT2D in TFLite; power-of-two ``n_fft`` only after
        export; not int8-quantizable). ``"matmul"``: frames times the windowed
        DFT matrix (FULLY_CONNECTED; int8-quantizable, trainable).
        ``"factored"``: the DFT in two small matrix stages (BATCH_MATMUL; the
        fastest on a CPU in TFLite, any ``n_fft``). ``"auto"`` is
        ``"matmul"`` when trainable and ``"factored"`` otherwise, on every
        route (eager, graph, SavedModel, every TFLite converter); see
        ``spela.ops.resolve_backend``.
    output_format : {"real_imag", "complex"}, default "real_imag"
        ``"real_imag"`` stacks real and imaginary parts in a trailing axis of
        size 2 (converts to TFLite); ``"complex"`` returns complex64 (TensorFlow
        only: TFLite has no builtin op that builds complex tensors).
    trainable : bool, default False
        Make the ``"matmul"`` DFT kernel a trainable weight, initialised to the
        windowed DFT.

    Input shape
    -----------
    ``(batch, samples)`` or ``(batch, samples, channels)``, float, audio in [-1, 1].

    Output shape
    ------------
    ``(batch, frames, bins, 2)`` or ``(batch, frames, bins, channels, 2)``
    (``"real_imag"``); without the trailing 2 for ``"complex"``. ``bins`` is
    ``n_fft // 2 + 1``; ``frames`` is ``1 + (samples + 2 * (n_fft // 2) - n_fft)
    // hop_length`` when centred (``1 + samples // hop_length`` for even
    ``n_fft``, ``1 + (samples - 1) // hop_length`` for odd), ``1 + (samples -
    n_fft) // hop_length`` otherwise.

    Examples
    --------
    >>> import keras, spela
    >>> x = keras.Input((16000,))
    >>> spela.STFT(n_fft=512, hop_length=160)(x).shape
    (None, 101, 257, 2)
    """

    def __init__(
        self,
        n_fft: int = 2048,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str | tuple = "hann",
        center: bool = True,
        pad_mode: str = "constant",
        backend: str = "auto",
        output_format: str = "real_imag",
        trainable: bool = False,
        **kwargs,
    ):
        super().__init__(
            n_fft, hop_length, win_length, window, center, pad_mode, backend, trainable, **kwargs
        )
        if output_format not in STFT_OUTPUTS:
            raise ValueError(f"output_format must be one of {STFT_OUTPUTS}, got {output_format!r}")
        self.output_format = output_format

    def call(self, inputs):
        real, imag, channels = self._transform(inputs)
        if self.output_format == "complex":
            result = tf.complex(real, imag)
            return result if channels is None else ops.unfold_channels(result, channels)
        result = tf.stack([real, imag], axis=-1)
        return result if channels is None else ops.unfold_channels(result, channels, axis=-2)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        shape = (input_shape[0], self._num_frames(input_shape[1]), self.n_bins)
        if len(input_shape) == 3:
            shape += (input_shape[2],)
        return shape + ((2,) if self.output_format == "real_imag" else ())

    def compute_output_spec(self, inputs):
        dtype = "complex64" if self.output_format == "complex" else "float32"
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config["output_format"] = self.output_format
        return config


@keras.saving.register_keras_serializable(package="spela")
class Spectrogram(_SpectralLayer):
    """Magnitude or power spectrogram layer, as ``abs(librosa.stft(...)) ** power``.

    Parameters
    ----------
    n_fft, hop_length, win_length, window, center, pad_mode, backend, trainable
        As for ``STFT``.
    power : {1.0, 2.0}, default 2.0
        1 for the magnitude ``|X|``, 2 for the power ``|X|**2``.

    Input shape
    -----------
    ``(batch, samples)`` or ``(batch, samples, channels)``, float.

    Output shape
    ------------
    ``(batch, frames, n_fft // 2 + 1)`` or ``(batch, frames, n_fft // 2 + 1, channels)``,
    float32, channels last.

    Examples
    --------
    >>> import keras, spela
    >>> x = keras.Input((16000,))
    >>> spela.Spectrogram(n_fft=400, hop_length=160)(x).shape
    (None, 101, 201)
    """

    def __init__(
        self,
        n_fft: int = 2048,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str | tuple = "hann",
        center: bool = True,
        pad_mode: str = "constant",
        backend: str = "auto",
        power: float = 2.0,
        trainable: bool = False,
        **kwargs,
    ):
        super().__init__(
            n_fft, hop_length, win_length, window, center, pad_mode, backend, trainable, **kwargs
        )
        self.power = check_power(power)

    def call(self, inputs):
        result, channels = self._spectrum(inputs)
        return result if channels is None else ops.unfold_channels(result, channels)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        shape = (input_shape[0], self._num_frames(input_shape[1]), self.n_bins)
        return shape + ((input_shape[2],) if len(input_shape) == 3 else ())

    def get_config(self) -> dict:
        config = super().get_config()
        config["power"] = self.power
        return config
