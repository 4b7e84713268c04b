"""Name the speaker of WAV files with an exported TFLite model.

Usage::

    python -m speaker_recognition.predict EXPORT_DIR/model.tflite FILE.wav [FILE.wav ...]

Files longer than one second are classified over 1-s windows every half
second and the probabilities averaged; shorter ones are padded with silence.
Other sample rates are resampled to 16 kHz (with a notice). Labels are read from
``labels.txt`` beside the model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE
from speaker_recognition.wavfile import AudioFileError, read_wav

WINDOW_HOP = CLIP_SAMPLES // 2


def read_labels(path: str | Path) -> list[str]:
    """Speaker names from a ``labels.txt`` (one a line)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labels file {path} not found (expected beside the model)")
    labels = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not labels:
        raise ValueError(f"labels file {path} is empty")
    return labels


def windows(samples: np.ndarray) -> np.ndarray:
    """1-s windows ``(k, CLIP_SAMPLES)`` every half second, the last one flush with the end."""
    if samples.size <= CLIP_SAMPLES:
        return np.pad(samples, (0, CLIP_SAMPLES - samples.size))[None]
    starts = list(range(0, samples.size - CLIP_SAMPLES + 1, WINDOW_HOP))
    if starts[-1] != samples.size - CLIP_SAMPLES:
        starts.append(samples.size - CLIP_SAMPLES)
    return np.stack([samples[s : s + CLIP_SAMPLES] for s in starts])


def classify(model_bytes: bytes, samples: np.ndarray) -> np.ndarray:
    """Mean class probabilities over the windows of a 16 kHz signal."""
    from speaker_recognition.convert import tflite_probabilities

    return tflite_probabilities(model_bytes, windows(samples)).mean(axis=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m speaker_recognition.predict",
        description="Print the speaker and class probabilities of each WAV file.",
    )
    parser.add_argument("model", help="exported .tflite model (labels.txt beside it)")
    parser.add_argument("files", nargs="+", help="WAV files to classify")
    args = parser.parse_args(argv)
    model_path = Path(args.model)
    try:
        model_bytes = model_path.read_bytes()
        labels = read_labels(model_path.parent / "labels.txt")
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failures = 0
    for name in args.files:
        try:
            audio = read_wav(name, SAMPLE_RATE)
        except AudioFileError as error:
            print(f"error: {error}", file=sys.stderr)
            failures += 1
            continue
        if audio.source_rate != SAMPLE_RATE:
            print(f"note: {name} is {audio.source_rate} Hz; resampled to {SAMPLE_RATE} Hz")
        probabilities = classify(model_bytes, audio.samples)
        if probabilities.size != len(labels):
            print(
                f"error: model has {probabilities.size} outputs but labels.txt has "
                f"{len(labels)} names",
                file=sys.stderr,
            )
            return 2
        best = int(np.argmax(probabilities))
        others = ", ".join(
            f"{label} {p:.3f}" for label, p in zip(labels, probabilities, strict=True)
        )
        seconds = audio.samples.size / SAMPLE_RATE
        print(f"{name}: {labels[best]} ({probabilities[best]:.1%}, {seconds:.1f} s) [{others}]")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
