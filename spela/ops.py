"""TensorFlow graph functions for audio front ends.

Every function here is built only from operations that lower to TFLite
builtin kernels (GATHER, CONV_2D, RFFT2D, MIRROR_PAD, ...), so graphs that use
them convert with ``TFLITE_BUILTINS`` alone. Constants come from
:mod:`spela.filters`.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os

import numpy as np
import tensorflow as tf

from spela import filters

__all__ = [
    "BACKENDS",
    "MAX_PARALLEL_PARTS",
    "PAD_MODES",
    "amplitude_to_db",
    "apply_matrix",
    "check_backend",
    "delta",
    "exponential_smoothing",
    "fold_channels",
    "frame",
    "is_power_of_two",
    "magnitude",
    "num_frames",
    "pad_center",
    "parallel_parts",
    "pcen",
    "power",
    "power_spectrogram",
    "power_to_db",
    "resolve_backend",
    "split_batch_apply",
    "stft",
    "tracing_for_tflite",
    "unfold_channels",
]

BACKENDS = ("auto", "rfft", "matmul", "factored")
PAD_MODES = ("constant", "reflect")

_TRACING_FOR_TFLITE = contextvars.ContextVar("spela_tracing_for_tflite", default=False)


@contextlib.contextmanager
def tracing_for_tflite():
    """Trace graphs for TFLite within this block: ``backend="auto"`` then picks ``"factored"``.

    :func:`spela.export.to_tflite` traces models inside it; use it around your
    own tracing when you call ``tf.lite.TFLiteConverter`` yourself.
    """
    token = _TRACING_FOR_TFLITE.set(True)
    try:
        yield
    finally:
        _TRACING_FOR_TFLITE.reset(token)


def is_power_of_two(n: int) -> bool:
    """Whether ``n`` is a positive power of two (TFLite's RFFT2D needs one)."""
    return n > 0 and n & (n - 1) == 0


def check_backend(backend: str, trainable: bool = False) -> str:
    """Validate an STFT backend choice, as a layer stores it.

    Parameters
    ----------
    backend : {"auto", "rfft", "matmul", "factored"}
        See :func:`resolve_backend`.
    trainable : bool, default False
        Whether the DFT kernel must be a trainable weight.

    Returns
    -------
    str
        ``backend``, except that a trainable ``"auto"`` is ``"matmul"`` (the only
        backend with a kernel to train).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if trainable and backend not in ("auto", "matmul"):
        raise ValueError(
            f"trainable=True needs backend='matmul' (or 'auto'): the {backend} backend "
            "has no kernel to train"
        )
    return "matmul" if trainable else backend


def resolve_backend(backend: str, n_fft: int, trainable: bool = False) -> str:
    """The STFT implementation used when a graph is traced.

    Parameters
    ----------
    backend : {"auto", "rfft", "matmul", "factored"}
        ``"rfft"`` uses an FFT (TensorFlow's FFT; RFFT2D in TFLite, which runs
        only power-of-two lengths). ``"matmul"`` applies the windowed DFT matrix
        as a strided convolution (CONV_2D in TFLite: int8-quantizable,
        GPU-delegate friendly, trainable). ``"factored"`` splits the DFT into
        two small DFT stages, ``n_fft = n1 * n2`` (Cooley-Tukey), computed as
        batched matrix products (BATCH_MATMUL in TFLite: the fastest on one CPU
        thread, any ``n_fft``).
    n_fft : int
        FFT length in samples.
    trainable : bool, default False
        Whether the DFT kernel must be a trainable weight.

    Returns
    -------
    str
        ``backend`` unless it is ``"auto"``, which gives ``"matmul"`` for a
        trainable kernel, ``"factored"`` when tracing for TFLite (see
        :func:`tracing_for_tflite`) or when ``n_fft`` is not a power of two, and
        ``"rfft"`` otherwise (TensorFlow's FFT is the fastest in TensorFlow).
    """
    backend = check_backend(backend, trainable)
    if backend != "auto":
        return backend
    if _TRACING_FOR_TFLITE.get() or not is_power_of_two(n_fft):
        return "factored"
    return "rfft"


MAX_PARALLEL_PARTS = 4


def parallel_parts(backend: str) -> int:
    """How many slices of a batch a layer with this resolved backend runs concurrently.

    TensorFlow's FFT kernel runs each op on one thread, so in a TensorFlow
    graph the ``"rfft"`` backend splits the batch into one slice per CPU core
    (at most ``MAX_PARALLEL_PARTS``), whose ops TensorFlow runs side by side.
    Eagerly, when tracing for TFLite, and for the other backends: 1.

    Parameters
    ----------
    backend : str
        A backend as returned by :func:`resolve_backend`.

    Returns
    -------
    int
        The number of slices, >= 1.
    """
    if backend != "rfft" or _TRACING_FOR_TFLITE.get() or tf.executing_eagerly():
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_PARALLEL_PARTS))


def split_batch_apply(function, values: tf.Tensor, parts: int):
    """``function`` applied to ``parts`` consecutive slices of the batch, concatenated.

    Parameters
    ----------
    function : callable
        Maps a ``(b, ...)`` tensor to a ``(b, ...)`` tensor, example by example.
    values : tf.Tensor
        Shape ``(batch, ...)``; any batch size, including one smaller than ``parts``.
    parts : int
        Number of slices, >= 1; 1 calls ``function`` on ``values`` directly.

    Returns
    -------
    tf.Tensor
        ``function(values)``, computed slice by slice.
    """
    if parts <= 1:
        return function(values)
    size = tf.shape(values)[0]
    sizes = tf.stack([(size + i) // parts for i in range(parts)])
    slices = tf.split(values, sizes, num=parts, axis=0)
    return tf.concat([function(part) for part in slices], axis=0)


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
    For a static length the signal is cut into chunks of
    ``gcd(frame_length, hop_length)`` samples and each frame gathers its
    chunks (RESHAPE, GATHER, RESHAPE in TFLite, with a small index table);
    otherwise frames are gathered sample by sample with computed indices.
    """
    length = signal.shape[-1]
    if length is None:
        return _frame_by_gather(signal, frame_length, hop_length)
    count = 1 + (length - frame_length) // hop_length
    chunk = math.gcd(frame_length, hop_length)
    used = (count - 1) * hop_length + frame_length
    if used < length:
        signal = signal[:, :used]
    chunks = tf.reshape(signal, [-1, used // chunk, chunk])
    starts = np.arange(count, dtype=np.int32)[:, None] * (hop_length // chunk)
    indices = starts + np.arange(frame_length // chunk, dtype=np.int32)[None, :]
    framed = tf.gather(chunks, tf.constant(indices), axis=1)
    return tf.reshape(framed, [-1, count, frame_length])


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
    backend : {"auto", "rfft", "matmul", "factored"}, default "auto"
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
    prepared = _prepare_stft(
        signal, n_fft, hop_length, win_length, window, center, pad_mode, backend, kernel
    )
    return _stft_of_padded(*prepared, n_fft, kernel)


def _stft_of_padded(signal, hop_length, window_values, backend, n_fft, kernel):
    if backend == "factored":
        rows, dft = _factored_rows(_windowed_frames(signal, n_fft, hop_length, window_values))
        picked = tf.gather(rows, np.concatenate([dft.real_rows, dft.imag_rows]), axis=1)
        if (dft.imag_signs < 0).any():
            signs = np.concatenate([np.ones_like(dft.imag_signs), dft.imag_signs])
            picked = picked * tf.constant(signs[:, None], tf.float32)
        return _halves(tf.transpose(picked, [0, 2, 1]))
    if backend == "rfft":
        frames = _windowed_frames(signal, n_fft, hop_length, window_values)
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
    return _halves(spectrum)


def _halves(spectrum: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Real and imaginary halves of the last axis of ``(batch, frames, 2 * bins)``.

    Two slices rather than one SPLIT: TFLite's selective quantization keeps
    single-output ops float when asked (``float_layers``), but not a SPLIT.
    """
    bins = spectrum.shape[-1] // 2
    return spectrum[:, :, :bins], spectrum[:, :, bins:]


def power_spectrogram(
    signal,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | tuple = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    backend: str = "auto",
    kernel: tf.Tensor | None = None,
) -> tf.Tensor:
    """Power spectrogram ``|STFT|**2``, as ``abs(librosa.stft(...)) ** 2``.

    Parameters
    ----------
    signal, n_fft, hop_length, win_length, window, center, pad_mode, backend, kernel
        As for :func:`stft`.

    Returns
    -------
    tf.Tensor
        Shape ``(batch, frames, n_fft // 2 + 1)``, float32. The ``"factored"``
        backend squares its spectrum before reordering the bins, so it moves
        half the data that :func:`stft` followed by :func:`power` would.
    """
    prepared = _prepare_stft(
        signal, n_fft, hop_length, win_length, window, center, pad_mode, backend, kernel
    )
    signal, hop_length, window_values, backend = prepared
    if backend != "factored":
        return power(*_stft_of_padded(*prepared, n_fft, kernel))
    rows, dft = _factored_rows(_windowed_frames(signal, n_fft, hop_length, window_values))
    squares = rows * rows
    # Single-output ops only (no SPLIT), as in _halves.
    powers = tf.gather(squares, dft.real_rows, axis=1) + tf.gather(squares, dft.imag_rows, axis=1)
    return tf.transpose(powers, [0, 2, 1])


def _prepare_stft(
    signal, n_fft, hop_length, win_length, window, center, pad_mode, backend, kernel
):
    """Validated arguments and the (padded) signal: ``(signal, hop, window, backend)``."""
    hop_length, window_values = _check_stft_arguments(n_fft, hop_length, win_length, window)
    backend = resolve_backend(backend, n_fft, trainable=kernel is not None)
    signal = _as_float32_signal(signal)
    if signal.shape.rank != 2:
        raise ValueError(f"signal must have shape (batch, samples), got {signal.shape}")
    if center:
        signal = pad_center(signal, n_fft, pad_mode)
    return signal, hop_length, window_values, backend


def _windowed_frames(signal, n_fft, hop_length, window_values) -> tf.Tensor:
    return frame(signal, n_fft, hop_length) * tf.constant(window_values, tf.float32)


def _factored_rows(frames: tf.Tensor) -> tuple[tf.Tensor, filters.FactoredDFT]:
    """Both stages of :func:`spela.filters.factored_dft` on ``(batch, frames, n_fft)``.

    Returns the spectrum as ``(batch, (n1 // 2 + 1) * 2 * n2, frames)``, rows
    ``(k1, re/im, k2)`` as the matrices define them, and the matrices.
    """
    dft = filters.factored_dft(frames.shape[-1])
    count = _dim(frames, 1)
    columns = tf.reshape(
        tf.transpose(frames, [0, 2, 1]), _shape([-1, dft.n1_size, dft.n2_size * count])
    )
    # A constant left operand contracts the frames' slow sample index without
    # another transpose; TFLite runs these as BATCH_MATMUL.
    first = tf.matmul(tf.constant(dft.first, tf.float32), columns)
    half = dft.second.shape[0]
    first = tf.reshape(first, _shape([-1, half, 2 * dft.n2_size, count]))
    second = tf.matmul(tf.constant(dft.second, tf.float32), first)
    return tf.reshape(second, _shape([-1, half * 2 * dft.n2_size, count])), dft


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


def power_to_db(
    power_values: tf.Tensor,
    ref: float | str = 1.0,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
) -> tf.Tensor:
    """Power to decibels, ``10 * log10(max(S, amin) / ref)``, as ``librosa.power_to_db``.

    Parameters
    ----------
    power_values : tf.Tensor
        Shape ``(batch, ...)``, non-negative.
    ref : float or "max", default 1.0
        Reference power for 0 dB; ``"max"`` uses each example's maximum
        (librosa's ``ref=np.max`` applied per clip).
    amin : float, default 1e-10
        Floor applied to ``S`` and ``ref`` before the log, > 0.
    top_db : float or None, default 80.0
        If given, clip each example at ``its maximum - top_db`` dB.

    Returns
    -------
    tf.Tensor
        Same shape, dB.
    """
    scale = 10.0 / np.log(10.0)
    floor = tf.constant(amin, tf.float32)
    if ref == "max" or top_db is not None:
        axes = list(range(1, power_values.shape.rank))
        peak = tf.reduce_max(power_values, axis=axes, keepdims=True)
    lower = floor
    if top_db is not None:
        # Clipping at the peak's level - top_db, applied to powers before the log:
        # max(S, amin, max(peak, amin) * 10**(-top_db / 10)) saves two passes in dB.
        lower = tf.maximum(floor, peak * float(10.0 ** (-top_db / 10.0)))
    decibels = scale * tf.math.log(tf.maximum(power_values, lower))
    if ref == "max":
        decibels = decibels - scale * tf.math.log(tf.maximum(peak, floor))
    elif ref != 1.0 or amin > 1.0:
        decibels = decibels - float(scale * np.log(max(amin, ref)))
    return decibels


def amplitude_to_db(
    amplitude: tf.Tensor,
    ref: float | str = 1.0,
    amin: float = 1e-5,
    top_db: float | None = 80.0,
) -> tf.Tensor:
    """Amplitude to decibels, ``20 * log10(max(A, amin) / ref)``, as ``librosa.amplitude_to_db``.

    Parameters are those of :func:`power_to_db` for the amplitude ``A``
    (``ref="max"``: each example's maximum amplitude); computed as
    ``power_to_db(A**2, ref**2, amin**2, top_db)``.
    """
    power_ref = ref if ref == "max" else float(ref) ** 2
    return power_to_db(amplitude * amplitude, power_ref, float(amin) ** 2, top_db)


def delta(values: tf.Tensor, width: int = 9, order: int = 1, axis: int = 1) -> tf.Tensor:
    """Savitzky-Golay derivative along ``axis``, as ``librosa.feature.delta`` (``mode="interp"``).

    Parameters
    ----------
    values : tf.Tensor
        Shape ``(batch, frames, bins[, channels])``; ``values.shape[axis] >= width``.
    width : int, default 9
        Odd window length >= 3.
    order : int, default 1
        Derivative order.
    axis : int, default 1
        Axis to differentiate (1: time, 2: frequency).

    Returns
    -------
    tf.Tensor
        Same shape as ``values``.
    """
    centre, left, right = filters.delta_coefficients(width, order)
    rank = values.shape.rank
    axis = axis % rank
    order_axes = [i for i in range(rank) if i != axis] + [axis]
    moved = tf.transpose(values, order_axes)
    length = _dim(moved, rank - 1)
    inner = length - width + 1
    interior = tf.add_n(
        [float(c) * moved[..., j : j + inner] for j, c in enumerate(centre) if c != 0.0]
    )
    head = tf.matmul(moved[..., :width], tf.constant(left.T, tf.float32))
    tail = tf.matmul(moved[..., length - width :], tf.constant(right.T, tf.float32))
    result = tf.concat([head, interior, tail], axis=-1)
    return tf.transpose(result, np.argsort(order_axes).tolist())


def pcen(
    energy: tf.Tensor,
    smoothing,
    gain=0.98,
    bias=2.0,
    power=0.5,
    eps: float = 1e-6,
) -> tf.Tensor:
    """Per-channel energy normalization, as ``librosa.pcen``.

    Parameters
    ----------
    energy : tf.Tensor
        Shape ``(batch, frames, bins[, channels])``, non-negative, static ``frames``.
    smoothing : float or tf.Tensor
        Smoother weight ``b`` (see :func:`spela.filters.pcen_smoothing_coefficient`).
    gain, bias, power : float or tf.Tensor
        ``alpha``, ``delta`` and ``r`` of the paper; scalars or per-bin ``(bins,)``
        (or ``(bins, 1)`` with channels). ``bias > 0`` and ``power > 0``.
    eps : float, default 1e-6
        Floor of the smoothed energy.

    Returns
    -------
    tf.Tensor
        Same shape: ``(E / (eps + M)**gain + bias)**power - bias**power`` with
        ``M`` the smoothed energy, in librosa's numerically stable form.

    References
    ----------
    .. [1] Wang, Y. et al. "Trainable frontend for robust and far-field keyword
       spotting", ICASSP 2017.
    """
    smoothed = exponential_smoothing(energy, smoothing)
    log_eps = float(np.log(eps))
    agc = tf.exp(-gain * (log_eps + tf.math.log1p(smoothed / eps)))
    return tf.pow(bias, power) * tf.math.expm1(power * tf.math.log1p(energy * agc / bias))


def exponential_smoothing(values: tf.Tensor, coefficient, initial: float = 1.0) -> tf.Tensor:
    """First-order smoother ``M[t] = (1 - b) M[t-1] + b x[t]`` along axis 1, exactly.

    Parameters
    ----------
    values : tf.Tensor
        Shape ``(batch, frames, ...)`` with a static ``frames``.
    coefficient : float or tf.Tensor
        ``b`` in ``(0, 1]``, a scalar (may be a trainable weight).
    initial : float, default 1.0
        ``M[-1]``; librosa's ``pcen`` starts from the steady state of a unit input.

    Returns
    -------
    tf.Tensor
        Same shape as ``values``.

    Notes
    -----
    Unrolled, ``M[t] = sum_{k<=t} b (1 - b)^(t-k) x[k] + (1 - b)^(t+1) M[-1]``:
    a lower-triangular matrix product over time (BATCH_MATMUL in TFLite) rather
    than a recurrence, so it converts to builtin ops and stays exact.
    """
    frames = values.shape[1]
    if frames is None:
        raise ValueError("exponential smoothing needs a static number of frames (axis 1)")
    b = tf.convert_to_tensor(coefficient, tf.float32)
    lags = np.arange(frames)[:, None] - np.arange(frames)[None, :]
    log_keep = tf.math.log(1.0 - b)
    weights = (
        b
        * tf.exp(log_keep * tf.constant(np.maximum(lags, 0), tf.float32))
        * tf.constant(lags >= 0, tf.float32)
    )
    carry = initial * tf.exp(log_keep * tf.constant(np.arange(1, frames + 1), tf.float32))
    flat = tf.reshape(values, _shape([-1, frames, int(np.prod(values.shape[2:]))]))
    smoothed = tf.matmul(weights, flat) + tf.reshape(carry, [frames, 1])
    return tf.reshape(smoothed, _shape([-1, *values.shape[1:]]))
