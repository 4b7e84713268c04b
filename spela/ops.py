"""TensorFlow graph functions for audio front ends.

Every function here is built only from operations that lower to TFLite
builtin kernels (GATHER, CONV_2D, RFFT2D, MIRROR_PAD, ...), so graphs that use
them convert with ``TFLITE_BUILTINS`` alone. Constants come from
:mod:`spela.filters`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from spela import filters

__all__ = [
    "BACKENDS",
    "PAD_MODES",
    "fold_channels",
    "frame",
    "magnitude",
    "num_frames",
    "pad_center",
    "power",
    "resolve_backend",
    "stft",
    "unfold_channels",
]

BACKENDS = ("auto", "rfft", "matmul")
PAD_MODES = ("constant", "reflect")


def is_power_of_two(n: int) -> bool:
    """Whether ``n`` is a positive power of two (TFLite's RFFT2D needs one)."""
    return n > 0 and n & (n - 1) == 0


def resolve_backend(backend: str, n_fft: int, trainable: bool = False) -> str:
    """Pick the STFT implementation for ``backend="auto"``.

    Parameters
    ----------
    backend : {"auto", "rfft", "matmul"}
        ``"rfft"`` uses an FFT (RFFT2D in TFLite, the least arithmetic);
        ``"matmul"`` a windowed DFT matrix applied as a strided convolution
        (CONV_2D in TFLite: int8-quantizable, GPU-delegate friendly, trainable).
    n_fft : int
        FFT length in samples.
    trainable : bool, default False
        Whether the DFT kernel must be a trainable weight.

    Returns
    -------
    str
        ``"rfft"`` or ``"matmul"``. ``"auto"`` gives ``"rfft"`` when ``n_fft``
        is a power of two and the kernel is fixed, ``"matmul"`` otherwise
        (TFLite's RFFT2D accepts only power-of-two lengths).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "rfft" and trainable:
        raise ValueError(
            "trainable=True needs backend='matmul' (or 'auto'): the rfft backend has no "
            "kernel to train"
        )
    if backend != "auto":
        return backend
    return "rfft" if is_power_of_two(n_fft) and not trainable else "matmul"


def num_frames(n_samples: int, n_fft: int, hop_length: int, center: bool) -> int:
    """Number of STFT frames for a signal of ``n_samples`` samples.

    Parameters
    ----------
    n_samples : int
        Signal length in samples.
    n_fft, hop_length : int
        Frame length and hop in samples.
    center : bool
        Whether the signal is padded by ``n_fft // 2`` on both sides first.

    Returns
    -------
    int
        ``1 + n_samples // hop_length`` when centred (librosa's count),
        ``1 + (n_samples - n_fft) // hop_length`` otherwise.
    """
    if center:
        n_samples += 2 * (n_fft // 2)
    return 1 + (n_samples - n_fft) // hop_length


def _as_float32_signal(signal, name: str = "signal") -> tf.Tensor:
    signal = tf.convert_to_tensor(signal)
    if not signal.dtype.is_floating:
        raise TypeError(
            f"{name} must be a floating-point tensor (audio scaled to [-1, 1]), "
            f"got dtype {signal.dtype.name}"
        )
    return tf.cast(signal, tf.float32)


def pad_center(signal: tf.Tensor, n_fft: int, pad_mode: str = "constant") -> tf.Tensor:
    """Pad ``n_fft // 2`` samples on both sides so frame ``t`` is centred at ``t * hop``.

    Parameters
    ----------
    signal : tf.Tensor
        Shape ``(batch, samples)``.
    n_fft : int
        Frame length in samples.
    pad_mode : {"constant", "reflect"}, default "constant"
        Zeros (librosa >= 0.10 default) or mirror without repeating the edge
        sample (numpy's ``"reflect"``; needs ``samples > n_fft // 2``).

    Returns
    -------
    tf.Tensor
        Shape ``(batch, samples + 2 * (n_fft // 2))``.
    """
    if pad_mode not in PAD_MODES:
        raise ValueError(f"pad_mode must be one of {PAD_MODES}, got {pad_mode!r}")
    amount = n_fft // 2
    if amount == 0:
        return signal
    mode = "CONSTANT" if pad_mode == "constant" else "REFLECT"
    return tf.pad(signal, [[0, 0], [amount, amount]], mode=mode)


# Above this many hops per frame, slicing builds too many ops; gather instead.
_MAX_SLICES_PER_FRAME = 16


def frame(signal: tf.Tensor, frame_length: int, hop_length: int) -> tf.Tensor:
    """Slice a signal into overlapping frames (no padding).

    Parameters
    ----------
    signal : tf.Tensor
        Shape ``(batch, samples)`` with ``samples >= frame_length``.
    frame_length, hop_length : int
        Frame length and hop in samples.

    Returns
    -------
    tf.Tensor
        Shape ``(batch, frames, frame_length)`` with
        ``frames = 1 + (samples - frame_length) // hop_length``; frame ``t``
        holds ``signal[:, t * hop_length : t * hop_length + frame_length]``.

    Notes
    -----
    For a static length the signal is cut into hop-sized chunks and each frame
    is the concatenation of ``ceil(frame_length / hop_length)`` consecutive
    chunks (RESHAPE, STRIDED_SLICE and CONCATENATION in TFLite, no index
    constant); otherwise, or for very small hops, frames are gathered by index.
    """
    length = signal.shape[-1]
    slices = -(-frame_length // hop_length)
    if length is None or slices > _MAX_SLICES_PER_FRAME:
        return _frame_by_gather(signal, frame_length, hop_length)
    count = 1 + (length - frame_length) // hop_length
    chunk_count = count - 1 + slices
    needed = chunk_count * hop_length
    if needed > length:
        signal = tf.pad(signal, [[0, 0], [0, needed - length]])
    elif needed < length:
        signal = signal[:, :needed]
    chunks = tf.reshape(signal, [-1, chunk_count, hop_length])
    if slices == 1:
        return chunks[:, :, :frame_length]
    joined = tf.concat([chunks[:, j : j + count, :] for j in range(slices)], axis=-1)
    return joined[:, :, :frame_length]


def _frame_by_gather(signal: tf.Tensor, frame_length: int, hop_length: int) -> tf.Tensor:
    length = signal.shape[-1]
    if length is not None:
        count = 1 + (length - frame_length) // hop_length
        starts = np.arange(count, dtype=np.int32)[:, None] * hop_length
        indices = tf.constant(starts + np.arange(frame_length, dtype=np.int32)[None, :])
    else:
        count = 1 + (tf.shape(signal)[-1] - frame_length) // hop_length
        indices = tf.expand_dims(tf.range(count) * hop_length, 1) + tf.expand_dims(
            tf.range(frame_length), 0
        )
    return tf.gather(signal, indices, axis=-1)


def stft(
    signal,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | tuple = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    backend: str = "auto",
    kernel: tf.Tensor | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Short-time Fourier transform of a batch of signals, as ``librosa.stft``.

    Parameters
    ----------
    signal : tf.Tensor
        Shape ``(batch, samples)``, floating point.
    n_fft : int
        FFT length in samples, >= 2; any integer (powers of two are needed
        only by TFLite's RFFT2D, i.e. the ``"rfft"`` backend after export).
    hop_length : int, optional
        Hop in samples, ``1 <= hop_length <= n_fft``; defaults to ``n_fft // 4``.
    win_length : int, optional
        Window length in samples, ``<= n_fft``; the window is zero-padded to
        ``n_fft`` and centred, as librosa does. Defaults to ``n_fft``.
    window : str or tuple, default "hann"
        Periodic window by name, through ``scipy.signal.get_window``.
    center : bool, default True
        Pad ``n_fft // 2`` on both sides so frame ``t`` is centred at ``t * hop``.
    pad_mode : {"constant", "reflect"}, default "constant"
        Padding used when ``center`` is True.
    backend : {"auto", "rfft", "matmul"}, default "auto"
        See :func:`resolve_backend`.
    kernel : tf.Tensor, optional
        For ``"matmul"``: a ``(n_fft, 2 * (n_fft // 2 + 1))`` DFT kernel (e.g. a
        trainable weight) replacing the fixed windowed DFT of
        :func:`spela.filters.dft_kernel`. The window is then taken to be inside it.

    Returns
    -------
    real, imag : tf.Tensor
        Each ``(batch, frames, n_fft // 2 + 1)`` float32, the real and imaginary
        parts of ``sum_n w[n] x[t * hop + n] exp(-2 pi i k n / n_fft)``.
    """
    hop_length, window_values = _check_stft_arguments(n_fft, hop_length, win_length, window)
    backend = resolve_backend(backend, n_fft, trainable=kernel is not None)
    signal = _as_float32_signal(signal)
    if signal.shape.rank != 2:
        raise ValueError(f"signal must have shape (batch, samples), got {signal.shape}")
    if center:
        signal = pad_center(signal, n_fft, pad_mode)
    if backend == "rfft":
        frames = frame(signal, n_fft, hop_length) * tf.constant(window_values, tf.float32)
        spectrum = tf.signal.rfft(frames, fft_length=[n_fft])
        return tf.math.real(spectrum), tf.math.imag(spectrum)
    if kernel is None:
        kernel = tf.constant(filters.dft_kernel(n_fft, window_values), tf.float32)
    bins = n_fft // 2 + 1
    # A strided 1-D convolution with DFT filters frames and transforms in one
    # CONV_2D kernel, which TFLite quantizes to int8 and runs on GPU delegates.
    filters_1d = tf.reshape(kernel, [n_fft, 1, 2 * bins])
    spectrum = tf.nn.conv1d(
        tf.expand_dims(signal, -1), filters_1d, stride=hop_length, padding="VALID"
    )
    real, imag = tf.split(spectrum, 2, axis=-1)
    return real, imag


def _check_stft_arguments(n_fft, hop_length, win_length, window):
    n_fft = filters._check_positive_int("n_fft", n_fft, minimum=2)
    if hop_length is None:
        hop_length = max(1, n_fft // 4)
    hop_length = filters._check_positive_int("hop_length", hop_length)
    if hop_length > n_fft:
        raise ValueError(
            f"hop_length={hop_length} must be <= n_fft={n_fft} (larger hops skip samples)"
        )
    if win_length is None:
        win_length = n_fft
    win_length = filters._check_positive_int("win_length", win_length)
    if win_length > n_fft:
        raise ValueError(f"win_length={win_length} must be in [1, n_fft={n_fft}]")
    return hop_length, filters.window(window, win_length, periodic=True, pad_to=n_fft)


def power(real: tf.Tensor, imag: tf.Tensor) -> tf.Tensor:
    """Power spectrum ``real**2 + imag**2``, same shape as the inputs."""
    # Products rather than SQUARE: TFLite has int8 MUL kernels but no int8 SQUARE.
    return real * real + imag * imag


def magnitude(real: tf.Tensor, imag: tf.Tensor) -> tf.Tensor:
    """Magnitude spectrum ``sqrt(real**2 + imag**2)``, same shape as the inputs."""
    return tf.sqrt(power(real, imag))


def fold_channels(signal: tf.Tensor) -> tf.Tensor:
    """Move channels into the batch: ``(batch, samples, ch)`` to ``(batch * ch, samples)``."""
    return tf.reshape(tf.transpose(signal, [0, 2, 1]), _shape([-1, _dim(signal, 1)]))


def unfold_channels(values: tf.Tensor, channels: int, axis: int = -1) -> tf.Tensor:
    """Inverse of :func:`fold_channels` for per-channel outputs.

    Parameters
    ----------
    values : tf.Tensor
        Shape ``(batch * channels, *rest)``.
    channels : int
        Number of channels (static).
    axis : int, default -1
        Where the channel axis goes in the result, counted on ``(batch, *rest, ch)``.

    Returns
    -------
    tf.Tensor
        Shape ``(batch, *rest, channels)`` with the channel axis moved to ``axis``.
    """
    rank = values.shape.rank
    rest = [_dim(values, i) for i in range(1, rank)]
    unfolded = tf.reshape(values, _shape([-1, channels, *rest]))
    order = [0, *range(2, rank + 1)]
    position = axis if axis >= 0 else rank + 1 + axis
    order.insert(position, 1)
    return tf.transpose(unfolded, order)


def _dim(tensor: tf.Tensor, axis: int):
    """Static size of ``axis`` when known, else its dynamic size."""
    size = tensor.shape[axis]
    return size if size is not None else tf.shape(tensor)[axis]


def _shape(dims: list):
    """A reshape target: a plain list when all sizes are static, else a tensor."""
    if all(isinstance(d, int) for d in dims):
        return dims
    return tf.stack(dims)
