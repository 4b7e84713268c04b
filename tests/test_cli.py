"""The spela command and the chirp demo, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import spela
from spela.export import run_tflite
from spela_tflite import read_model
from spela_tflite.command import main

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


def test_export_stores_metadata_files(saved_model, tmp_path, capsys):
    path, _ = saved_model
    labels = tmp_path / "labels.txt"
    labels.write_text("Anna\nBoris\n")
    out = tmp_path / "tagged.tflite"
    argv = ["export", str(path), str(out), "--metadata", f"labels={labels}"]
    assert main([*argv, "--metadata", f"readme={labels}"]) == 0
    entries = read_model(out.read_bytes()).metadata()
    assert entries["labels"] == entries["readme"] == b"Anna\nBoris\n"
    assert main(["inspect", str(out)]) == 0
    assert "labels (11 bytes), readme (11 bytes)" in capsys.readouterr().out
    command = [sys.executable, "-m", "spela_tflite.command", "inspect", str(out)]
    shown = subprocess.run([*command, "--metadata", "labels"], capture_output=True, timeout=120)
    assert shown.returncode == 0 and shown.stdout == b"Anna\nBoris\n", shown.stderr
    missing = subprocess.run([*command, "--metadata", "names"], capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr == (
        f"spela: error: model file {str(out)!r} has no metadata entry 'names'; it has "
        "['CONVERSION_METADATA', 'labels', 'min_runtime_version', 'readme']\n"
    )

    for given, message in (
        ("labels", "--metadata 'labels' must be NAME=FILE"),
        (f"={labels}", "must be NAME=FILE"),
        (f"labels={tmp_path / 'missing.txt'}", "--metadata labels file"),
        (f"min_runtime_version={labels}", "is not allowed"),
    ):
        bad = tmp_path / "bad.tflite"
        assert main(["export", str(path), str(bad), "--metadata", given]) == 1
        err = capsys.readouterr().err
        assert err.startswith("spela: error: ") and message in err and err.count("\n") == 1
        assert not bad.exists()


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


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, saved_model):
    root = tmp_path_factory.mktemp("bad")
    path, _ = saved_model
    (root / "empty.keras").write_bytes(b"")
    (root / "truncated.keras").write_bytes(path.read_bytes()[:500])
    (root / "file").write_text("x")
    (root / "folder").mkdir()
    np.savez(root / "arrays.npz", a=np.zeros(3))
    np.save(root / "signals.npy", np.zeros((2, 2000), np.float32))
    (root / "garbage.tflite").write_bytes(b"\x00" * 64)

    class Unregistered(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    keras.Sequential([keras.Input((10,)), Unregistered()]).save(root / "unregistered.keras")
    return root


def _cases(root, model):
    int8 = ["--quantize", "int8", "--representative"]
    out = str(root / "out.tflite")
    return {
        "export to a folder": (["export", model, str(root / "folder")], "is a directory"),
        "export under a file": (["export", model, str(root / "file" / "x.tflite")], "is a file"),
        "export unwritable": (["export", model, "/proc/spela.tflite"], "cannot write"),
        "missing representative": (
            ["export", model, out, *int8, str(root / "no.npy")],
            "does not exist",
        ),
        "npz representative": (["export", model, out, *int8, str(root / "arrays.npz")], ".npz"),
        "text representative": (["export", model, out, *int8, str(root / "file")], "not a .npy"),
        "representative without int8": (
            ["export", model, out, "--representative", str(root / "signals.npy")],
            "--representative applies to --quantize int8 only",
        ),
        "int8 without representative": (
            ["export", model, out, "--quantize", "int8"],
            "needs --representative",
        ),
        "empty .keras": (["export", str(root / "empty.keras"), out], "is not a .keras model"),
        "truncated .keras": (
            ["export", str(root / "truncated.keras"), out],
            "is not a .keras model",
        ),
        "unregistered class": (
            ["export", str(root / "unregistered.keras"), out],
            "cannot be loaded by Keras",
        ),
        "inspect a folder": (
            ["inspect", str(root / "folder")],
            "'" + str(root / "folder") + "' is a directory",
        ),
        "inspect garbage": (["inspect", str(root / "garbage.tflite")], "not a TFLite flatbuffer"),
        "benchmark a .keras": (["benchmark", model], "not a TFLite flatbuffer"),
    }


CASE_NAMES = list(_cases(Path("/r"), "m"))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_user_errors_are_one_line(saved_model, bad_files, capsys, case):
    argv, message = _cases(bad_files, str(saved_model[0]))[case]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("spela: error: ") and captured.err.count("\n") == 1, (
        captured.err
    )
    assert message in captured.err, captured.err
    assert not (bad_files / "out.tflite").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["benchmark", "m.tflite", "--runs", "0"],
        ["benchmark", "m.tflite", "--runs", "-3"],
        ["benchmark", "m.tflite", "--threads", "0"],
        ["export", "m.keras", "o.tflite", "--batch-size", "0"],
    ],
)
def test_out_of_range_numbers_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    assert "must be >= " in capsys.readouterr().err


def test_interrupted_export_leaves_no_temporary(saved_model, tmp_path, monkeypatch, capsys):
    import spela_tflite.command

    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(spela_tflite.command.os, "replace", interrupted)
    assert main(["export", str(saved_model[0]), str(tmp_path / "m.tflite")]) == 130
    assert list(tmp_path.iterdir()) == []
    assert "interrupted" in capsys.readouterr().err


def test_export_honours_the_umask(saved_model, tmp_path):
    previous = os.umask(0o027)
    try:
        assert main(["export", str(saved_model[0]), str(tmp_path / "m.tflite")]) == 0
    finally:
        os.umask(previous)
    assert (tmp_path / "m.tflite").stat().st_mode & 0o777 == 0o640
