"""Framing, STFT backends and spectrograms as TFLite-builtin graph functions."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from spela import filters
from spela.filters._arguments import MAX_MATMUL_N_FFT, MAX_N_FFT, _check_positive_int
from spela.ops._tensors import _as_float32_signal, _dim, _shape

__all__ = [
    "BACKENDS",
    "PAD_MODES",
    "check_backend",
    "fold_channels",
    "frame",
    "is_power_of_two",
    "magnitude",
    "num_frames",
    "pad_center",
    "power",
    "power_spectrogram",
    "resolve_backend",
    "sqrt_of_power",
    "stft",
    "unfold_channels",
]


BACKENDS = ("auto", "rfft", "matmul", "factored")


PAD_MODES = ("constant", "reflect")


def is_power_of_two(n: int) -> bool:
    """Whether ``n`` is a positive power of two (TFLite's RFFT2D needs one)."""
    return n > 0 and n & (n - 1) == 0


def check_backend(backend: str, trainable: bool = False) -> str:
    """Validate an STFT backend choice, as a layer stores it.

    Parameters
    ----------
    backend : {"auto", "rfft", "matmul", "factored"}
        See ``resolve_backend``.
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
    """The STFT implementation a backend choice stands for.

    The answer depends only on the arguments, never on how or where the graph
    is traced, so eager calls, ``tf.function``, ``predict``, SavedModels and
    every route to TFLite run the same graph.

    Parameters
    ----------
    backend : {"auto", "rfft", "matmul", "factored"}
        ``"rfft"`` uses an FFT (TensorFlow's FFT; RFFT2D in TFLite, which runs
        only power-of-two lengths and is not int8-quantizable). ``"matmul"``
        frames the signal and multiplies the frames by the windowed DFT matrix
        (FULLY_CONNECTED in TFLite: int8-quantizable, trainable).
        ``"factored"`` splits the DFT into two small DFT stages, ``n_fft = n1 *
        n2`` (Cooley-Tukey), computed as batched matrix products (BATCH_MATMUL
        in TFLite: the fastest on one CPU thread, any ``n_fft``).
    n_fft : int
        FFT length in samples.
    trainable : bool, default False
        Whether the DFT kernel must be a trainable weight.

    Returns
    -------
    str
        ``backend`` unless it is ``"auto"``, which gives ``"matmul"`` for a
        trainable kernel and ``"factored"`` otherwise.
    """
    backend = check_backend(backend, trainable)
    if backend == "matmul" and n_fft > MAX_MATMUL_N_FFT:
        raise ValueError(
            f"n_fft={n_fft} is too large for the matmul backend (its dense DFT kernel); "
            f"allowed n_fft <= {MAX_MATMUL_N_FFT} there, or use backend='factored'"
            + (" with trainable=False" if trainable else "")
        )
    if backend != "auto":
        return backend
    return "factored"


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
        ``1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop_length`` when
        centred (librosa's count: ``1 + n_samples // hop_length`` for an even
        ``n_fft``, ``1 + (n_samples - 1) // hop_length`` for an odd one),
        ``1 + (n_samples - n_fft) // hop_length`` otherwise.
    """
    if center:
        n_samples += 2 * (n_fft // 2)
    return 1 + (n_samples - n_fft) // hop_length


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
        Shape ``(batch, samples)`` with ``samples >= frame_length`` when the
        length is static; a dynamic-length signal shorter than one frame gives
        zero frames.
    frame_length, hop_length : int
        Frame length (at most 32768) and hop in samples.

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
    frame_length = _check_positive_int("frame_length", frame_length, maximum=MAX_N_FFT)
    hop_length = _check_positive_int("hop_length", hop_length)
    length = signal.shape[-1]
    if length is None:
        return _frame_by_gather(signal, frame_length, hop_length)
    if length < frame_length:
        raise ValueError(f"signal has {length} samples, fewer than frame_length={frame_length}")
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
        # A signal shorter than one frame has no frames (there is no assert op in TFLite).
        count = tf.maximum(0, 1 + (tf.shape(signal)[-1] - frame_length) // hop_length)
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
        Hop in samples, ``1 <= hop_length <= n_fft``; defaults to ``win_length // 4``
        (librosa's default).
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
        See ``resolve_backend``.
    kernel : tf.Tensor, optional
        For ``"matmul"``: a ``(n_fft, 2 * (n_fft // 2 + 1))`` DFT kernel (e.g. a
        trainable weight) replacing the fixed windowed DFT of
        ``spela.filters.dft_kernel``. The window is then taken to be inside it.

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
    # Frames times the DFT matrix as one 2-D product (FULLY_CONNECTED in TFLite,
    # int8-quantizable). A strided conv1d would frame and transform at once, but
    # TensorFlow's oneDNN conv1d aborts the process for one output frame, a batch
    # of 2 or more and kernels of about 1100 taps or longer.
    frames = frame(signal, n_fft, hop_length)
    count = _dim(frames, 1)
    spectrum = tf.matmul(tf.reshape(frames, [-1, n_fft]), kernel)
    return _halves(tf.reshape(spectrum, _shape([-1, count, 2 * (n_fft // 2 + 1)])))


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
        As for ``stft``.

    Returns
    -------
    tf.Tensor
        Shape ``(batch, frames, n_fft // 2 + 1)``, float32. The ``"factored"``
        backend squares its spectrum before reordering the bins, so it moves
        half the data that ``stft`` followed by ``power`` would.
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
    """Both stages of ``spela.filters.factored_dft`` on ``(batch, frames, n_fft)``.

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
    n_fft = _check_positive_int("n_fft", n_fft, minimum=2, maximum=MAX_N_FFT)
    if win_length is None:
        win_length = n_fft
    win_length = _check_positive_int("win_length", win_length)
    if win_length > n_fft:
        raise ValueError(f"win_length={win_length} must be in [1, n_fft={n_fft}]")
    if hop_length is None:
        hop_length = max(1, win_length // 4)
    hop_length = _check_positive_int("hop_length", hop_length)
    if hop_length > n_fft:
        raise ValueError(
            f"hop_length={hop_length} must be <= n_fft={n_fft} (larger hops skip samples)"
        )
    return hop_length, filters.window(window, win_length, periodic=True, pad_to=n_fft)


def power(real: tf.Tensor, imag: tf.Tensor) -> tf.Tensor:
    """Power spectrum ``real**2 + imag**2``, same shape as the inputs."""
    # Products rather than SQUARE: TFLite has int8 MUL kernels but no int8 SQUARE.
    return real * real + imag * imag


def magnitude(real: tf.Tensor, imag: tf.Tensor) -> tf.Tensor:
    """Magnitude spectrum ``sqrt(real**2 + imag**2)``, same shape as the inputs."""
    return sqrt_of_power(power(real, imag))


_SMALLEST_NORMAL_FLOAT32 = float(np.finfo(np.float32).tiny)


def sqrt_of_power(power_values: tf.Tensor) -> tf.Tensor:
    """Magnitude from power, ``sqrt(P)``, with finite gradients at ``P = 0``.

    Parameters
    ----------
    power_values : tf.Tensor
        Any shape, non-negative.

    Returns
    -------
    tf.Tensor
        Same shape: ``sqrt(max(P, 1.2e-38))``. The floor (float32's smallest
        normal number) differs from 0 by 1.1e-19 in the value and keeps the
        derivative ``1 / (2 sqrt(P))`` finite on silence, where ``sqrt`` alone
        gives ``inf * 0 = NaN`` gradients.
    """
    return tf.sqrt(tf.maximum(power_values, _SMALLEST_NORMAL_FLOAT32))


def fold_channels(signal: tf.Tensor) -> tf.Tensor:
    """Move channels into the batch: ``(batch, samples, ch)`` to ``(batch * ch, samples)``."""
    return tf.reshape(tf.transpose(signal, [0, 2, 1]), _shape([-1, _dim(signal, 1)]))


def unfold_channels(values: tf.Tensor, channels: int, axis: int = -1) -> tf.Tensor:
    """Inverse of ``fold_channels`` for per-channel outputs.

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
