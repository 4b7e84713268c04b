"""Inverse short-time Fourier transform and overlap-add as TFLite-builtin graph functions."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from spela import filters
from spela.filters._arguments import MAX_SIGNAL_LENGTH, _check_positive_int
from spela.ops._tensors import _as_float32_signal, _dim, _shape
from spela.ops.spectral import _check_stft_arguments, resolve_backend

__all__ = ["istft", "istft_length", "overlap_add"]

_SMALLEST_NORMAL_FLOAT32 = float(np.finfo(np.float32).tiny)


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
    hop_length, window_values = _check_stft_arguments(n_fft, hop_length, win_length, window)
    filters.check_nola(window_values, hop_length, name=f"window {window!r}")
    backend = resolve_backend(backend, n_fft)
    if length is not None:
        length = _check_positive_int("length", length, maximum=MAX_SIGNAL_LENGTH)
    real = _as_float32_signal(real, name="real")
    imag = _as_float32_signal(imag, name="imag")
    bins = n_fft // 2 + 1
    for name, part in (("real", real), ("imag", imag)):
        if part.shape.rank != 3 or part.shape[-1] != bins:
            raise ValueError(
                f"{name} must have shape (batch, frames, n_fft // 2 + 1 = {bins}), "
                f"got {part.shape}"
            )
    count = real.shape[1]
    if length is not None and count is not None:
        # Frames that start after the requested signal ends do not touch it (librosa
        # drops them too); leaving them out saves their inverse DFTs.
        padded = length + 2 * (n_fft // 2) if center else length
        needed = max(1, min(count, -(-padded // hop_length)))
        real, imag = real[:, :needed], imag[:, :needed]
    frames = _inverse_frames(real, imag, n_fft, window_values, backend)
    signal = overlap_add(frames, hop_length)
    squares = tf.constant(np.square(window_values)[None, None, :], tf.float32)
    window_sum = overlap_add(
        tf.broadcast_to(squares, _shape([1, _dim(frames, 1), n_fft])), hop_length
    )
    # librosa divides only where the window-sum exceeds float32's smallest normal number.
    nonzero = tf.cast(window_sum > _SMALLEST_NORMAL_FLOAT32, tf.float32)
    signal = signal * (nonzero / tf.maximum(window_sum, _SMALLEST_NORMAL_FLOAT32))
    start = n_fft // 2 if center else 0
    if length is None:
        end = tf.shape(signal)[1] - start if signal.shape[1] is None else signal.shape[1] - start
        return signal[:, start:end]
    available = signal.shape[1]
    if available is not None and available - start >= length:
        return signal[:, start : start + length]
    signal = tf.pad(signal[:, start:], [[0, 0], [0, length]])
    return signal[:, :length]


def _inverse_frames(real, imag, n_fft, window_values, backend) -> tf.Tensor:
    """Windowed inverse DFT of every frame: ``(batch, frames, n_fft)``."""
    count = _dim(real, 1)
    if backend == "rfft":
        frames = tf.signal.irfft(tf.complex(real, imag), fft_length=[n_fft])
        return frames * tf.constant(window_values, tf.float32)
    if backend == "matmul":
        kernel = tf.constant(filters.inverse_dft_kernel(n_fft, window_values), tf.float32)
        spectra = tf.reshape(tf.concat([real, imag], axis=-1), [-1, 2 * (n_fft // 2 + 1)])
        return tf.reshape(tf.matmul(spectra, kernel), _shape([-1, count, n_fft]))
    dft = filters.factored_inverse_dft(n_fft, window_values)
    n1, n2 = dft.n1_size, dft.n2_size

    def columns(part):
        # (batch, frames, n_fft) in full-spectrum order k = n2 * k1 + k2, as (batch, k1, (k2, t)).
        part = tf.reshape(part, _shape([-1, count, n1, n2]))
        return tf.reshape(tf.transpose(part, [0, 2, 3, 1]), _shape([-1, n1, n2 * count]))

    full_real = tf.gather(real, dft.full_bins, axis=2)
    full_imag = tf.gather(imag, dft.full_bins, axis=2)
    if (dft.imag_signs < 0).any():
        full_imag = full_imag * tf.constant(dft.imag_signs, tf.float32)
    stacked = tf.concat([columns(full_real), columns(full_imag)], axis=1)
    # A constant left operand contracts (re/im, k1) without a transpose (BATCH_MATMUL).
    first = tf.matmul(tf.constant(dft.first, tf.float32), stacked)  # rows (n1, re/im)
    first = tf.reshape(first, _shape([-1, n1, 2 * n2, count]))
    second = tf.matmul(tf.constant(dft.second, tf.float32), first)  # (batch, n1, n2, t)
    # Sample n = n1 + n1_size * n2: frames as (batch, t, n2, n1).
    return tf.reshape(tf.transpose(second, [0, 3, 2, 1]), _shape([-1, count, n_fft]))
