"""What a room and a phone do to a voice: reverberation, a band-limited channel, babble.

The same conditions serve training (as ``tf.data`` augmentation, see
``data.train_pipeline``) and testing (``degrade`` on the test split, with
impulse responses and channels drawn from another seed and babble from test
clips of other speakers).

Impulse responses are synthetic: a direct path, then exponentially decaying
noise (reverberation time RT60 uniform in 0.1-0.8 s) after a pre-delay of
2-10 ms, at a direct-to-reverberant ratio uniform in -3 to 12 dB. A channel is
a 2nd-order high-pass at 100-300 Hz, a 4th-order low-pass at 3.4-7 kHz and a
spectral tilt of -3 to +3 dB per octave around 1 kHz, as a magnitude response.
"""

from __future__ import annotations

import numpy as np

from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE

IMPULSE_SAMPLES = 8000  # 0.5 s: an RT60 of 0.8 s has decayed by 37 dB there
FFT_LENGTH = 32768  # >= CLIP_SAMPLES + IMPULSE_SAMPLES - 1, a power of two
RT60_RANGE_S = (0.1, 0.8)
DRR_RANGE_DB = (-3.0, 12.0)
HIGH_PASS_HZ = (100.0, 300.0)
LOW_PASS_HZ = (3400.0, 7000.0)
TILT_DB_PER_OCTAVE = (-3.0, 3.0)
DEGRADE_CHUNK = 64  # clips whose spectra degrade holds at once


def impulse_responses(count: int, seed: int) -> np.ndarray:
    """``count`` synthetic room impulse responses ``(count, IMPULSE_SAMPLES)``, float32.

    Each has its direct path (value 1) at sample 0, so it delays nothing.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(IMPULSE_SAMPLES) / SAMPLE_RATE
    responses = np.zeros((count, IMPULSE_SAMPLES))
    for response in responses:
        rt60 = rng.uniform(*RT60_RANGE_S)
        start = int(rng.uniform(0.002, 0.010) * SAMPLE_RATE)
        tail = rng.standard_normal(IMPULSE_SAMPLES) * np.exp(-6.9078 * t / rt60)  # -60 dB at rt60
        tail[:start] = 0.0
        drr = rng.uniform(*DRR_RANGE_DB)
        tail *= np.sqrt(10 ** (-drr / 10) / np.sum(tail**2))
        response[:] = tail
        response[0] = 1.0
    return responses.astype(np.float32)


def channel_responses(count: int, seed: int) -> np.ndarray:
    """``count`` magnitude responses of phone-like channels ``(count, FFT_LENGTH // 2 + 1)``."""
    rng = np.random.default_rng(seed)
    frequencies = np.maximum(np.fft.rfftfreq(FFT_LENGTH, 1 / SAMPLE_RATE), 1.0)
    responses = np.empty((count, frequencies.size))
    for response in responses:
        high_pass = rng.uniform(*HIGH_PASS_HZ)
        low_pass = rng.uniform(*LOW_PASS_HZ)
        tilt = rng.uniform(*TILT_DB_PER_OCTAVE)
        gain_high = 1 / np.sqrt(1 + (high_pass / frequencies) ** 4)  # Butterworth, order 2
        gain_low = 1 / np.sqrt(1 + (frequencies / low_pass) ** 8)  # Butterworth, order 4
        gain_tilt = 10 ** (tilt * np.log2(frequencies / 1000.0) / 20)
        response[:] = np.minimum(gain_high * gain_low * gain_tilt, 10.0)
    return responses.astype(np.float32)


def degrade(
    clips: np.ndarray,
    impulses: np.ndarray,
    channels: np.ndarray,
    picks: np.ndarray | None = None,
) -> np.ndarray:
    """``clips`` through a room (``impulses[i]``) and a channel (``channels[i]``), same level.

    Parameters
    ----------
    clips : np.ndarray
        ``(n, CLIP_SAMPLES)`` float32.
    impulses, channels : np.ndarray
        ``(n, IMPULSE_SAMPLES)`` and ``(n, FFT_LENGTH // 2 + 1)``: one per clip;
        with ``picks``, banks ``(rooms, IMPULSE_SAMPLES)`` and
        ``(rooms, FFT_LENGTH // 2 + 1)``.
    picks : np.ndarray, optional
        ``(n,)`` integers: clip ``i`` goes through ``impulses[picks[i]]`` and
        ``channels[picks[i]]``, gathered a chunk at a time, so no ``(n, ...)``
        copy of the banks is made (the same result as gathering them first).

    Returns
    -------
    np.ndarray
        ``(n, CLIP_SAMPLES)`` float32: the first second of the reverberant,
        filtered signal, scaled back to each clip's RMS level.
    """
    if picks is not None and len(picks) != len(clips):
        raise ValueError(f"picks must give one room per clip: {len(picks)} for {len(clips)} clips")
    out = np.empty(clips.shape, np.float32)
    # A chunk at a time: the spectra of the whole batch would take 0.5 GB per 1,000 clips.
    for start in range(0, len(clips), DEGRADE_CHUNK):
        part = slice(start, start + DEGRADE_CHUNK)
        rows = part if picks is None else picks[part]
        spectra = np.fft.rfft(clips[part], FFT_LENGTH) * np.fft.rfft(impulses[rows], FFT_LENGTH)
        wet = np.fft.irfft(spectra * channels[rows], FFT_LENGTH)[:, :CLIP_SAMPLES]
        level = np.sqrt(
            np.mean(clips[part] ** 2, axis=1, keepdims=True)
            / (np.mean(wet**2, axis=1, keepdims=True) + 1e-20)
        )
        out[part] = np.clip(wet * level, -1.0, 1.0)
    return out


def babble(
    clips: np.ndarray, labels: np.ndarray, pool: np.ndarray, pool_labels: np.ndarray, seed: int
) -> np.ndarray:
    """For each clip, the sum of 1-4 clips of ``pool`` of other speakers: ``(n, CLIP_SAMPLES)``."""
    rng = np.random.default_rng(seed)
    out = np.zeros_like(clips)
    for i, label in enumerate(labels):
        others = np.flatnonzero(pool_labels != label)
        for index in rng.choice(others, size=rng.integers(1, 5), replace=False):
            out[i] += pool[index]
    return out


def tf_degrade(clip, impulse, channel):
    """``degrade`` of one clip as TensorFlow ops (for ``tf.data``)."""
    import tensorflow as tf

    spectrum = tf.signal.rfft(clip, [FFT_LENGTH]) * tf.signal.rfft(impulse, [FFT_LENGTH])
    spectrum = spectrum * tf.cast(channel, tf.complex64)
    out = tf.signal.irfft(spectrum, [FFT_LENGTH])[:CLIP_SAMPLES]
    level = tf.sqrt(tf.reduce_mean(tf.square(clip)) / (tf.reduce_mean(tf.square(out)) + 1e-20))
    return tf.clip_by_value(out * level, -1.0, 1.0)
