"""Inverse DFT matrices and the window conditions of the inverse short-time Fourier transform."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from spela.filters._arguments import _check_positive_int
from spela.filters.spectral import factored_dft_split

__all__ = [
    "FactoredInverseDFT",
    "check_nola",
    "factored_inverse_dft",
    "inverse_dft_kernel",
    "window_sumsquare",
]

_NOLA_TOLERANCE = 1e-10


def _bin_weights(n_fft: int) -> np.ndarray:
    """How often each bin of a real spectrum occurs in the full one (1: DC and Nyquist, else 2)."""
    weights = np.full(n_fft // 2 + 1, 2.0)
    weights[0] = 1.0
    if n_fft % 2 == 0:
        weights[-1] = 1.0
    return weights


def _checked_window(window_values, n_fft: int) -> np.ndarray:
    if window_values is None:
        return np.ones(n_fft)
    window_values = np.asarray(window_values, dtype=np.float64)
    if window_values.shape != (n_fft,):
        raise ValueError(f"window_values must have shape ({n_fft},), got {window_values.shape}")
    return window_values


def inverse_dft_kernel(n_fft: int, window_values: np.ndarray | None = None) -> np.ndarray:
    """Inverse real DFT as a matrix, window included: ``[real, imag] @ kernel`` gives frames.

    Parameters
    ----------
    n_fft : int
        DFT length in samples, >= 2 (any integer).
    window_values : np.ndarray, optional
        Shape ``(n_fft,)``; multiplied into each output sample. Defaults to ones.

    Returns
    -------
    np.ndarray
        Shape ``(2 * (n_fft // 2 + 1), n_fft)``, float64. Row ``b`` (real part
        of bin ``b``) holds ``c_b w[n] cos(2 pi b n / n_fft) / n_fft`` and row
        ``bins + b`` (imaginary part) ``-c_b w[n] sin(2 pi b n / n_fft) /
        n_fft``, with ``c_b`` 1 for DC and Nyquist and 2 otherwise, so that the
        product is ``w * numpy.fft.irfft(X, n_fft)`` (which also ignores the
        imaginary parts of DC and Nyquist).
    """
    n_fft = _check_positive_int("n_fft", n_fft, minimum=2)
    window_values = _checked_window(window_values, n_fft)
    b = np.arange(n_fft // 2 + 1)[:, None]
    n = np.arange(n_fft)[None, :]
    # Reducing b * n modulo n_fft keeps the angle small, so cos/sin stay exact.
    angle = 2.0 * np.pi * ((b * n) % n_fft) / n_fft
    scale = _bin_weights(n_fft)[:, None] * window_values[None, :] / n_fft
    return np.concatenate([scale * np.cos(angle), -scale * np.sin(angle)], axis=0)


class FactoredInverseDFT(NamedTuple):
    """The matrices of an inverse real DFT in two stages, ``n_fft = n1 * n2``.

    The full spectrum ``X[k]``, ``k = n2_size * k1 + k2``, is rebuilt from the
    ``n_fft // 2 + 1`` bins of a real one by conjugate symmetry, laid out as a
    matrix with rows ``(re/im, k1)`` and columns ``(k2, t)``. Then:

    1. ``first @ rows`` gives, for every ``n1``, the inverse DFTs of length
       ``n1_size`` down the columns, as rows ordered ``(n1, re/im)``;
    2. ``second[n1] @ (re/im, k2)`` applies the twiddle factors, the inverse
       DFTs of length ``n2_size``, ``1 / n_fft`` and the window, giving the real
       output sample ``n = n1 + n1_size * n2`` as entry ``[n1, n2]``.

    Attributes
    ----------
    full_bins : np.ndarray
        Shape ``(n_fft,)``, int: the bin of the real spectrum that full index
        ``k`` reads (``k`` or ``n_fft - k``).
    imag_signs : np.ndarray
        Shape ``(n_fft,)``: +1, or -1 where the bin is conjugated.
    first : np.ndarray
        Shape ``(2 * n1_size, 2 * n1_size)``.
    second : np.ndarray
        Shape ``(n1_size, n2_size, 2 * n2_size)``.
    n1_size, n2_size : int
        The factors, ``n1_size * n2_size = n_fft``.
    """

    full_bins: np.ndarray
    imag_signs: np.ndarray
    first: np.ndarray
    second: np.ndarray
    n1_size: int
    n2_size: int


def factored_inverse_dft(
    n_fft: int, window_values: np.ndarray | None = None
) -> FactoredInverseDFT:
    """Matrices of the two-stage inverse real DFT (see ``FactoredInverseDFT``).

    Parameters
    ----------
    n_fft : int
        DFT length, >= 2; split as ``factored_dft_split`` splits it.
    window_values : np.ndarray, optional
        Shape ``(n_fft,)``; folded into the second stage. Defaults to ones.

    Returns
    -------
    FactoredInverseDFT
        float64 matrices; applied as described there they give
        ``w * numpy.fft.irfft(X, n_fft)`` for each frame.
    """
    n_fft = _check_positive_int("n_fft", n_fft, minimum=2)
    window_values = _checked_window(window_values, n_fft)
    n1_size, n2_size = factored_dft_split(n_fft)
    k = np.arange(n_fft)
    conjugated = k > n_fft // 2
    full_bins = np.where(conjugated, n_fft - k, k)

    n1 = np.arange(n1_size)
    # Products reduced modulo the length keep the angles small, so cos/sin stay exact.
    angle = 2.0 * np.pi * ((n1[:, None] * n1[None, :]) % n1_size) / n1_size  # (n1, k1)
    cos, sin = np.cos(angle), np.sin(angle)
    # (a + ib)(cos + i sin) = (a cos - b sin) + i(a sin + b cos); columns (re/im, k1).
    first = np.stack(
        [np.concatenate([cos, -sin], axis=1), np.concatenate([sin, cos], axis=1)], axis=1
    ).reshape(2 * n1_size, 2 * n1_size)

    samples = n1[:, None, None] + n1_size * np.arange(n2_size)[None, :, None]  # (n1, n2, 1)
    k2 = np.arange(n2_size)[None, None, :]
    angle = 2.0 * np.pi * ((k2 * samples) % n_fft) / n_fft  # (n1, n2, k2)
    scale = window_values[samples] / n_fft
    second = np.concatenate([scale * np.cos(angle), -scale * np.sin(angle)], axis=2)
    return FactoredInverseDFT(
        full_bins=full_bins,
        imag_signs=np.where(conjugated, -1.0, 1.0),
        first=first,
        second=second,
        n1_size=n1_size,
        n2_size=n2_size,
    )


def window_sumsquare(window_values: np.ndarray, n_frames: int, hop_length: int) -> np.ndarray:
    """Sum of the squared window over ``n_frames`` frames ``hop_length`` apart.

    Parameters
    ----------
    window_values : np.ndarray
        Shape ``(n_fft,)``, the window as the STFT applies it (padded to ``n_fft``).
    n_frames, hop_length : int
        Frame count and hop in samples.

    Returns
    -------
    np.ndarray
        Shape ``(n_fft + hop_length * (n_frames - 1),)``, float64, as
        ``librosa.filters.window_sumsquare``: what the inverse STFT divides by.
    """
    n_frames = _check_positive_int("n_frames", n_frames)
    hop_length = _check_positive_int("hop_length", hop_length)
    squares = np.square(np.asarray(window_values, dtype=np.float64))
    total = np.zeros(squares.size + hop_length * (n_frames - 1))
    for start in range(0, hop_length * n_frames, hop_length):
        total[start : start + squares.size] += squares
    return total


def check_nola(window_values: np.ndarray, hop_length: int, name: str = "window") -> None:
    """Raise unless the window and hop satisfy NOLA (nonzero overlap-add).

    The inverse STFT divides by the overlapping squared windows; where their
    sum is zero the signal cannot be recovered. As ``scipy.signal.check_NOLA``
    states it: every sum ``sum(w[i::hop_length] ** 2)``, ``i < hop_length``,
    must exceed 1e-10.

    Parameters
    ----------
    window_values : np.ndarray
        Shape ``(n_fft,)``, the window padded to ``n_fft``.
    hop_length : int
        Hop in samples.
    name : str, default "window"
        How the error message names the window.

    Raises
    ------
    ValueError
        Naming the first sample offset whose window-sum is zero.
    """
    squares = np.square(np.asarray(window_values, dtype=np.float64))
    sums = np.array([squares[i::hop_length].sum() for i in range(hop_length)])
    zero = np.flatnonzero(sums <= _NOLA_TOLERANCE)
    if zero.size:
        raise ValueError(
            f"{name} with hop_length={hop_length} violates NOLA: the overlapping squared "
            f"windows sum to zero at sample offset {int(zero[0])} of every hop, so the "
            "inverse STFT cannot recover the signal there; use a smaller hop_length or "
            "another window"
        )
