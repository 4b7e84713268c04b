"""Name the speaker of WAV files with an exported TFLite model.

Usage::

    python -m speaker_recognition.predict EXPORT_DIR/model.tflite FILE.wav [FILE.wav ...]

Files longer than one second are classified over 1-s windows every half
second and the probabilities averaged; shorter ones are padded with silence.
Other sample rates are resampled to 16 kHz (with a notice). Labels are read from
``labels.txt`` beside the model. Where ``model.json`` beside it says the model
has a no-one output, the probability that no one speaks (what the speakers'
probabilities leave of 1) is printed too, and a file where it leads reads
"no one speaking". Where either file is missing, the facts the model carries
inside (its ``model.json`` metadata entry, which ``convert`` writes) stand in
for it; where the file and the model disagree, a notice says so and the file
counts. A model with neither is read as having no no-one output (a notice
says so) and needs ``labels.txt``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from speaker_recognition import CLIP_SAMPLES, FACTS_METADATA, SAMPLE_RATE
from speaker_recognition.commands import add_verbose_option, command, start_tensorflow
from speaker_recognition.files import parse_json_object, read_json_object
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
    source = f"model facts file {path}"
    return no_one_output_in(read_json_object(path, "model facts file "), source)


def no_one_output_in(facts: dict, source: str) -> bool:
    """``facts["no_one_output"]``, ``False`` where it is absent.

    Raises
    ------
    ValueError
        Naming ``source``, if the value is not ``true`` or ``false``.
    """
    value = facts.get("no_one_output", False)
    if not isinstance(value, bool):
        raise ValueError(f"{source}: 'no_one_output' must be true or false, got {value!r}")
    return value


def facts_inside(path: Path, model_bytes: bytes) -> dict:
    """The facts a ``.tflite`` model carries in its ``model.json`` metadata; ``{}`` without.

    Raises
    ------
    ValueError
        Naming the file, if it is not a TFLite model, or the entry is not a
        JSON object whose ``labels`` (where present) are a list of names and
        whose ``no_one_output`` (where present) is ``true`` or ``false``.
    """
    from spela_tflite import read_model as read_flatbuffer

    try:
        entry = read_flatbuffer(model_bytes).metadata().get(FACTS_METADATA)
    except ValueError as error:
        raise ValueError(f"model file {path}: {error}") from None
    if entry is None:
        return {}
    source = f"model file {path}: its {FACTS_METADATA} metadata"
    facts = parse_json_object(entry, source)
    labels = facts.get("labels")
    names = isinstance(labels, list) and labels and all(isinstance(n, str) and n for n in labels)
    if "labels" in facts and not names:
        raise ValueError(f"{source}: 'labels' must be a list of names, got {labels!r}")
    no_one_output_in(facts, source)
    return facts


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


def read_model(path: Path) -> bytes:
    """The bytes of the ``.tflite`` file ``path``.

    Raises
    ------
    ValueError
        Naming the file, if it is missing or a folder.
    """
    if not path.is_file():
        raise ValueError(f"model file {path} " + ("is a folder" if path.is_dir() else "not found"))
    return path.read_bytes()


def check_model(path: Path, model_bytes: bytes, label_count: int) -> None:
    """Check a speaker model against the app's contract.

    Raises
    ------
    ValueError
        Naming the file, if it is not a TFLite model, or does not take one 1-s
        clip ``(1, CLIP_SAMPLES)`` and give ``label_count`` probabilities.
    """
    from spela.export import load_interpreter

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
            f"(one probability per speaker name)"
        )


def model_labels(model_path: Path, inside: dict) -> list[str]:
    """The speakers' names: ``labels.txt`` beside the model, else the model's own.

    A notice is printed where both exist and differ.
    """
    path = model_path.parent / "labels.txt"
    if "labels" in inside and not path.is_file():
        return inside["labels"]
    labels = read_labels(path)
    if "labels" in inside and inside["labels"] != labels:
        print(
            f"note: {path} names {labels}, but {model_path} was exported with "
            f"{inside['labels']}; the names of {path.name} are shown"
        )
    return labels


def model_no_one_output(model_path: Path, inside: dict) -> bool:
    """Whether the model has a no-one output: ``model.json`` beside it, else the model's own.

    ``inside`` is ``facts_inside``'s, already checked.

    A notice is printed where both exist and differ, and where neither says.
    """
    path = model_path.parent / "model.json"
    if not path.is_file():
        if "no_one_output" in inside:
            return inside["no_one_output"]
        print(
            f"note: no model.json beside {model_path}: read as a model without a no-one "
            f"output (convert writes model.json beside the models it exports)"
        )
        return False
    no_one_output = read_no_one_output(path)
    if "no_one_output" in inside and inside["no_one_output"] != no_one_output:
        print(
            f"note: {path} says no_one_output is {str(no_one_output).lower()}, but "
            f"{model_path} was exported with {str(not no_one_output).lower()}; "
            f"{path.name} counts"
        )
    return no_one_output


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m speaker_recognition.predict",
        description="Print the speaker and class probabilities of each WAV file.",
    )
    parser.add_argument(
        "model",
        help="exported .tflite model (labels.txt and model.json beside it, or inside it "
        "as convert writes them)",
    )
    parser.add_argument("files", nargs="+", help="WAV files to classify")
    add_verbose_option(parser)
    args = parser.parse_args(argv)
    start_tensorflow(args)
    model_path = Path(args.model)
    model_bytes = read_model(model_path)
    inside = facts_inside(model_path, model_bytes)
    labels = model_labels(model_path, inside)
    check_model(model_path, model_bytes, len(labels))
    no_one_output = model_no_one_output(model_path, inside)
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
