"""Export a trained run to TFLite (float32 and full int8) with labels and model facts.

Usage::

    python -m speaker_recognition.convert RUN_DIR [--out EXPORT_DIR]

Writes ``model.tflite`` (float32), ``model_int8.tflite`` (classifier in int8,
spela front end in float32), ``labels.txt`` and
``model.json`` (sample rate, clip length, input scaling, labels, whether the
model has a no-one output, sizes); both models also carry those facts, less
the sizes, in a metadata entry named ``model.json`` (``FACTS_METADATA``). Then
evaluates both TFLite models on the run's test split (up to ``train.REPORT_CLIPS`` clips,
spread over it): accuracy, agreement with Keras, accuracy in the room
conditions (``train.room_conditions``: the same degraded clips as the Keras
model's report), how often the app's rule names a speaker for strangers, for
noise alone and for the enrolled speakers (``train.app_rule_rates``: the same
recordings as the Keras model's report), size and single-thread latency per
clip.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections import Counter

from speaker_recognition import (
    CLIP_SAMPLES,
    FACTS_METADATA,
    PCM16_SCALE,
    SAMPLE_RATE,
    data,
    reporting,
    strangers,
)
from speaker_recognition.commands import add_verbose_option, command, start_tensorflow
from speaker_recognition.files import (
    write_bytes_atomically,
    write_json_atomically,
)
from speaker_recognition.train import (
    REPORT_CLIPS,
    app_rule_rates,
    load_run,
    load_run_model,
    predict,
    room_conditions,
    run_split,
)
from spela_tflite.quiet import tensorflow_quietly

REPRESENTATIVE_CLIPS = 200
CALIBRATION_SNR_DB = (0.0, 20.0)


def tflite_probabilities(model_bytes: bytes, clips: np.ndarray) -> np.ndarray:
    """Probabilities ``(n, classes)`` from a batch-1 TFLite model, one clip at a time."""
    from spela.export import load_interpreter

    interpreter = load_interpreter(model_bytes, num_threads=1)
    source = interpreter.get_input_details()[0]["index"]
    target = interpreter.get_output_details()[0]["index"]
    results = []
    for clip in clips:
        interpreter.set_tensor(source, clip[None].astype(np.float32))
        interpreter.invoke()
        results.append(interpreter.get_tensor(target)[0].copy())
    return np.stack(results)


def latency_ms(model_bytes: bytes, runs: int = 50) -> float:
    """Median single-thread time of one 1-s clip, in milliseconds."""
    from spela.export import load_interpreter

    interpreter = load_interpreter(model_bytes, num_threads=1)
    clip = np.random.default_rng(0).uniform(-0.3, 0.3, (1, CLIP_SAMPLES)).astype(np.float32)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], clip)
    for _ in range(5):
        interpreter.invoke()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        timings.append(time.perf_counter() - start)
    return float(np.median(timings) * 1e3)


def model_facts(
    labels: list[str],
    arch: str,
    sizes: dict[str, int] | None = None,
    no_one_output: bool = False,
) -> dict:
    """The contents of ``model.json``: what an app needs to feed and read the model.

    ``no_one_output`` (``model.has_no_one_output``) is written as it is: where it
    is true, the probabilities sum to 1 minus the probability that no one speaks,
    and the app may say so (its ``DecisionRule``). ``sizes`` (bytes of each
    exported file) is left out where it is ``None``, as in the facts each model
    carries inside (``FACTS_METADATA``).
    """
    import spela

    facts = {
        "sample_rate": SAMPLE_RATE,
        "clip_samples": CLIP_SAMPLES,
        "input_scaling": "float = pcm16 / pcm16_scale",
        "pcm16_scale": PCM16_SCALE,
        "input_shape": [1, CLIP_SAMPLES],
        "output": "probabilities",
        "labels": labels,
        "no_one_output": bool(no_one_output),
        "architecture": arch,
        "files": sizes,
        "spela_version": spela.__version__,
    }
    return facts if sizes is not None else {k: v for k, v in facts.items() if k != "files"}


def with_facts_inside(model_bytes: bytes, facts: dict) -> bytes:
    """``model_bytes`` carrying ``facts`` as its ``FACTS_METADATA`` entry (compact JSON).

    ``facts`` is ``model_facts`` without sizes: a file cannot hold its own size.
    The model's ops and weights are unchanged (``spela.export.with_metadata``).
    """
    from spela.export import with_metadata

    return with_metadata(model_bytes, {FACTS_METADATA: json.dumps(facts).encode()})


def calibration_clips(clips: np.ndarray, noise_bank: np.ndarray, seed: int) -> np.ndarray:
    """The int8 calibration set: half of ``clips`` as they are, half under noise.

    The second half is each clip mixed with a random window of ``noise_bank`` at
    a random SNR in ``CALIBRATION_SNR_DB``, so the int8 ranges also cover the
    features of noisy speech (calibrated on clean speech alone, they clip them).

    Parameters
    ----------
    clips : np.ndarray
        ``(n, CLIP_SAMPLES)`` float32 training clips.
    noise_bank : np.ndarray
        ``(windows, CLIP_SAMPLES)`` training noise windows; empty: ``clips`` unchanged.
    seed : int
        Seed of the windows and SNRs drawn.

    Returns
    -------
    np.ndarray
        ``(n, CLIP_SAMPLES)`` float32.
    """
    if len(noise_bank) == 0:
        return clips
    rng = np.random.default_rng(seed)
    noisy = clips.copy()
    for i in range(len(clips) // 2, len(clips)):
        window = noise_bank[rng.integers(len(noise_bank))]
        noisy[i] = data.mix_at_snr(clips[i], window, rng.uniform(*CALIBRATION_SNR_DB))
    return noisy


def convert(run_dir: str | Path, out: str | Path | None = None, verbose: bool = False) -> dict:
    """Export ``run_dir/best.keras`` and evaluate the exports; returns the figures.

    The TFLite converter's logging is hidden unless ``verbose``.
    """

    import spela  # noqa: F401  (registers spela's layers for loading)

    # Here, not at module level: it imports TensorFlow, which the command line
    # imports only after parsing its arguments (commands.start_tensorflow).
    from speaker_recognition.model import frontend_layer_names, has_no_one_output
    from spela.export import to_tflite

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    out = Path(out) if out is not None else run_dir / "export"
    model = load_run_model(run_dir, len(run["labels"]))
    train_set, test_set = run_split(run, "train"), run_split(run, "test")
    rng = np.random.default_rng(run["seed"])
    picks = rng.permutation(len(train_set))[:REPRESENTATIVE_CLIPS]
    representative, _ = data.read_clips(
        [train_set.files[i] for i in picks], train_set.labels[picks]
    )
    noises = data.read_noises(run["data_dir"], Counter())
    representative = calibration_clips(
        representative, data.noise_windows(noises, "train"), run["seed"]
    )
    # Only the clips used are read, so that a dataset larger than memory converts too.
    test_x, test_y = test_set.sample(REPORT_CLIPS)

    # The classifier is quantized to int8; the spela front end stays float32: an
    # 8-bit linear power spectrum keeps only ~24 dB below its peak (see the README).
    with tensorflow_quietly(verbose):
        exports = {
            "model.tflite": to_tflite(model),
            "model_int8.tflite": to_tflite(
                model,
                quantize="int8",
                representative_data=representative,
                float_layers=frontend_layer_names(model),
            ),
        }
    no_one_output = has_no_one_output(model)
    inside = model_facts(run["labels"], run["arch"], no_one_output=no_one_output)
    exports = {name: with_facts_inside(b, inside) for name, b in exports.items()}
    for name, model_bytes in exports.items():
        write_bytes_atomically(out / name, model_bytes)
    data.write_labels(out / "labels.txt", run["labels"])
    sizes = {name: len(b) for name, b in exports.items()}
    facts = model_facts(run["labels"], run["arch"], sizes, no_one_output)
    write_json_atomically(out / "model.json", facts)

    test_noise = data.noise_windows(noises, "test")
    keras_predicted = predict(model, test_x).argmax(axis=1)
    figures = {"keras": {"accuracy": float(np.mean(keras_predicted == test_y))}}
    for name, model_bytes in exports.items():
        probabilities_of = functools.partial(tflite_probabilities, model_bytes)
        predicted = probabilities_of(test_x).argmax(axis=1)
        figures[name] = {
            "accuracy": float(np.mean(predicted == test_y)),
            "agreement_with_keras": float(np.mean(predicted == keras_predicted)),
            "bytes": len(model_bytes),
            "latency_ms": latency_ms(model_bytes),
            "accuracy_by_condition": room_conditions(
                probabilities_of, test_x, test_y, test_noise, run["seed"]
            ),
            "confident_label_rate": app_rule_rates(
                probabilities_of, test_x, test_y, noises, run["seed"], facts["no_one_output"]
            ),
        }
    write_json_atomically(out / "export_report.json", figures)
    print(f"test split: {len(test_y)} clips")
    print(f"{'model':<20} {'accuracy':>9} {'agrees w/ Keras':>16} {'size':>10} {'latency':>10}")
    print(f"{'Keras':<20} {figures['keras']['accuracy']:>9.1%}")
    for name in exports:
        f = figures[name]
        print(
            f"{name:<20} {f['accuracy']:>9.1%} {f['agreement_with_keras']:>16.1%} "
            f"{f['bytes'] / 1024:>7.1f} KB {f['latency_ms']:>7.2f} ms"
        )
    for name in exports:
        print(f"\n{name} in room conditions (held-out noise, voices and rooms)")
        print(reporting.condition_table(figures[name]["accuracy_by_condition"]))
        print(f"app's rule: {strangers.summary_line(figures[name]['confident_label_rate'])}")
    print(f"wrote model.tflite, model_int8.tflite, labels.txt, model.json to {out}")
    return figures


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m speaker_recognition.convert",
        description="Export a training run to TFLite (float32 and int8) and evaluate it.",
    )
    parser.add_argument("run_dir", help="run folder written by speaker_recognition.train")
    parser.add_argument("--out", default=None, help="export folder (default RUN_DIR/export)")
    add_verbose_option(parser)
    args = parser.parse_args(argv)
    start_tensorflow(args)
    convert(args.run_dir, args.out, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
