"""A small synthetic speaker dataset in the Kaggle ``16000_pcm_speeches`` layout.

Each voice is a source-filter model: a glottal pulse train (per-speaker pitch
range, intonation, vibrato, jitter, spectral tilt, breathiness) through
formant resonators scaled by a per-speaker vocal-tract length, with syllables
of random vowels and fricatives at a per-speaker rate, and pauses. Each
speaker's "speech" is one continuous signal cut into numbered 1-s clips, as in
the real dataset, and every clip gets a random loudness, so that a classifier
must learn timbre rather than level or one pitch value (pitch ranges overlap).
Noise files (longer than a second, not at 16 kHz) go to ``_background_noise_/``
and ``other/``.

Usage: ``python -m speaker_recognition.synthetic OUT_DIR [--clips-per-speaker N]``
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.signal
from tqdm import tqdm

from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE
from speaker_recognition.commands import command
from speaker_recognition.files import OutputPathError, make_folder
from speaker_recognition.wavfile import write_wav

# Formant frequencies (F1, F2, F3) in Hz of an average adult vocal tract.
VOWELS = np.array(
    [
        [730, 1090, 2440],  # a
        [270, 2290, 3010],  # i
        [300, 870, 2240],  # u
        [530, 1840, 2480],  # e
        [570, 840, 2410],  # o
        [660, 1720, 2410],  # ae
    ],
    dtype=np.float64,
)

# Standard deviation of the random factor on each syllable's formants: how far one
# vowel of a voice strays from its average.
FORMANT_JITTER = 0.04


@dataclass(frozen=True)
class Voice:
    """Parameters of one synthetic speaker."""

    name: str
    pitch_hz: float  # median f0
    pitch_spread: float  # std of per-syllable log-f0 (intonation)
    tract_scale: float  # formant multiplier (shorter tract -> higher formants)
    tilt: float  # one-pole low-pass coefficient on the glottal source
    breathiness: float  # aspiration noise relative to the voiced source
    syllables_per_second: float
    fricative_hz: float
    vibrato_hz: float
    vibrato_depth: float
    jitter: float
    bandwidth_scale: float


VOICES = (
    Voice("Anna", 185.0, 0.16, 1.12, 0.55, 0.10, 4.2, 5200.0, 5.5, 0.012, 0.010, 1.0),
    Voice("Boris", 118.0, 0.14, 0.90, 0.80, 0.03, 3.6, 3600.0, 4.5, 0.006, 0.006, 1.3),
    Voice("Chen", 150.0, 0.18, 1.00, 0.70, 0.06, 5.4, 4400.0, 6.0, 0.008, 0.012, 0.9),
    Voice("Dara", 165.0, 0.12, 1.06, 0.62, 0.18, 3.9, 6000.0, 5.0, 0.015, 0.008, 1.15),
    Voice("Emeka", 135.0, 0.20, 0.95, 0.75, 0.08, 4.8, 4000.0, 4.0, 0.010, 0.015, 1.05),
)


def random_voices(count: int, seed: int, prefix: str = "Voice") -> list[Voice]:
    """``count`` voices with every parameter drawn uniformly from the range of ``VOICES``.

    Names are ``prefix`` followed by 1, 2, ...; a seed gives the same voices each time.
    """
    fields = [name for name in Voice.__dataclass_fields__ if name != "name"]
    values = np.array([[getattr(v, f) for f in fields] for v in VOICES])
    rng = np.random.default_rng(seed)
    return [
        Voice(f"{prefix}{i + 1}", *(float(x) for x in rng.uniform(values.min(0), values.max(0))))
        for i in range(count)
    ]


def separation(a: Voice, b: Voice) -> float:
    """How far apart two voices are in vocal tract and pitch, in syllable-to-syllable spreads.

    The distance between the vocal-tract lengths in units of ``FORMANT_JITTER``
    and between the median pitches in units of the voices' mean ``pitch_spread``,
    both on a log scale, combined as a Euclidean norm. Below about 1, one
    syllable of either voice could have come from the other on both cues; the
    voices then differ mainly by their other parameters (tilt, breathiness,
    rate, ...), which this does not count.

    Parameters
    ----------
    a, b : Voice
        The two voices.

    Returns
    -------
    float
        ``hypot(|log(a.tract_scale / b.tract_scale)| / FORMANT_JITTER,
        |log(a.pitch_hz / b.pitch_hz)| / mean(a.pitch_spread, b.pitch_spread))``,
        dimensionless, >= 0.
    """
    tract = abs(np.log(a.tract_scale / b.tract_scale)) / FORMANT_JITTER
    pitch = abs(np.log(a.pitch_hz / b.pitch_hz)) / ((a.pitch_spread + b.pitch_spread) / 2)
    return float(np.hypot(tract, pitch))


def closest_voices(voices: list[Voice] | tuple[Voice, ...]) -> tuple[Voice, Voice, float]:
    """The pair of ``voices`` with the smallest :func:`separation`, and that separation.

    Parameters
    ----------
    voices : sequence of Voice
        At least two voices.

    Returns
    -------
    (Voice, Voice, float)
        The two voices in the order given, and their separation.
    """
    if len(voices) < 2:
        raise ValueError(f"voices must hold at least two voices, got {len(voices)}")
    pairs = ((a, b, separation(a, b)) for a, b in itertools.combinations(voices, 2))
    return min(pairs, key=lambda pair: pair[2])


def describe_closest_voices(voices: list[Voice] | tuple[Voice, ...]) -> str:
    """One line naming the closest pair of ``voices`` and how far apart they are.

    ``voices`` is as for :func:`closest_voices`. The line reads
    ``"closest voices: A and B, separation S (vocal tracts T % apart,
    median pitches P / Q Hz, R % apart)"``.
    """
    a, b, distance = closest_voices(voices)
    tract = abs(a.tract_scale / b.tract_scale - 1) * 100
    pitch = abs(a.pitch_hz / b.pitch_hz - 1) * 100
    return (
        f"closest voices: {a.name} and {b.name}, separation {distance:.2f} "
        f"(vocal tracts {tract:.1f} % apart, median pitches {a.pitch_hz:.0f} / "
        f"{b.pitch_hz:.0f} Hz, {pitch:.0f} % apart)"
    )


def _resonator_sos(frequencies: np.ndarray, bandwidths: np.ndarray, rate: int) -> np.ndarray:
    """Second-order sections of unit-DC-gain resonators (one per formant)."""
    sections = []
    for frequency, bandwidth in zip(frequencies, bandwidths, strict=True):
        radius = np.exp(-np.pi * bandwidth / rate)
        theta = 2 * np.pi * min(frequency, 0.45 * rate) / rate
        a = [1.0, -2 * radius * np.cos(theta), radius**2]
        sections.append([sum(a), 0.0, 0.0, *a])
    return np.array(sections)


def _envelope(length: int, rate: int, attack_s: float = 0.025) -> np.ndarray:
    ramp = min(length // 2, int(attack_s * rate))
    envelope = np.ones(length)
    if ramp > 0:
        rise = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
        envelope[:ramp] = rise
        envelope[-ramp:] = rise[::-1]
    return envelope


def _syllable(voice: Voice, rng: np.random.Generator, rate: int) -> np.ndarray:
    """One syllable: optional fricative, then a voiced vowel."""
    duration = rng.gamma(8.0, 1.0 / (8.0 * voice.syllables_per_second))
    voiced = max(int(duration * rate), int(0.06 * rate))
    t = np.arange(voiced) / rate
    log_f0 = np.log(voice.pitch_hz) + rng.normal(0.0, voice.pitch_spread)
    glide = rng.normal(0.0, 0.08) * t / max(t[-1], 1e-3)
    vibrato = voice.vibrato_depth * np.sin(2 * np.pi * voice.vibrato_hz * t + rng.uniform(0, 6))
    jitter = scipy.signal.lfilter([0.02], [1, -0.98], rng.normal(0, voice.jitter * 7, voiced))
    f0 = np.exp(log_f0 + glide + vibrato + jitter)
    phase = np.cumsum(f0) / rate
    source = 2.0 * (phase % 1.0) - 1.0
    source = scipy.signal.lfilter([1 - voice.tilt], [1, -voice.tilt], source)
    pulse_gate = 0.5 + 0.5 * np.cos(2 * np.pi * phase)
    source = source + voice.breathiness * rng.standard_normal(voiced) * pulse_gate
    vowel = VOWELS[rng.integers(len(VOWELS))] * rng.normal(1.0, FORMANT_JITTER, 3)
    formants = np.append(vowel, 3500.0) * voice.tract_scale
    bandwidths = np.array([70.0, 100.0, 140.0, 200.0]) * voice.bandwidth_scale
    speech = scipy.signal.sosfilt(_resonator_sos(formants, bandwidths, rate), source)
    speech *= _envelope(voiced, rate) / (np.std(speech) + 1e-9)
    if rng.random() < 0.55:
        length = int(rng.uniform(0.03, 0.09) * rate)
        low = voice.fricative_hz * rng.uniform(0.85, 1.0)
        band = scipy.signal.butter(
            2, [low, min(low * 1.6, 0.45 * rate)], btype="band", fs=rate, output="sos"
        )
        fricative = scipy.signal.sosfilt(band, rng.standard_normal(length))
        fricative *= _envelope(length, rate, 0.01) * 0.3 / (np.std(fricative) + 1e-9)
        speech = np.concatenate([fricative, speech])
    return speech


def synthesize_speech(
    voice: Voice, seconds: float, rng: np.random.Generator, rate: int = SAMPLE_RATE
) -> np.ndarray:
    """A continuous speech-like signal of ``voice``, ``seconds`` long, float64."""
    target = int(seconds * rate)
    pieces, total = [], 0
    while total < target:
        if rng.random() < 0.12:
            piece = 0.003 * rng.standard_normal(int(rng.uniform(0.08, 0.35) * rate))
        else:
            piece = _syllable(voice, rng, rate)
        pieces.append(piece)
        total += piece.size
    return np.concatenate(pieces)[:target]


def _level(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Scale to a random RMS level between -30 and -16 dBFS, peaks kept below 0.95."""
    rms = np.sqrt(np.mean(clip**2)) + 1e-12
    scaled = clip * 10 ** (rng.uniform(-30.0, -16.0) / 20) / rms
    peak = np.max(np.abs(scaled))
    return scaled * (0.95 / peak) if peak > 0.95 else scaled


def colored_noise(
    rng: np.random.Generator, samples: int, rate: int, exponent: float
) -> np.ndarray:
    """Gaussian noise whose power falls as ``1 / f ** exponent`` (0 white, 1 pink, 2 brown).

    Frequencies below 20 Hz get the 20 Hz gain; float64, not normalized.
    """
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    frequencies = np.maximum(np.fft.rfftfreq(samples, 1 / rate), 20.0)
    return np.fft.irfft(spectrum / frequencies ** (exponent / 2), samples)


def _noise_files(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, int]]:
    """Background noises: long, at rates other than 16 kHz, like the real dataset's."""

    def colored(exponent: float, seconds: float, rate: int) -> np.ndarray:
        return colored_noise(rng, int(seconds * rate), rate, exponent)

    rate_a, rate_b = 44100, 22050
    t = np.arange(int(20 * rate_a)) / rate_a
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 8))
    tap = colored(0.0, 20, rate_b) * (
        1 + 0.5 * np.sin(2 * np.pi * 0.7 * np.arange(20 * rate_b) / rate_b)
    )
    babble_voices = [
        Voice(
            f"b{i}",
            rng.uniform(110, 210),
            0.15,
            rng.uniform(0.9, 1.1),
            0.7,
            0.08,
            rng.uniform(3.5, 5.5),
            4500.0,
            5.0,
            0.01,
            0.01,
            1.0,
        )
        for i in range(4)
    ]
    babble = sum(synthesize_speech(v, 20, rng, rate_b) for v in babble_voices)
    files = {
        "_background_noise_/white_noise.wav": (rng.standard_normal(int(20 * rate_a)), rate_a),
        "_background_noise_/pink_noise.wav": (colored(1.0, 25, rate_b), rate_b),
        "_background_noise_/brown_hum.wav": (colored(2.0, 20, rate_a) + 0.3 * hum, rate_a),
        "_background_noise_/running_tap.wav": (tap, rate_b),
        "other/babble.wav": (babble, rate_b),
        "other/room_tone.wav": (colored(1.5, 20, rate_a) + 0.05 * hum, rate_a),
    }
    return {name: (0.3 * x / np.max(np.abs(x)), rate) for name, (x, rate) in files.items()}


def write_dataset(
    out_dir: str | Path,
    clips_per_speaker: int = 300,
    seed: int = 0,
    progress: bool = True,
    voices: list[Voice] | tuple[Voice, ...] = VOICES,
) -> Path:
    """Write the synthetic dataset to ``out_dir`` (created; must not hold files).

    Parameters
    ----------
    out_dir : path-like
        Dataset root: ``<Speaker>/<n>.wav`` (1 s, 16 kHz, PCM16) for 5 speakers,
        plus ``_background_noise_/`` and ``other/`` noise files.
    clips_per_speaker : int, default 300
        Consecutive 1-s clips per speaker, numbered from 0.
    seed : int, default 0
        Seed of everything random.
    progress : bool, default True
        Show a progress bar.
    voices : sequence of Voice, default VOICES
        The speakers (e.g. ``random_voices(5, seed)`` for voices the example
        was never tuned on).

    Returns
    -------
    Path
        ``out_dir``. The dataset is written to a temporary folder and moved into
        place, so an interrupted run leaves nothing half-written.
    """
    out = Path(out_dir)
    if clips_per_speaker < 1:
        raise ValueError(f"clips_per_speaker must be >= 1, got {clips_per_speaker}")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} already exists and is not empty; choose a new folder")
    make_folder(out.parent)
    try:
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    except OSError as error:
        raise OutputPathError(f"cannot create folder {out}: {error.strerror or error}") from None
    try:
        rng = np.random.default_rng(seed)
        bar = tqdm(
            total=len(voices) * clips_per_speaker + 1,
            unit="clip",
            desc="synthesizing",
            disable=not progress,
        )
        for voice in voices:
            speech = synthesize_speech(voice, clips_per_speaker, rng)
            for index in range(clips_per_speaker):
                clip = speech[index * CLIP_SAMPLES : (index + 1) * CLIP_SAMPLES]
                write_wav(staging / voice.name / f"{index}.wav", _level(clip, rng), SAMPLE_RATE)
                bar.update()
        for name, (samples, rate) in _noise_files(rng).items():
            write_wav(staging / name, samples, rate)
        bar.update()
        bar.close()
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m speaker_recognition.synthetic",
        description="Write a synthetic 5-speaker dataset in the 16000_pcm_speeches layout.",
    )
    parser.add_argument("out_dir", help="dataset folder to create (must be new or empty)")
    parser.add_argument(
        "--clips-per-speaker", type=int, default=300, help="1-s clips per speaker (default 300)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--voice-seed",
        type=int,
        default=None,
        help="five random voices drawn with this seed instead of the fixed ones "
        "(an independent check on voices the example was not tuned on)",
    )
    args = parser.parse_args(argv)
    voices = VOICES if args.voice_seed is None else random_voices(5, args.voice_seed)
    out = write_dataset(args.out_dir, args.clips_per_speaker, args.seed, voices=voices)
    print(
        f"wrote {len(voices)} speakers x {args.clips_per_speaker} clips and 6 noise files to {out}"
    )
    print(describe_closest_voices(voices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
