"""mkdocs hook: draw the gallery of every layer's output next to librosa's.

Runs before each docs build (``on_pre_build``), so the pictures always show the
code being documented. Writes ``docs/img/gallery/*.png`` and
``docs/img/gallery/differences.json`` (the largest difference per layer).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SAMPLE_RATE = 16000
N_FFT, HOP, N_MELS = 512, 160, 64
OUT = Path(__file__).resolve().parent.parent / "img" / "gallery"


def speech_like_clip(seconds: float = 1.5) -> np.ndarray:
    """A voiced vowel glide (f0 110 -> 160 Hz, three formants), a pause, a fricative."""
    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 110 + 50 * t / seconds
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    formants = np.interp(t, [0, seconds], [700, 300])[:, None], 1200, 2500
    voiced = np.zeros_like(t)
    for harmonic in range(1, 40):
        frequency = harmonic * f0
        gain = sum(
            np.exp(-(((frequency - np.broadcast_to(f, t.shape).ravel()) / 120) ** 2))
            for f in (formants[0].ravel(), formants[1], formants[2])
        )
        voiced += (gain + 0.02) * np.sin(harmonic * phase) / harmonic
    voiced_part = t < 0.6 * seconds
    envelope = np.sin(np.pi * np.clip(t / (0.6 * seconds), 0, 1)) * voiced_part
    fricative_part = (t > 0.7 * seconds) & (t < 0.93 * seconds)
    fricative = np.diff(rng.normal(0, 1, t.size), prepend=0.0) * fricative_part
    clip = voiced * envelope + 0.15 * fricative
    return (0.5 * clip / np.abs(clip).max()).astype(np.float32)


def _pairs(clip):
    """``name -> (title, spela output (frames, bins), librosa output (frames, bins))``."""
    import librosa

    import spela

    x = clip[None]
    stft = {"n_fft": N_FFT, "hop_length": HOP}
    mel = {"sample_rate": SAMPLE_RATE, "n_mels": N_MELS, **stft}
    power = np.abs(librosa.stft(clip, **stft)) ** 2
    mel_power = librosa.feature.melspectrogram(y=clip, sr=SAMPLE_RATE, n_mels=N_MELS, **stft)
    log_mel = librosa.power_to_db(mel_power, top_db=80.0)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel_power), n_mfcc=20)

    def run(layer, values=x):
        return np.asarray(layer(values))[0]

    spela_log_mel = run(spela.MelSpectrogram(**mel, to_db=True))
    spela_mfcc = run(spela.MFCC(**mel, n_mfcc=20))
    pcen_smoothing = spela.filters.pcen_smoothing_coefficient(SAMPLE_RATE, HOP)
    return {
        "spectrogram": (
            "Spectrogram (power, shown in dB)",
            librosa.power_to_db(run(spela.Spectrogram(**stft)).T).T,
            librosa.power_to_db(power).T,
        ),
        "mel_spectrogram": ("MelSpectrogram(to_db=True)", spela_log_mel, log_mel.T),
        "mfcc": ("MFCC(n_mfcc=20)", spela_mfcc, mfcc.T),
        "delta": (
            "Delta(width=9) of the MFCCs",
            run(spela.Delta(width=9), spela_mfcc[None]),
            librosa.feature.delta(mfcc, width=9).T,
        ),
        "pcen": (
            "PCEN of the mel power spectrogram",
            run(
                spela.PCEN(SAMPLE_RATE, HOP),
                run(spela.MelSpectrogram(**mel))[None] * 2**31,
            ),
            librosa.pcen(mel_power * 2**31, sr=SAMPLE_RATE, hop_length=HOP, b=pcen_smoothing).T,
        ),
    }


def _masked(clip):
    import spela

    log_mel = spela.MelSpectrogram(
        SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, to_db=True
    )(clip[None])
    masks = [spela.TimeMasking(20, count=2, seed=1), spela.FrequencyMasking(12, count=2, seed=2)]
    masked = log_mel
    for mask in masks:
        masked = mask(masked, training=True)
    return np.asarray(log_mel)[0], np.asarray(masked)[0]


def _draw(path: Path, title: str, left, right, left_title: str, right_title: str) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.2), layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    low, high = min(left.min(), right.min()), max(left.max(), right.max())
    for axis, values, name in ((axes[0], left, left_title), (axes[1], right, right_title)):
        image = axis.imshow(values.T, origin="lower", aspect="auto", vmin=low, vmax=high)
        axis.set_title(name, fontsize=9)
        axis.set_xlabel(f"frame ({HOP / SAMPLE_RATE * 1000:.0f} ms hop)")
    axes[0].set_ylabel("bin, band or coefficient")
    figure.colorbar(image, ax=axes, shrink=0.9)
    figure.suptitle(title, fontsize=10)
    figure.savefig(path, dpi=80)


def on_pre_build(config, **kwargs) -> None:
    """Draw every gallery picture and record spela's largest difference from librosa."""
    OUT.mkdir(parents=True, exist_ok=True)
    clip = speech_like_clip()
    differences = {}
    for name, (title, ours, theirs) in _pairs(clip).items():
        difference = float(np.abs(ours - theirs).max())
        scale = float(np.abs(theirs).max())
        differences[name] = {"max_abs_difference": difference, "max_abs_value": scale}
        _draw(
            OUT / f"{name}.png",
            f"{title}: largest difference from librosa {difference:.2g} "
            f"(values up to {scale:.3g})",
            ours,
            theirs,
            "spela",
            "librosa",
        )
    original, masked = _masked(clip)
    _draw(
        OUT / "masking.png",
        "TimeMasking(20, count=2) and FrequencyMasking(12, count=2) in training",
        original,
        masked,
        "log-mel",
        "masked",
    )
    (OUT / "differences.json").write_text(json.dumps(differences, indent=2) + "\n")
