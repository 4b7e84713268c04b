"""Name the speaker of WAV files with an exported TFLite model.

Usage::

    python -m speaker_recognition.predict EXPORT_DIR/model.tflite FILE.wav [FILE.wav ...]

Files longer than one second are classified over 1-s windows every half
second and the probabilities averaged; shorter ones are padded with silence.
Other sample rates are resampled to 16 kHz (with a notice). Labels are read from
``labels.txt`` beside the model. Where ``model.json`` beside it says the model
has a no-one output, the probability that no one speaks (what the speakers'
probabilities leave of 1) is printed too, and a file where it leads reads
"no one speaking"; without ``model.json`` (a notice says so) the model is read
as having none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE
from speaker_recognition.commands import add_verbose_option, command, start_tensorflow
from speaker_recognition.files import read_json_object
from speaker_recognition.strangers import no_one_share
from speaker_recognition.wavfile import AudioFileError, read_wav

WINDOW_HOP = CLIP_SAMPLES // 2
NO_ONE = "no one speaking"


def read_labels(path: str | Path) -> list[str]:
    """Speaker names from a ``labels.txt`` (one a line)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"labels file {path} not found (expected beside the model)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"labels file {path} is not UTF-8 text") from None
    labels = [line.strip() for line in text.splitlines() if line.strip()]
    if not labels:
        raise ValueError(f"labels file {path} is empty")
    return labels


def read_no_one_output(path: str | Path) -> bool:
    """Whether a ``model.json`` says its model has a no-one output; ``False`` without the file.

    Raises
    ------
    ValueError
        Naming the file, if it is not JSON holding an object, or its
        ``no_one_output`` is not ``true`` or ``false``.
    """
    path = Path(path)
    if not path.is_file():
        return False
    value = read_json_object(path, "model facts file ").get("no_one_output", False)
    if not isinstance(value, bool):
        raise ValueError(
            f"model facts file {path}: 'no_one_output' must be true or false, got {value!r}"
        )
    return value


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


def read_model(path: Path, label_count: int) -> bytes:
    """The bytes of a ``.tflite`` speaker model, checked against the app's contract.

    Raises
    ------
    ValueError
        Naming the file, if it is missing, not a TFLite model, or does not take
        one 1-s clip ``(1, CLIP_SAMPLES)`` and give ``label_count`` probabilities.
    """
    from spela.export import load_interpreter

    if not path.is_file():
        raise ValueError(f"model file {path} " + ("is a folder" if path.is_dir() else "not found"))
    model_bytes = path.read_bytes()
    try:
        interpreter = load_interpreter(model_bytes)
    except ValueError as error:
        raise ValueError(f"model file {path}: {error}") from None
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    shapes = [d["shape"].tolist() for d in inputs], [d["shape"].tolist() for d in outputs]
    if shapes != ([[1, CLIP_SAMPLES]], [[1, label_count]]):
        raise ValueError(
            f"model file {path} takes {shapes[0]} and gives {shapes[1]}; a speaker model "
            f"takes [[1, {CLIP_SAMPLES}]] and gives [[1, {label_count}]] "
            f"(one probability per name in labels.txt)"
        )
    return model_bytes


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m speaker_recognition.predict",
        description="Print the speaker and class probabilities of each WAV file.",
    )
    parser.add_argument("model", help="exported .tflite model (labels.txt beside it)")
    parser.add_argument("files", nargs="+", help="WAV files to classify")
    add_verbose_option(parser)
    args = parser.parse_args(argv)
    start_tensorflow(args)
    model_path = Path(args.model)
    labels = read_labels(model_path.parent / "labels.txt")
    model_bytes = read_model(model_path, len(labels))
    facts_path = model_path.parent / "model.json"
    no_one_output = read_no_one_output(facts_path)
    if not facts_path.is_file():
        print(
            f"note: no model.json beside {model_path}: read as a model without a no-one "
            f"output (convert writes model.json beside the models it exports)"
        )
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
        shares = list(zip(labels, probabilities.tolist(), strict=True))
        if no_one_output:
            shares.append((NO_ONE, float(no_one_share(probabilities))))
        best, share = max(shares, key=lambda item: item[1])
        others = ", ".join(f"{label} {p:.3f}" for label, p in shares)
        seconds = audio.samples.size / SAMPLE_RATE
        print(f"{name}: {best} ({share:.1%}, {seconds:.1f} s) [{others}]")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
