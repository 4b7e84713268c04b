"""Mel scale, mel filterbanks and the DCT of MFCCs, with librosa's definitions."""

from __future__ import annotations

import warnings

import numpy as np

from spela.filters._arguments import (
    MAX_N_FFT,
    MAX_N_MELS,
    _check_bool,
    _check_positive_float,
    _check_positive_int,
    _check_real,
    _is_positive_number,
)
from spela.filters.spectral import fft_frequencies

__all__ = [
    "band_blocks",
    "cepstral_matrix",
    "dct_matrix",
    "hz_to_mel",
    "mel_filterbank",
    "mel_frequencies",
    "mel_to_hz",
]


_SLANEY_F_SP = 200.0 / 3.0


_SLANEY_MIN_LOG_HZ = 1000.0


_SLANEY_MIN_LOG_MEL = _SLANEY_MIN_LOG_HZ / _SLANEY_F_SP


_SLANEY_LOGSTEP = np.log(6.4) / 27.0


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
    """Convert mels to frequencies in Hz; the inverse of ``hz_to_mel``.

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
    n_mels = _check_positive_int("n_mels", n_mels, maximum=MAX_N_MELS + 2)
    f_min, f_max = _check_real("f_min", f_min), _check_real("f_max", f_max)
    _check_bool("htk", htk)
    if f_min < 0 or f_max < f_min:
        raise ValueError(f"need 0 <= f_min <= f_max, got f_min={f_min}, f_max={f_max}")
    mels = np.linspace(hz_to_mel(f_min, htk=htk), hz_to_mel(f_max, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


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
    n_fft = _check_positive_int("n_fft", n_fft, minimum=2, maximum=MAX_N_FFT)
    n_mels = _check_positive_int("n_mels", n_mels, maximum=MAX_N_MELS)
    nyquist = sample_rate / 2.0
    if f_max is None:
        f_max = nyquist
    f_min, f_max = _check_real("f_min", f_min), _check_real("f_max", f_max)
    _check_bool("htk", htk)
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


_MAX_BLOCK_COLUMNS = 64  # bounds band_blocks' search to n_out * 64 candidate blocks


def band_blocks(
    matrix, block_cost: int = 256, max_entries: int | None = None
) -> list[tuple[int, int, int, int]]:
    """Split a banded matrix into dense blocks of consecutive columns.

    A mel filterbank ``(bins, n_mels)`` is zero outside a band of rows that
    moves down as the column index grows: each column's nonzero rows are a
    short range. Grouping consecutive columns into blocks and keeping, for
    each block, only the rows where any of its columns is nonzero stores and
    multiplies a small part of the matrix (about 2,400 of 20,560 entries for
    80 bands of a 512-point FFT).

    Parameters
    ----------
    matrix : array_like
        Shape ``(n_in, n_out)``, finite.
    block_cost : int, default 256
        Cost of one more block, in stored entries: larger values give fewer,
        larger blocks. The split minimises stored entries plus ``block_cost``
        per block (dynamic programming over the columns, blocks of at most
        64 columns).
    max_entries : int, optional
        Largest block, in stored entries; a single column may exceed it.

    Returns
    -------
    list of tuple of int
        ``(row_start, row_stop, column_start, column_stop)`` per block, the
        column ranges consecutive and covering ``0 .. n_out``. Every nonzero
        entry of ``matrix`` lies in its column's block rows. A block whose
        columns are all zero keeps one row, so that it still has a shape.

    Examples
    --------
    >>> band_blocks(np.array([[1.0, 0.0], [0.0, 2.0]]), block_cost=0)
    [(0, 1, 0, 1), (1, 2, 1, 2)]
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or min(matrix.shape) < 1:
        raise ValueError(f"matrix must be 2-D and non-empty, got shape {matrix.shape}")
    _check_real("block_cost", block_cost)
    if block_cost < 0:
        raise ValueError(f"block_cost must be >= 0, got {block_cost}")
    if max_entries is not None:
        max_entries = _check_positive_int("max_entries", max_entries)
    n_in, n_out = matrix.shape
    nonzero = matrix != 0
    # Per column, its first nonzero row and one past its last (n_in, 0 when empty).
    any_nonzero = nonzero.any(axis=0)
    firsts = np.where(any_nonzero, np.argmax(nonzero, axis=0), n_in)
    lasts = np.where(any_nonzero, n_in - np.argmax(nonzero[::-1], axis=0), 0)

    best = np.full(n_out + 1, np.inf)
    best[0] = 0.0
    chosen = [None] * (n_out + 1)  # per stop: the best last block
    for stop in range(1, n_out + 1):
        first, last = n_in, 0
        for start in range(stop - 1, max(stop - _MAX_BLOCK_COLUMNS, 0) - 1, -1):
            first, last = min(first, firsts[start]), max(last, lasts[start])
            row_start, row_stop = (int(first), int(last)) if first < last else (0, 1)
            entries = (row_stop - row_start) * (stop - start)
            if max_entries is not None and entries > max_entries and start < stop - 1:
                break
            cost = best[start] + entries + block_cost
            if cost < best[stop]:
                best[stop], chosen[stop] = cost, (row_start, row_stop, start, stop)
    blocks = []
    stop = n_out
    while stop > 0:
        blocks.append(chosen[stop])
        stop = chosen[stop][2]
    return blocks[::-1]


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
    n_in = _check_positive_int("n_in", n_in, maximum=MAX_N_MELS)
    n_out = _check_positive_int("n_out", n_out, maximum=MAX_N_MELS)
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
        DCT normalisation (see ``dct_matrix``).
    lifter : float, default 0.0
        If > 0, coefficient ``k`` is scaled by ``1 + (lifter / 2) sin(pi (k + 1) / lifter)``.

    Returns
    -------
    np.ndarray
        Shape ``(n_mels, n_mfcc)``: ``log_mel @ matrix`` gives the MFCCs.
    """
    if _check_real("lifter", lifter) < 0:
        raise ValueError(f"lifter must be a finite number >= 0, got {lifter!r}")
    matrix = dct_matrix(n_mfcc, n_mels, norm)
    if lifter > 0:
        matrix *= (1.0 + (lifter / 2.0) * np.sin(np.pi * np.arange(1, n_mfcc + 1) / lifter))[
            :, None
        ]
    return matrix.T
