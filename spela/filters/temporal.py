"""Constants of the layers acting along time: Savitzky-Golay deltas and PCEN's smoother."""

from __future__ import annotations

import numpy as np

from spela.filters._arguments import (
    MAX_DELTA_WIDTH,
    MAX_N_FFT,
    _check_positive_float,
    _check_positive_int,
)

__all__ = [
    "delta_coefficients",
    "pcen_smoothing_coefficient",
    "pcen_smoothing_logit",
]


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
    width = _check_positive_int("width", width, minimum=3, maximum=MAX_DELTA_WIDTH)
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
    frames = _time_constant_in_frames(sample_rate, hop_length, time_constant)
    # The same value as written above, without its cancellation for small T.
    return float(2.0 / (1.0 + np.sqrt(1.0 + 4.0 * frames**2)))


def pcen_smoothing_logit(sample_rate: float, hop_length: int, time_constant: float = 0.4) -> float:
    """``log(b / (1 - b))`` of ``pcen_smoothing_coefficient``, without rounding ``1 - b``.

    Parameters
    ----------
    sample_rate, hop_length, time_constant
        As for ``pcen_smoothing_coefficient``.

    Returns
    -------
    float
        ``log((1 + sqrt(1 + 4 T**2)) / (2 T**2))``, finite for every positive
        ``T``, where ``b`` itself rounds to 1 once ``T`` is far below one frame.
    """
    frames = _time_constant_in_frames(sample_rate, hop_length, time_constant)
    return float(np.log((1.0 + np.sqrt(1.0 + 4.0 * frames**2)) / (2.0 * frames**2)))


def _time_constant_in_frames(sample_rate, hop_length, time_constant) -> float:
    sample_rate = _check_positive_float("sample_rate", sample_rate)
    hop_length = _check_positive_int("hop_length", hop_length, maximum=MAX_N_FFT)
    time_constant = _check_positive_float("time_constant", time_constant)
    return time_constant * sample_rate / hop_length
