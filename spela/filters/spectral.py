"""Windows, DFT matrices and bin frequencies of the short-time Fourier transform."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.signal

from spela.filters._arguments import MAX_N_FFT, _check_positive_float, _check_positive_int

__all__ = [
    "FactoredDFT",
    "dft_kernel",
    "factored_dft",
    "factored_dft_split",
    "fft_frequencies",
    "window",
]


def fft_frequencies(sample_rate: float, n_fft: int) -> np.ndarray:
    """Centre frequencies in Hz of the ``n_fft // 2 + 1`` bins of a real FFT.

    Parameters
    ----------
    sample_rate : float
        Sampling rate in Hz, > 0.
    n_fft : int
        FFT length in samples, >= 2.

    Returns
    -------
    np.ndarray
        Shape ``(n_fft // 2 + 1,)``, Hz, from 0 to ``sample_rate / 2``.
    """
    sample_rate = _check_positive_float("sample_rate", sample_rate)
    n_fft = _check_positive_int("n_fft", n_fft, minimum=2)
    return np.arange(n_fft // 2 + 1, dtype=np.float64) * sample_rate / n_fft


def window(
    name: str | tuple, length: int, periodic: bool = True, pad_to: int | None = None
) -> np.ndarray:
    """Analysis window through ``scipy.signal.get_window``.

    Parameters
    ----------
    name : str or tuple
        Any window scipy knows: ``"hann"``, ``"hamming"``, ``"blackman"``, or a
        tuple with parameters such as ``("kaiser", 8.0)``.
    length : int
        Window length in samples, >= 1.
    periodic : bool, default True
        Periodic (DFT-even) window as librosa and tf.signal use for spectral
        analysis; False gives the symmetric window used for filter design.
    pad_to : int, optional
        If given, zero-pad the window on both sides to this length, centred as
        ``librosa.util.pad_center`` does (left pad ``(pad_to - length) // 2``).

    Returns
    -------
    np.ndarray
        Shape ``(pad_to or length,)``, float64.

    Examples
    --------
    >>> window("hann", 4).tolist()
    [0.0, 0.5, 1.0, 0.5]
    """
    length = _check_positive_int("length", length, maximum=MAX_N_FFT)
    if isinstance(name, list):
        name = tuple(name)
    known = "(e.g. 'hann', 'hamming', 'blackman', ('kaiser', 8.0))"
    if not (
        isinstance(name, str) or (isinstance(name, tuple) and name and isinstance(name[0], str))
    ):
        raise TypeError(
            f"window must be a window name or a (name, parameter...) tuple {known}, got {name!r}"
        )
    try:
        with np.errstate(all="ignore"):
            values = scipy.signal.get_window(name, length, fftbins=periodic)
    except (ValueError, TypeError, IndexError) as error:
        raise ValueError(
            f"window={name!r} is not a window scipy.signal.get_window knows {known}: {error}"
        ) from None
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)) or not np.any(values):
        raise ValueError(f"window={name!r} gives non-finite or all-zero values")
    if pad_to is None:
        return values
    pad_to = _check_positive_int("pad_to", pad_to)
    if pad_to < length:
        raise ValueError(f"pad_to={pad_to} must be >= the window length {length}")
    left = (pad_to - length) // 2
    return np.pad(values, (left, pad_to - length - left))


def dft_kernel(n_fft: int, window_values: np.ndarray | None = None) -> np.ndarray:
    """Windowed real DFT as a matrix: ``frames @ kernel`` gives real and imaginary parts.

    Parameters
    ----------
    n_fft : int
        DFT length in samples, >= 2 (any integer, not only powers of two).
    window_values : np.ndarray, optional
        Shape ``(n_fft,)``; multiplied into the kernel. Defaults to ones.

    Returns
    -------
    np.ndarray
        Shape ``(n_fft, 2 * (n_fft // 2 + 1))``, float64. Columns ``[:bins]``
        hold ``w[n] cos(2 pi k n / n_fft)`` (real part), columns ``[bins:]``
        hold ``-w[n] sin(2 pi k n / n_fft)`` (imaginary part), matching the
        sign convention of ``numpy.fft.rfft``.
    """
    n_fft = _check_positive_int("n_fft", n_fft, minimum=2)
    if window_values is None:
        window_values = np.ones(n_fft)
    window_values = np.asarray(window_values, dtype=np.float64)
    if window_values.shape != (n_fft,):
        raise ValueError(f"window_values must have shape ({n_fft},), got {window_values.shape}")
    n = np.arange(n_fft)[:, None]
    k = np.arange(n_fft // 2 + 1)[None, :]
    # Reducing k * n modulo n_fft keeps the angle small, so cos/sin stay exact.
    angle = 2.0 * np.pi * ((k * n) % n_fft) / n_fft
    weighted = window_values[:, None]
    return np.concatenate([weighted * np.cos(angle), -weighted * np.sin(angle)], axis=1)


class FactoredDFT(NamedTuple):
    """The matrices of a real DFT computed in two stages, ``n_fft = n1 * n2``.

    The frames are laid out as a matrix with rows ``n1`` and columns
    ``(n2, t)``: entry ``[n1, n2 * frames + t]`` holds sample
    ``n1 * n2_size + n2`` of frame ``t``. Then:

    1. ``first @ rows`` gives, for ``k1 = 0 .. n1_size // 2``, the DFTs of
       length ``n1_size`` down the columns, as rows ordered ``(k1, re/im)``;
    2. ``second[k1] @ (re/im, n2)`` applies the twiddle factors and the DFTs of
       length ``n2_size``, giving rows ordered ``(k1, re/im, k2)`` that hold
       ``X[k1 + n1_size * k2]`` (Cooley-Tukey);
    3. bin ``b`` of the real spectrum is row ``real_rows[b]`` (real part) and
       ``imag_rows[b]`` times ``imag_signs[b]`` (imaginary part). Bins whose
       ``k1`` exceeds ``n1_size // 2`` are read from their mirror ``n_fft - b``
       (conjugate symmetry of a real signal's DFT), so only half the ``k1``
       are computed.

    Attributes
    ----------
    first : np.ndarray
        Shape ``(2 * (n1_size // 2 + 1), n1_size)``.
    second : np.ndarray
        Shape ``(n1_size // 2 + 1, 2 * n2_size, 2 * n2_size)``.
    real_rows, imag_rows : np.ndarray
        Shape ``(n_fft // 2 + 1,)``, int, indices into the ``(k1, re/im, k2)``
        rows of stage 2 (``(n1_size // 2 + 1) * 2 * n2_size`` of them).
    imag_signs : np.ndarray
        Shape ``(n_fft // 2 + 1,)``, +1 or -1.
    n1_size, n2_size : int
        The factors, ``n1_size * n2_size = n_fft``.
    """

    first: np.ndarray
    second: np.ndarray
    real_rows: np.ndarray
    imag_rows: np.ndarray
    imag_signs: np.ndarray
    n1_size: int
    n2_size: int


def _factored_multiplications(n1: int, n2: int) -> int:
    half = n1 // 2 + 1
    return 2 * half * n1 * n2 + half * (2 * n2) ** 2


def factored_dft_split(n_fft: int) -> tuple[int, int]:
    """The factors ``(n1, n2)`` of ``n_fft`` with the fewest multiplications per frame.

    Parameters
    ----------
    n_fft : int
        DFT length, >= 2.

    Returns
    -------
    tuple of int
        ``(n1, n2)`` with ``n1 * n2 == n_fft``; ``(32, 16)`` for 512, ``(20, 20)``
        for 400 and ``(n_fft, 1)`` (a plain DFT) for a prime ``n_fft``.
    """
    n_fft = _check_positive_int("n_fft", n_fft, minimum=2)
    divisors = [d for d in range(1, n_fft + 1) if n_fft % d == 0]
    return min(
        ((n_fft // n2, n2) for n2 in divisors),
        key=lambda pair: (_factored_multiplications(*pair), pair[1]),
    )


def factored_dft(n_fft: int) -> FactoredDFT:
    """Matrices of the two-stage real DFT of length ``n_fft`` (see ``FactoredDFT``).

    Parameters
    ----------
    n_fft : int
        DFT length, >= 2; split by ``factored_dft_split``.

    Returns
    -------
    FactoredDFT
        float64 matrices; applied as described there they reproduce
        ``numpy.fft.rfft`` of each frame.
    """
    n1_size, n2_size = factored_dft_split(n_fft)
    half = n1_size // 2 + 1
    k1 = np.arange(half)
    # Products reduced modulo the length keep the angles small, so cos/sin stay exact.
    angle = 2.0 * np.pi * ((k1[:, None] * np.arange(n1_size)[None, :]) % n1_size) / n1_size
    first = np.stack([np.cos(angle), -np.sin(angle)], axis=1).reshape(2 * half, n1_size)

    n2 = np.arange(n2_size)[None, None, :]
    bins = k1[:, None, None] + n1_size * np.arange(n2_size)[None, :, None]
    angle = 2.0 * np.pi * ((n2 * bins) % n_fft) / n_fft  # (k1, k2, n2)
    cos, sin = np.cos(angle), np.sin(angle)
    # (a + ib)(cos - i sin) = (a cos + b sin) + i(b cos - a sin)
    second = np.concatenate(
        [np.concatenate([cos, sin], axis=2), np.concatenate([-sin, cos], axis=2)], axis=1
    )

    b = np.arange(n_fft // 2 + 1)
    mirrored = b % n1_size > n1_size // 2
    source = np.where(mirrored, n_fft - b, b)
    rows = (source % n1_size) * 2 * n2_size + source // n1_size
    return FactoredDFT(
        first=first,
        second=second,
        real_rows=rows,
        imag_rows=rows + n2_size,
        imag_signs=np.where(mirrored, -1.0, 1.0),
        n1_size=n1_size,
        n2_size=n2_size,
    )
