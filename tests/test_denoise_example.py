"""The audio-to-audio example: a denoiser trained, exported to builtin TFLite, and measured."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spela_tflite import load_interpreter, read_model
from spela_tflite.model_file import BUILTIN_OPERATORS

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "denoising" / "denoise.py"


def _script():
    spec = importlib.util.spec_from_file_location("denoise_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_denoiser_trains_exports_and_raises_the_snr(tmp_path):
    out = tmp_path / "denoise"
    arguments = ["--out", str(out), "--epochs", "3", "--train-clips", "300", "--test-clips", "20"]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stderr == ""  # TensorFlow's start-up and converter logging stay hidden
    model_bytes = (out / "denoiser.tflite").read_bytes()
    names = read_model(model_bytes).op_names()
    assert set(names) <= set(BUILTIN_OPERATORS) - {"CUSTOM", "RFFT2D"}, sorted(set(names))

    # Fresh held-out pairs, run through LiteRT here, SNR computed here.
    noisy, clean = _script().make_pairs(12, seed=424242)
    interpreter = load_interpreter(model_bytes)
    detail, output = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    gains = []
    for mixture, reference in zip(noisy, clean, strict=True):
        interpreter.set_tensor(detail["index"], mixture[None])
        interpreter.invoke()
        denoised = interpreter.get_tensor(output["index"])[0]
        before = np.sum(reference**2) / np.sum((reference - mixture) ** 2)
        after = np.sum(reference**2) / np.sum((reference - denoised) ** 2)
        gains.append(10 * np.log10(after / before))
    assert np.mean(gains) > 3.0, gains
    report = json.loads((out / "report.json").read_text())
    assert report["parameters"] < 20_000 and report["snr_improvement_db"] > 3.0
    assert report["tflite_vs_keras_max_abs"] < 1e-4
    assert (out / "denoising.png").stat().st_size > 10_000


def test_bad_arguments_are_one_line_errors(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--epochs", "0", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "--epochs must be >= 1" in result.stderr and "Traceback" not in result.stderr
