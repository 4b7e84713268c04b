"""The spela command and the chirp demo, run as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import spela
from spela.cli import main
from spela.export import run_tflite

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "front.keras"
    inputs = keras.Input((2000,))
    outputs = spela.Spectrogram(256, hop_length=128, backend="matmul")(inputs)
    model = keras.Model(inputs, outputs)
    model.save(path)
    return path, model


def test_export_inspect_benchmark(saved_model, tmp_path, capsys):
    path, model = saved_model
    out = tmp_path / "exported" / "front.tflite"
    representative = tmp_path / "x.npy"
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 2000)).astype(np.float32)
    np.save(representative, x)
    assert main(["export", str(path), str(out)]) == 0
    np.testing.assert_allclose(
        run_tflite(out.read_bytes(), x), np.asarray(model(x)), rtol=1e-4, atol=1e-3
    )
    assert (
        main(
            [
                "export",
                str(path),
                str(tmp_path / "q.tflite"),
                "--quantize",
                "int8",
                "--representative",
                str(representative),
            ]
        )
        == 0
    )
    assert main(["inspect", str(out)]) == 0
    assert main(["benchmark", str(out), "--runs", "5", "--warmup", "1"]) == 0
    printed = capsys.readouterr().out
    assert "FULLY_CONNECTED" in printed and "shape [1, 2000]" in printed
    assert "median" in printed and "quantize=int8" in printed
    assert [p.name for p in out.parent.iterdir()] == ["front.tflite"]  # no temporary left


def test_errors_are_clear(saved_model, tmp_path, capsys):
    path, _ = saved_model
    assert main(["inspect", str(tmp_path / "missing.tflite")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", str(path), str(tmp_path / "q.tflite"), "--quantize", "int8"]) == 1
    assert "--representative" in capsys.readouterr().err
    assert not (tmp_path / "q.tflite").exists()


@pytest.mark.slow
def test_chirp_demo_runs(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "chirp_spectrogram.py"),
            "--out",
            str(tmp_path),
            "--n-fft",
            "400",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "backend: auto" in result.stdout and "BATCH_MATMUL" in result.stdout
    assert (tmp_path / "chirp_spectrogram.png").stat().st_size > 10_000
    assert (tmp_path / "chirp_spectrogram.tflite").stat().st_size > 0
