"""WAV reading and writing with clear errors, conversion to float, resampling."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.io.wavfile
import scipy.signal

from speaker_recognition import PCM16_SCALE
from speaker_recognition.files import atomic_path

MIN_SAMPLE_RATE = 4000
"""Lowest sample rate a WAV file may declare, in Hz."""

MAX_SAMPLE_RATE = 384000
"""Highest sample rate a WAV file may declare, in Hz."""

MAX_CHANNELS = 16
"""Most channels a WAV file may hold."""

MAX_SECONDS = 600.0
"""Longest audio accepted, in seconds (10 minutes)."""

MAX_FILE_BYTES = 256 * 1024 * 1024
"""Largest WAV file read, in bytes (checked before reading)."""

MAX_FLOAT_PEAK = 4.0
"""Float samples beyond +-1 up to this peak (+12 dBFS) are clipped; larger ones reject the file."""


class AudioFileError(ValueError):
    """A file could not be read as WAV audio (the message names the file)."""


@dataclass
class Audio:
    """Decoded audio: float32 mono samples in [-1, 1] and what was done to get them."""

    samples: np.ndarray
    sample_rate: int
    source_rate: int
    source_format: str
    source_channels: int
    clipped: int = 0  # float samples beyond +-1 that were clipped


def _to_float(data: np.ndarray) -> tuple[np.ndarray, str]:
    """Integer PCM to floats in [-1, 1): PCM16 is divided by 32768, as the app does."""
    if data.dtype == np.int16:
        return data.astype(np.float32) / np.float32(PCM16_SCALE), "pcm16"
    if data.dtype == np.int32:
        return (data.astype(np.float64) / 2.0**31).astype(np.float32), "pcm32"
    if data.dtype == np.uint8:
        return ((data.astype(np.float32) - 128.0) / 128.0), "pcm8"
    if data.dtype in (np.float32, np.float64):
        return data.astype(np.float32), "float"
    raise AudioFileError(f"unsupported sample format {data.dtype}")


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``), float32 out."""
    if source_rate == target_rate:
        return samples.astype(np.float32)
    ratio = Fraction(target_rate, source_rate).limit_denominator(1000)
    return scipy.signal.resample_poly(samples, ratio.numerator, ratio.denominator).astype(
        np.float32
    )


def read_wav(path: str | os.PathLike, sample_rate: int | None = None) -> Audio:
    """Read a WAV file as float32 mono, optionally resampled.

    Parameters
    ----------
    path : path-like
        A RIFF WAV file (PCM 8/16/32-bit or float).
    sample_rate : int, optional
        Resample to this rate in Hz if the file differs.

    Returns
    -------
    Audio
        ``samples`` shape ``(n,)`` float32; several channels are averaged.

    Raises
    ------
    AudioFileError
        If the file is missing, not WAV, truncated, empty, or outside the bounds
        of this module (sample rate, channels, duration, file size, float
        samples that are not finite or peak above ``MAX_FLOAT_PEAK``); the
        message names the file.

    Notes
    -----
    Float samples beyond +-1 with a peak up to ``MAX_FLOAT_PEAK`` are clipped
    to +-1 and counted in ``Audio.clipped``.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise AudioFileError(f"{path}: cannot read ({error.strerror or error})") from None
    if size > MAX_FILE_BYTES:
        raise AudioFileError(f"{path}: {size} bytes, more than the {MAX_FILE_BYTES} allowed")
    try:
        rate, data = scipy.io.wavfile.read(path)
        samples, source_format = _to_float(np.asarray(data))
    except AudioFileError as error:
        raise AudioFileError(f"{path}: {error}") from None
    except Exception as error:  # scipy's parser raises many types on damaged files
        raise AudioFileError(
            f"{path}: not a readable WAV file ({type(error).__name__}: {error})"
        ) from None
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    _check_header(path, rate, channels, samples.shape[0])
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    clipped = 0
    if source_format == "float":
        samples, clipped = _clip_float(path, samples)
    target = rate if sample_rate is None else _check_rate(path, sample_rate, "sample_rate")
    return Audio(resample(samples, rate, target), target, rate, source_format, channels, clipped)


def _check_rate(path: Path, rate: int, what: str) -> int:
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioFileError(
            f"{path}: {what} {rate} Hz is outside {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz"
        )
    return int(rate)


def _check_header(path: Path, rate: int, channels: int, frames: int) -> None:
    _check_rate(path, rate, "sample rate")
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioFileError(f"{path}: {channels} channels; allowed 1 to {MAX_CHANNELS}")
    if frames == 0:
        raise AudioFileError(f"{path}: WAV file holds no audio")
    if frames / rate > MAX_SECONDS:
        raise AudioFileError(
            f"{path}: {frames / rate:.0f} s of audio, longer than the {MAX_SECONDS:.0f} s allowed"
        )


def _clip_float(path: Path, samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Float samples clipped to +-1, and how many were beyond; refuses wild values."""
    if not np.all(np.isfinite(samples)):
        raise AudioFileError(f"{path}: float WAV holds NaN or infinite samples")
    peak = float(np.max(np.abs(samples)))
    if peak > MAX_FLOAT_PEAK:
        raise AudioFileError(
            f"{path}: float samples reach {peak:.3g}; float WAV samples must lie in [-1, 1] "
            f"(peaks up to {MAX_FLOAT_PEAK:g} are clipped)"
        )
    beyond = int(np.count_nonzero(np.abs(samples) > 1.0))
    return (np.clip(samples, -1.0, 1.0) if beyond else samples), beyond


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int) -> None:
    """Write float samples in [-1, 1] as PCM16 WAV, atomically (temporary file, then rename)."""
    pcm = np.clip(np.round(np.asarray(samples) * PCM16_SCALE), -32768, 32767).astype(np.int16)
    with atomic_path(path) as temporary:
        scipy.io.wavfile.write(temporary, sample_rate, pcm)
