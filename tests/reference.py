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


def slaney_mel(f):
    """Slaney's mel scale written from the Auditory Toolbox definition."""
    f = np.asarray(f, dtype=np.float64)
    return np.array(
        [
            x / (200.0 / 3.0) if x < 1000 else 15.0 + np.log(x / 1000.0) * 27.0 / np.log(6.4)
            for x in f.ravel()
        ]
    ).reshape(f.shape)


def mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max, htk, norm):
    """Triangles between mel-spaced edges, evaluated one bin at a time."""
    to_mel = (lambda f: 2595.0 * np.log10(1.0 + f / 700.0)) if htk else slaney_mel
    mel_grid = np.linspace(to_mel(f_min), to_mel(f_max), n_mels + 2)
    edges = np.array([invert_monotonic(to_mel, m, f_max) for m in mel_grid])
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    weights = np.zeros((n_mels, bins.size))
    for i in range(n_mels):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        for k, f in enumerate(bins):
            weights[i, k] = max(0.0, min((f - lo) / (mid - lo), (hi - f) / (hi - mid)))
        if norm == "slaney":
            weights[i] *= 2.0 / (hi - lo)
        elif norm is not None and np.any(weights[i]):
            weights[i] /= np.sum(np.abs(weights[i]) ** norm) ** (1.0 / norm)
    return weights


def invert_monotonic(to_mel, mel, f_max):
    """Frequency with the given mel value, by bisection (independent of mel_to_hz)."""
    lo, hi = 0.0, max(f_max, 1.0) * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if to_mel(mid) < mel else (lo, mid)
    return (lo + hi) / 2


def mel_spectrogram(
    x,
    sample_rate,
    n_fft,
    hop_length,
    win_length,
    window,
    center,
    pad_mode,
    power,
    n_mels,
    f_min,
    f_max,
    htk,
    norm,
) -> np.ndarray:
    """``(frames, n_mels)``: |STFT|**power times the formula filterbank."""
    spectrum = np.abs(stft(x, n_fft, hop_length, win_length, window, center, pad_mode)) ** power
    f_max = sample_rate / 2 if f_max is None else f_max
    return spectrum @ mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max, htk, norm).T


def power_to_db(power, ref=1.0, amin=1e-10, top_db=80.0) -> np.ndarray:
    """``10 log10(max(S, amin) / max(ref, amin))`` for one example, top_db below its max."""
    power = np.asarray(power, dtype=np.float64)
    reference = np.max(power) if ref == "max" else ref
    decibels = 10.0 * np.log10(np.maximum(power, amin)) - 10.0 * np.log10(max(amin, reference))
    if top_db is not None:
        decibels = np.maximum(decibels, decibels.max() - top_db)
    return decibels


def delta(x, width, order, axis=0) -> np.ndarray:
    """Savitzky-Golay derivative by explicit polynomial fits (numpy.polyfit) at each point."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    n, half = x.shape[0], width // 2
    flat = x.reshape(n, -1)
    out = np.empty_like(flat)
    for t in range(n):
        start = min(max(t - half, 0), n - width)
        positions = np.arange(start, start + width) - t
        for column in range(flat.shape[1]):
            fit = np.polyfit(positions, flat[start : start + width, column], order)
            out[t, column] = np.polyval(np.polyder(fit, order), 0.0)
    return np.moveaxis(out.reshape(x.shape), 0, axis)


def pcen(energy, smoothing, gain, bias, power, eps) -> np.ndarray:
    """PCEN of ``(frames, bins)`` by running the recurrence with M[-1] = 1."""
    energy = np.asarray(energy, dtype=np.float64)
    smoothed = np.empty_like(energy)
    previous = np.ones(energy.shape[1:])
    for t in range(energy.shape[0]):
        previous = (1 - smoothing) * previous + smoothing * energy[t]
        smoothed[t] = previous
    return (energy / (eps + smoothed) ** gain + bias) ** power - bias**power


def librosa_input(y: np.ndarray, options: dict) -> tuple[np.ndarray, dict]:
    """``y`` and librosa keyword arguments, with reflect centring done on the whole signal.

    librosa 0.10+ pads the frames that reach past the end from a short tail
    segment of the signal, and numpy's reflect of a segment no longer than the
    pad bounces back, so librosa's last frame then differs from reflecting the
    whole signal (its documented definition). Padding here and calling librosa
    with ``center=False`` keeps librosa's transform and the documented framing.
    """
    if options.get("center", True) and options.get("pad_mode") == "reflect":
        y = np.pad(y, options["n_fft"] // 2, mode="reflect")
        options = {**options, "center": False}
    return y, options
