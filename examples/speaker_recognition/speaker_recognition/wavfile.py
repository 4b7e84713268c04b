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
from speaker_recognition.files import temporary_path_for


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
        If the file is missing, not WAV, truncated or empty; the message names it.
    """
    path = Path(path)
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
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if samples.size == 0 or rate <= 0:
        raise AudioFileError(f"{path}: WAV file holds no audio")
    if not np.all(np.isfinite(samples)):
        raise AudioFileError(f"{path}: WAV file holds non-finite samples")
    target = rate if sample_rate is None else sample_rate
    return Audio(resample(samples, rate, target), target, rate, source_format, channels)


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int) -> None:
    """Write float samples in [-1, 1] as PCM16 WAV, atomically (temporary file, then rename)."""
    pcm = np.clip(np.round(np.asarray(samples) * PCM16_SCALE), -32768, 32767).astype(np.int16)
    temporary = temporary_path_for(path)
    try:
        scipy.io.wavfile.write(temporary, sample_rate, pcm)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
