"""Constant matrices for audio front ends, built with numpy and scipy only.

Every constant a spela layer uses (analysis windows, DFT kernels, mel
filterbanks, DCT matrices) is computed here once, in float64, and cast by the
caller. This module never imports TensorFlow.
"""

from __future__ import annotations

import numbers
import warnings
from typing import NamedTuple

import numpy as np
import scipy.signal

__all__ = [
    "cepstral_matrix",
    "dct_matrix",
    "delta_coefficients",
    "dft_kernel",
    "factored_dft",
    "factored_dft_split",
    "fft_frequencies",
    "hz_to_mel",
    "mel_filterbank",
    "mel_frequencies",
    "mel_to_hz",
    "pcen_smoothing_coefficient",
    "window",
]

# Slaney's Auditory Toolbox scale: linear below 1 kHz, logarithmic above.
_SLANEY_F_SP = 200.0 / 3.0
_SLANEY_MIN_LOG_HZ = 1000.0
_SLANEY_MIN_LOG_MEL = _SLANEY_MIN_LOG_HZ / _SLANEY_F_SP
_SLANEY_LOGSTEP = np.log(6.4) / 27.0


def _check_positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _check_positive_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return float(value)


def hz_to_mel(frequencies, htk: bool = False) -> np.ndarray:
    """Convert frequencies in Hz to mels.

    Parameters
    ----------
    frequencies : float or array_like
        Frequencies in Hz, any shape.
    htk : bool, default False
        If True use the HTK formula ``2595 * log10(1 + f / 700)``; otherwise
        Slaney's scale (linear below 1 kHz, logarithmic above), as librosa.

    Returns
    -------
    np.ndarray
        Mel values, same shape as ``frequencies``, float64.

    Notes
    -----
    Slaney: ``m = f / (200/3)`` for ``f < 1000`` and
    ``m = 15 + log(f / 1000) / (log(6.4) / 27)`` above.

    Examples
    --------
    >>> float(hz_to_mel(1000.0))
    15.0
    >>> round(float(hz_to_mel(1000.0, htk=True)), 3)
    999.986
    """
    f = np.asarray(frequencies, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    linear = f / _SLANEY_F_SP
    with np.errstate(divide="ignore", invalid="ignore"):
        log_part = _SLANEY_MIN_LOG_MEL + np.log(f / _SLANEY_MIN_LOG_HZ) / _SLANEY_LOGSTEP
    return np.where(f >= _SLANEY_MIN_LOG_HZ, log_part, linear)


def mel_to_hz(mels, htk: bool = False) -> np.ndarray:
    """Convert mels to frequencies in Hz; the inverse of :func:`hz_to_mel`.

    Parameters
    ----------
    mels : float or array_like
        Mel values, any shape.
    htk : bool, default False
        HTK formula if True, Slaney's scale otherwise.

    Returns
    -------
    np.ndarray
        Frequencies in Hz, same shape as ``mels``, float64.

    Examples
    --------
    >>> float(mel_to_hz(15.0))
    1000.0
    """
    m = np.asarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    linear = _SLANEY_F_SP * m
    log_part = _SLANEY_MIN_LOG_HZ * np.exp(_SLANEY_LOGSTEP * (m - _SLANEY_MIN_LOG_MEL))
    return np.where(m >= _SLANEY_MIN_LOG_MEL, log_part, linear)


def mel_frequencies(
    n_mels: int = 128, f_min: float = 0.0, f_max: float = 11025.0, htk: bool = False
) -> np.ndarray:
    """Frequencies in Hz of ``n_mels`` points evenly spaced on the mel scale.

    Parameters
    ----------
    n_mels : int, default 128
        Number of points, >= 1.
    f_min, f_max : float
        Lowest and highest frequency in Hz, ``0 <= f_min <= f_max``.
    htk : bool, default False
        HTK mel scale if True, Slaney's otherwise.

    Returns
    -------
    np.ndarray
        Shape ``(n_mels,)``, Hz, float64, increasing from ``f_min`` to ``f_max``.

    Examples
    --------
    >>> mel_frequencies(3, 0.0, 8000.0).round(1).tolist()
    [0.0, 1803.0, 8000.0]
    """
    n_mels = _check_positive_int("n_mels", n_mels)
    if f_min < 0 or f_max < f_min:
        raise ValueError(f"need 0 <= f_min <= f_max, got f_min={f_min}, f_max={f_max}")
    mels = np.linspace(hz_to_mel(f_min, htk=htk), hz_to_mel(f_max, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


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


def mel_filterbank(
    sample_rate: float,
    n_fft: int,
    n_mels: int = 128,
    f_min: float = 0.0,
    f_max: float | None = None,
    htk: bool = False,
    norm: str | float | None = "slaney",
) -> np.ndarray:
    """Triangular mel filterbank, as ``librosa.filters.mel``.

    Parameters
    ----------
    sample_rate : float
        Sampling rate in Hz, > 0.
    n_fft : int
        FFT length in samples, >= 2; the filters cover ``n_fft // 2 + 1`` bins.
    n_mels : int, default 128
        Number of mel bands, >= 1.
    f_min : float, default 0.0
        Lowest band edge in Hz, ``0 <= f_min < f_max``.
    f_max : float, optional
        Highest band edge in Hz, ``<= sample_rate / 2``; defaults to
        ``sample_rate / 2``.
    htk : bool, default False
        HTK mel scale if True, Slaney's otherwise.
    norm : {"slaney", None} or float, default "slaney"
        ``"slaney"`` divides each triangle by its width in Hz (constant energy
        per band); a number ``p`` scales each filter to unit ``p``-norm;
        ``None`` leaves peaks at 1.

    Returns
    -------
    np.ndarray
        Shape ``(n_mels, n_fft // 2 + 1)``, float64.

    Warns
    -----
    UserWarning
        If some filters are all zero (too many mels for ``n_fft``), as librosa.

    Notes
    -----
    With band edges ``m_0 < ... < m_{n_mels+1}`` evenly spaced in mels and
    bin frequencies ``f_k``, filter ``i`` is
    ``max(0, min((f_k - m_i) / (m_{i+1} - m_i), (m_{i+2} - f_k) / (m_{i+2} - m_{i+1})))``
    (edges in Hz); Slaney normalisation multiplies it by ``2 / (m_{i+2} - m_i)``.

    References
    ----------
    .. [1] Slaney, M. "Auditory Toolbox", Technical Report 1998-010, Interval
       Research Corporation, 1998.

    Examples
    --------
    >>> mel_filterbank(16000, 512, n_mels=40).shape
    (40, 257)
    """
    sample_rate = _check_positive_float("sample_rate", sample_rate)
    n_fft = _check_positive_int("n_fft", n_fft, minimum=2)
    n_mels = _check_positive_int("n_mels", n_mels)
    nyquist = sample_rate / 2.0
    if f_max is None:
        f_max = nyquist
    if not 0.0 <= f_min < f_max:
        raise ValueError(f"need 0 <= f_min < f_max, got f_min={f_min}, f_max={f_max}")
    if f_max > nyquist:
        raise ValueError(
            f"f_max={f_max:g} Hz exceeds the Nyquist frequency {nyquist:g} Hz "
            f"(sample_rate / 2); allowed range is (f_min, {nyquist:g}]"
        )
    if not (norm is None or norm == "slaney" or _is_positive_number(norm)):
        raise ValueError(f"norm must be 'slaney', None or a positive number, got {norm!r}")

    bin_hz = fft_frequencies(sample_rate, n_fft)
    edges_hz = mel_frequencies(n_mels + 2, f_min, f_max, htk=htk)
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - bin_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))

    if norm == "slaney":
        weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    elif norm is not None:
        norms = np.linalg.norm(weights, ord=float(norm), axis=-1, keepdims=True)
        weights = np.divide(weights, norms, out=np.zeros_like(weights), where=norms > 0)

    empty = ~np.any(weights > 0, axis=1)
    if np.any(empty):
        warnings.warn(
            f"{int(empty.sum())} of n_mels={n_mels} mel filters are empty "
            f"(n_fft={n_fft} is too small for them); reduce n_mels or raise n_fft",
            UserWarning,
            stacklevel=2,
        )
    return weights


def _is_positive_number(value) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and (value > 0 or value == np.inf)
    )


def dct_matrix(n_out: int, n_in: int, norm: str | None = "ortho") -> np.ndarray:
    """DCT-II matrix: ``dct_matrix(n_out, n_in) @ x`` equals ``scipy.fft.dct(x)[:n_out]``.

    Parameters
    ----------
    n_out : int
        Number of coefficients kept, ``1 <= n_out <= n_in``.
    n_in : int
        Length of the transformed axis, >= 1.
    norm : {"ortho", None}, default "ortho"
        ``"ortho"`` gives an orthonormal transform (librosa's MFCC default);
        ``None`` the unnormalised ``2 * sum x_n cos(...)`` of scipy.

    Returns
    -------
    np.ndarray
        Shape ``(n_out, n_in)``, float64.

    Notes
    -----
    ``y_k = 2 * sum_n x_n cos(pi * k * (2n + 1) / (2 * n_in))``; with
    ``"ortho"``, ``y_0`` is scaled by ``sqrt(1 / (4 n_in))`` and the others by
    ``sqrt(1 / (2 n_in))``.

    Examples
    --------
    >>> dct_matrix(2, 4).round(3).tolist()
    [[0.5, 0.5, 0.5, 0.5], [0.653, 0.271, -0.271, -0.653]]
    """
    n_in = _check_positive_int("n_in", n_in)
    n_out = _check_positive_int("n_out", n_out)
    if n_out > n_in:
        raise ValueError(f"n_out={n_out} must be <= n_in={n_in}")
    if norm not in ("ortho", None):
        raise ValueError(f"norm must be 'ortho' or None, got {norm!r}")
    k = np.arange(n_out, dtype=np.float64)[:, None]
    n = np.arange(n_in, dtype=np.float64)[None, :]
    basis = 2.0 * np.cos(np.pi * k * (2.0 * n + 1.0) / (2.0 * n_in))
    if norm == "ortho":
        basis[0] *= np.sqrt(1.0 / (4.0 * n_in))
        basis[1:] *= np.sqrt(1.0 / (2.0 * n_in))
    return basis


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
    length = _check_positive_int("length", length)
    if isinstance(name, list):
        name = tuple(name)
    try:
        values = scipy.signal.get_window(name, length, fftbins=periodic)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"window={name!r} is not a window scipy.signal.get_window knows "
            f"(e.g. 'hann', 'hamming', 'blackman', ('kaiser', 8.0)): {error}"
        ) from None
    values = np.asarray(values, dtype=np.float64)
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
    """Matrices of the two-stage real DFT of length ``n_fft`` (see :class:`FactoredDFT`).

    Parameters
    ----------
    n_fft : int
        DFT length, >= 2; split by :func:`factored_dft_split`.

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


def delta_coefficients(
    width: int = 9, order: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Savitzky-Golay derivative weights, as ``librosa.feature.delta`` (``mode="interp"``).

    Parameters
    ----------
    width : int, default 9
        Window length in frames, odd and >= 3.
    order : int, default 1
        Derivative order (and polynomial order), ``1 <= order < width``.

    Returns
    -------
    centre : np.ndarray
        Shape ``(width,)``: output ``t`` is ``sum_j centre[j] * x[t - width // 2 + j]``.
    left, right : np.ndarray
        Shape ``(width // 2, width)``: the first (last) ``width // 2`` outputs
        are ``left @ x[:width]`` (``right @ x[-width:]``), from a polynomial
        fitted to the first (last) ``width`` frames.

    Notes
    -----
    A polynomial of degree ``order`` is least-squares fitted to the ``width``
    samples at positions ``-h..h`` (``h = width // 2``); its ``order``-th
    derivative at a position ``s`` is linear in the samples. The centre weights
    take ``s = 0``; the edges take ``s = -h..-1`` (left) and ``s = 1..h`` (right).

    References
    ----------
    .. [1] Savitzky, A. and Golay, M. J. E. "Smoothing and differentiation of data
       by simplified least squares procedures", Analytical Chemistry 36(8), 1964.
    """
    width = _check_positive_int("width", width, minimum=3)
    if width % 2 == 0:
        raise ValueError(f"width must be an odd integer >= 3, got {width}")
    order = _check_positive_int("order", order)
    if order >= width:
        raise ValueError(f"order={order} must be smaller than width={width}")
    half = width // 2
    positions = np.arange(-half, half + 1, dtype=np.float64)
    fit = np.linalg.pinv(np.vander(positions, order + 1, increasing=True))

    def derivative_rows(at: np.ndarray) -> np.ndarray:
        powers = np.arange(order, order + 1 + (fit.shape[0] - 1 - order))
        factors = np.array([np.prod(np.arange(p - order + 1, p + 1)) for p in powers])
        basis = factors[None, :] * at[:, None] ** (powers - order)[None, :]
        return basis @ fit[order:]

    centre = derivative_rows(np.zeros(1))[0]
    left = derivative_rows(np.arange(-half, 0, dtype=np.float64))
    right = derivative_rows(np.arange(1, half + 1, dtype=np.float64))
    return centre, left, right


def pcen_smoothing_coefficient(
    sample_rate: float, hop_length: int, time_constant: float = 0.4
) -> float:
    """Weight ``b`` of PCEN's smoother ``M[t] = (1 - b) M[t-1] + b E[t]``, as librosa.

    Parameters
    ----------
    sample_rate : float
        Audio sampling rate in Hz.
    hop_length : int
        Hop between frames in samples.
    time_constant : float, default 0.4
        Time constant of the smoother in seconds.

    Returns
    -------
    float
        ``b = (sqrt(1 + 4 T**2) - 1) / (2 T**2)`` with ``T = time_constant *
        sample_rate / hop_length`` frames, in ``(0, 1)``.
    """
    sample_rate = _check_positive_float("sample_rate", sample_rate)
    hop_length = _check_positive_int("hop_length", hop_length)
    time_constant = _check_positive_float("time_constant", time_constant)
    frames = time_constant * sample_rate / hop_length
    return float((np.sqrt(1.0 + 4.0 * frames**2) - 1.0) / (2.0 * frames**2))


def cepstral_matrix(
    n_mfcc: int, n_mels: int, norm: str | None = "ortho", lifter: float = 0.0
) -> np.ndarray:
    """Log-mel to MFCC matrix: DCT-II rows with optional liftering, as ``librosa.feature.mfcc``.

    Parameters
    ----------
    n_mfcc : int
        Number of coefficients, ``1 <= n_mfcc <= n_mels``.
    n_mels : int
        Number of mel bands.
    norm : {"ortho", None}, default "ortho"
        DCT normalisation (see :func:`dct_matrix`).
    lifter : float, default 0.0
        If > 0, coefficient ``k`` is scaled by ``1 + (lifter / 2) sin(pi (k + 1) / lifter)``.

    Returns
    -------
    np.ndarray
        Shape ``(n_mels, n_mfcc)``: ``log_mel @ matrix`` gives the MFCCs.
    """
    if isinstance(lifter, bool) or not isinstance(lifter, numbers.Real) or lifter < 0:
        raise ValueError(f"lifter must be a number >= 0, got {lifter!r}")
    matrix = dct_matrix(n_mfcc, n_mels, norm)
    if lifter > 0:
        matrix *= (1.0 + (lifter / 2.0) * np.sin(np.pi * np.arange(1, n_mfcc + 1) / lifter))[
            :, None
        ]
    return matrix.T
