"""Inverse short-time Fourier transform and overlap-add as TFLite-builtin graph functions."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from spela import filters
from spela.filters._arguments import MAX_N_FFT, MAX_SIGNAL_LENGTH, _check_positive_int
from spela.ops._tensors import _as_float32_signal, _dim, _shape
from spela.ops.spectral import _SMALLEST_NORMAL_FLOAT32, _check_stft_arguments, resolve_backend

__all__ = ["istft", "istft_length", "istft_of_stacked", "overlap_add"]


def overlap_add(frames: tf.Tensor, hop_length: int) -> tf.Tensor:
    """Sum frames placed ``hop_length`` samples apart (the inverse of ``spela.ops.frame``).

    Parameters
    ----------
    frames : tf.Tensor
        Shape ``(batch, frames, frame_length)``, float32; ``frame_length``
        static, the frame count static or not.
    hop_length : int
        Hop between frame starts in samples, >= 1.

    Returns
    -------
    tf.Tensor
        Shape ``(batch, (frames - 1) * hop_length + frame_length)``: sample
        ``s`` is the sum of ``frames[:, t, s - t * hop_length]`` over the frames
        that cover it.

    Notes
    -----
    No scatter: each frame is cut into ``segments = ceil(frame_length /
    hop_length)`` hop-sized pieces, piece ``s`` of frame ``t`` belongs to output
    hop ``t + s``, and the shift by ``s`` comes from reading a zero-padded
    ``(segments, frames + segments)`` block as ``(segments, frames + segments
    - 1)``. In TFLite: PAD, RESHAPE, TRANSPOSE, STRIDED_SLICE and SUM.
    """
    hop_length = _check_positive_int("hop_length", hop_length)
    frames = _as_float32_signal(frames, name="frames")
    if frames.shape.rank != 3 or frames.shape[-1] is None:
        raise ValueError(
            f"frames must have shape (batch, frames, frame_length) with a known frame_length, "
            f"got {frames.shape}"
        )
    frame_length = frames.shape[-1]
    segments = -(-frame_length // hop_length)
    count = _dim(frames, 1)
    if segments * hop_length > frame_length:
        frames = tf.pad(frames, [[0, 0], [0, 0], [0, segments * hop_length - frame_length]])
    pieces = tf.reshape(frames, _shape([-1, count, segments, hop_length]))
    pieces = tf.transpose(pieces, [0, 2, 1, 3])  # (batch, segments, frames, hop)
    pieces = tf.pad(pieces, [[0, 0], [0, 0], [0, segments], [0, 0]])
    flat = tf.reshape(pieces, _shape([-1, segments * (count + segments), hop_length]))
    skewed = tf.reshape(
        flat[:, : segments * (count + segments - 1), :],
        _shape([-1, segments, count + segments - 1, hop_length]),
    )
    summed = tf.reshape(
        tf.reduce_sum(skewed, axis=1), _shape([-1, (count + segments - 1) * hop_length])
    )
    return summed[:, : (count - 1) * hop_length + frame_length]


def istft_length(n_frames: int, n_fft: int, hop_length: int, center: bool) -> int:
    """Length of the signal ``istft`` returns for ``n_frames`` frames when no ``length`` is given.

    Returns
    -------
    int
        ``n_fft + hop_length * (n_frames - 1)``, less ``2 * (n_fft // 2)`` when
        centred (``librosa.istft``'s length).
    """
    full = n_fft + hop_length * (n_frames - 1)
    return full - 2 * (n_fft // 2) if center else full


def istft(
    real,
    imag,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | tuple = "hann",
    center: bool = True,
    length: int | None = None,
    backend: str = "auto",
) -> tf.Tensor:
    """Inverse short-time Fourier transform, as ``librosa.istft``.

    Each frame is inverted (inverse real DFT of length ``n_fft``), windowed and
    overlap-added; the sum is divided by the overlap-added squared window
    wherever that exceeds float32's smallest normal number, and trimmed.

    Parameters
    ----------
    real, imag : tf.Tensor
        Shape ``(batch, frames, n_fft // 2 + 1)``, float: the real and
        imaginary parts of an STFT with the same settings (``spela.ops.stft``'s
        output). The imaginary parts of DC and Nyquist are ignored.
    n_fft, hop_length, win_length, window, center
        As given to the forward ``spela.ops.stft``.
    length : int, optional
        Exact number of output samples: the signal is trimmed, or padded with
        zeros, to it (``librosa.istft(..., length=...)``). Default:
        ``istft_length(frames, ...)``.
    backend : {"auto", "rfft", "matmul", "factored"}, default "auto"
        ``"factored"`` (what ``"auto"`` is): the inverse DFT in two small
        matrix stages (BATCH_MATMUL in TFLite). ``"matmul"``: one product with
        the windowed inverse DFT matrix (FULLY_CONNECTED). ``"rfft"``:
        TensorFlow's ``irfft``; TFLite has no builtin inverse FFT, so this
        backend runs in TensorFlow only.

    Returns
    -------
    tf.Tensor
        Shape ``(batch, samples)``, float32.

    Raises
    ------
    ValueError
        If the window and hop violate NOLA (``spela.filters.check_nola``), or
        the spectrum's bins do not match ``n_fft``.
    """
    n_fft = _check_positive_int("n_fft", n_fft, minimum=2, maximum=MAX_N_FFT)  # for the bins
    real = _as_float32_signal(real, name="real")
    imag = _as_float32_signal(imag, name="imag")
    bins = n_fft // 2 + 1
    for name, part in (("real", real), ("imag", imag)):
        if part.shape.rank != 3 or part.shape[-1] != bins:
            raise ValueError(
                f"{name} must have shape (batch, frames, n_fft // 2 + 1 = {bins}), "
                f"got {part.shape}"
            )
    return istft_of_stacked(
        tf.concat([real, imag], axis=-1),
        interleaved=False,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        length=length,
        backend=backend,
    )


def istft_of_stacked(
    spectrum: tf.Tensor,
    interleaved: bool,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | tuple = "hann",
    center: bool = True,
    length: int | None = None,
    backend: str = "auto",
) -> tf.Tensor:
    """``istft`` of real and imaginary parts stacked in one last axis of ``2 * bins``.

    Parameters
    ----------
    spectrum : tf.Tensor
        Shape ``(batch, frames, 2 * (n_fft // 2 + 1))``, float32. With
        ``interleaved``, entry ``2 * b + p`` holds part ``p`` (0: real, 1:
        imaginary) of bin ``b`` (the ``STFT`` layer's ``(..., bins, 2)`` output,
        reshaped); otherwise entry ``p * bins + b``.
    interleaved : bool
        The layout, as above.
    n_fft, hop_length, win_length, window, center, length, backend
        As for ``istft``.

    Returns
    -------
    tf.Tensor
        Shape ``(batch, samples)``, float32.

    Notes
    -----
    Taking both parts in one tensor lets TFLite read them with whole-row
    gathers or one matrix product: slicing the parts apart on the innermost
    axis costs more than the inverse DFT itself there.
    """
    hop_length, window_values = _check_stft_arguments(n_fft, hop_length, win_length, window)
    filters.check_nola(window_values, hop_length, name=f"window {window!r}")
    backend = resolve_backend(backend, n_fft)
    if length is not None:
        length = _check_positive_int("length", length, maximum=MAX_SIGNAL_LENGTH)
    bins = n_fft // 2 + 1
    if spectrum.shape.rank != 3 or spectrum.shape[-1] != 2 * bins:
        raise ValueError(
            f"spectrum must have shape (batch, frames, 2 * (n_fft // 2 + 1) = {2 * bins}), "
            f"got {spectrum.shape}"
        )
    count = spectrum.shape[1]
    if length is not None and count is not None:
        # Frames that start after the requested signal ends do not touch it (librosa
        # drops them too); leaving them out saves their inverse DFTs.
        padded = length + 2 * (n_fft // 2) if center else length
        needed = max(1, -(-padded // hop_length))
        if needed < count:
            spectrum = spectrum[:, :needed]
    frames = _inverse_frames(spectrum, interleaved, n_fft, window_values, backend)
    signal = overlap_add(frames, hop_length)
    start = n_fft // 2 if center else 0
    if length is None:
        end = tf.shape(signal)[1] - start if signal.shape[1] is None else signal.shape[1] - start
    else:
        end = start + length
        available = signal.shape[1]
        if available is None or available < end:
            signal = tf.pad(signal, [[0, 0], [0, length]])
    signal = signal[:, start:end]
    return signal * _normalization(window_values, frames, hop_length, start, end)


def _part_rows(bins: int, interleaved: bool) -> np.ndarray:
    """``rows[p, b]``: where part ``p`` of bin ``b`` sits in the stacked last axis."""
    b = np.arange(bins)
    if interleaved:
        return np.stack([2 * b, 2 * b + 1])
    return np.stack([b, bins + b])


def _normalization(window_values, frames, hop_length, start, end):
    """What ``istft`` multiplies the trimmed overlap-add by: 1 / window-sum, or 0 where it is 0.

    librosa divides only where the overlap-added squared window exceeds
    float32's smallest normal number. With a static frame count this is one
    constant of the output's length; otherwise it is computed in the graph.
    """
    count = frames.shape[1]
    if count is not None and isinstance(end, int):
        window_sum = filters.window_sumsquare(window_values, count, hop_length).astype(np.float32)
        window_sum = np.pad(window_sum, (0, max(0, end - window_sum.size)))[start:end]
        nonzero = window_sum > _SMALLEST_NORMAL_FLOAT32
        scale = np.where(nonzero, 1.0 / np.where(nonzero, window_sum, 1.0), 0.0)
        return tf.constant(scale.astype(np.float32)[None, :])
    squares = tf.constant(np.square(window_values)[None, None, :], tf.float32)
    window_sum = overlap_add(
        tf.broadcast_to(squares, _shape([1, _dim(frames, 1), window_values.size])), hop_length
    )
    window_sum = tf.pad(window_sum, [[0, 0], [0, end]])[:, start:end]
    nonzero = tf.cast(window_sum > _SMALLEST_NORMAL_FLOAT32, tf.float32)
    return nonzero / tf.maximum(window_sum, _SMALLEST_NORMAL_FLOAT32)


def _inverse_frames(spectrum, interleaved, n_fft, window_values, backend) -> tf.Tensor:
    """Windowed inverse DFT of every frame of a stacked spectrum: ``(batch, frames, n_fft)``."""
    count = _dim(spectrum, 1)
    rows = _part_rows(n_fft // 2 + 1, interleaved)
    if backend == "rfft":
        real = tf.gather(spectrum, rows[0], axis=2)
        imag = tf.gather(spectrum, rows[1], axis=2)
        frames = tf.signal.irfft(tf.complex(real, imag), fft_length=[n_fft])
        return frames * tf.constant(window_values, tf.float32)
    if backend == "matmul":
        kernel = np.empty((2 * (n_fft // 2 + 1), n_fft))
        kernel[rows.ravel()] = filters.inverse_dft_kernel(n_fft, window_values)
        flat = tf.reshape(spectrum, [-1, kernel.shape[0]])
        return tf.reshape(
            tf.matmul(flat, tf.constant(kernel, tf.float32)), _shape([-1, count, n_fft])
        )
    dft = filters.factored_inverse_dft(n_fft, window_values)
    n1, n2 = dft.n1_size, dft.n2_size
    # Rows (part, k1, k2) of the full spectrum, k = n2 * k1 + k2, gathered as whole rows
    # of frames from the (batch, 2 * bins, frames) transpose; conjugated bins negate
    # their imaginary part.
    full_rows = np.concatenate([rows[0][dft.full_bins], rows[1][dft.full_bins]])
    full = tf.gather(tf.transpose(spectrum, [0, 2, 1]), full_rows, axis=1)
    if (dft.imag_signs < 0).any():
        signs = np.concatenate([np.ones(n_fft), dft.imag_signs])[:, None]
        full = full * tf.constant(signs, tf.float32)
    stacked = tf.reshape(full, _shape([-1, 2 * n1, n2 * count]))  # rows (part, k1), cols (k2, t)
    # A constant left operand contracts (part, k1) without a transpose (BATCH_MATMUL).
    first = tf.matmul(tf.constant(dft.first, tf.float32), stacked)  # rows (n1, part)
    first = tf.reshape(first, _shape([-1, n1, 2 * n2, count]))
    second = tf.matmul(tf.constant(dft.second, tf.float32), first)  # (batch, n1, n2, t)
    # Sample n = n1 + n1_size * n2: frames as (batch, t, n2, n1).
    return tf.reshape(tf.transpose(second, [0, 3, 2, 1]), _shape([-1, count, n_fft]))
