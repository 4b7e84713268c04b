"""Independent references written from published formulas (numpy/scipy only)."""

from __future__ import annotations

import numpy as np
import scipy.signal


def padded_window(name, win_length: int, n_fft: int) -> np.ndarray:
    """Periodic scipy window of ``win_length`` zero-padded, centred, to ``n_fft``."""
    values = scipy.signal.get_window(name, win_length, fftbins=True)
    left = (n_fft - win_length) // 2
    return np.concatenate([np.zeros(left), values, np.zeros(n_fft - win_length - left)])


def stft(x, n_fft, hop_length, win_length, window, center, pad_mode) -> np.ndarray:
    """Complex STFT ``(frames, bins)`` of a 1-D float64 signal via ``scipy.signal.stft``.

    Centring pads ``n_fft // 2`` samples on both sides with numpy's ``pad_mode``
    (librosa's definition); scipy's ``"spectrum"`` scaling divides by the window
    sum, undone here.
    """
    w = padded_window(window, win_length, n_fft)
    x = np.asarray(x, dtype=np.float64)
    if center:
        x = np.pad(x, n_fft // 2, mode=pad_mode)
    _, _, spectrum = scipy.signal.stft(
        x,
        window=w,
        nperseg=n_fft,
        noverlap=n_fft - hop_length,
        nfft=n_fft,
        boundary=None,
        padded=False,
        detrend=False,
        return_onesided=True,
        scaling="spectrum",
    )
    return (spectrum * w.sum()).T


def stft_scale(x, n_fft, win_length, window) -> float:
    """Upper bound of any STFT coefficient, ``||w||_2 * ||x||_2`` (Cauchy-Schwarz)."""
    w = padded_window(window, win_length, n_fft)
    return float(np.linalg.norm(w) * np.linalg.norm(x)) + 1e-30
