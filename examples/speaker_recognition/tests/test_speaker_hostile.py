"""Hostile files, folders and arguments against the example's reader and commands.

Each bad input ends in a counted repair, a skipped file named in a warning, or
one ``error: ...`` line naming the file or argument and exit status 2; never a
traceback, a huge allocation, or a half-written file.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import scipy.io.wavfile
from hypothesis import given
from hypothesis import strategies as st

import spela
from speaker_recognition import CLIP_SAMPLES, convert, data, predict, synthetic, train, wavfile
from speaker_recognition.files import new_file_permissions, write_bytes_atomically
from speaker_recognition.wavfile import AudioFileError, read_wav
from spela.export import to_tflite, with_metadata

EXAMPLE = Path(__file__).resolve().parents[1]


def _wav_bytes(fmt=1, channels=1, rate=16000, bits=16, payload=b"\0\0" * 160, data_size=None):
    block = (channels * bits // 8) % 65536
    header = struct.pack(
        "<HHIIHH", fmt, channels, rate, (rate * block) % 2**32, block, bits % 65536
    )
    size = len(payload) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + header + b"data"
    body += struct.pack("<I", size) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


@st.composite
def hostile_wavs(draw):
    fmt = draw(st.sampled_from([1, 3, 0, 2, 65534, 7]))
    channels = draw(st.one_of(st.integers(1, 2), st.integers(0, 65535)))
    rate = draw(
        st.one_of(
            st.sampled_from([8000, 16000, 44100]),
            st.sampled_from([0, 1, 3999, 384001, 48_000_000, 2**32 - 1]),
            st.integers(0, 2**32 - 1),
        )
    )
    bits = draw(st.sampled_from([16, 8, 32, 64, 0, 7, 24]))
    payload = draw(st.binary(max_size=512))
    data_size = draw(st.one_of(st.none(), st.sampled_from([0, 1, 2**31 - 1, 2**32 - 1])))
    raw = _wav_bytes(fmt, channels, rate, bits, payload, data_size)
    cut = draw(st.one_of(st.none(), st.integers(0, len(raw))))
    return raw if cut is None else raw[:cut]


@given(raw=hostile_wavs())
def test_hostile_wav_headers_are_read_within_bounds_or_named(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("wav") / "hostile.wav"
    path.write_bytes(raw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            audio = read_wav(path, 16000)
    except AudioFileError as error:
        assert str(error).startswith(f"{path}: "), error
        return
    assert wavfile.MIN_SAMPLE_RATE <= audio.source_rate <= wavfile.MAX_SAMPLE_RATE
    assert 1 <= audio.source_channels <= wavfile.MAX_CHANNELS
    assert audio.samples.dtype == np.float32 and np.all(np.isfinite(audio.samples))
    assert np.abs(audio.samples).max() <= 1.0 + 1e-6 or audio.source_format != "float"
    # Never more than the longest allowed duration, whatever the header claims.
    assert audio.samples.size <= wavfile.MAX_SECONDS * 16000 + 16


def _float_wav(path, samples, rate=16000):
    scipy.io.wavfile.write(path, rate, np.asarray(samples, np.float32))


@pytest.mark.parametrize(
    ("rate", "problem"),
    [(48_000_000, "sample rate 48000000 Hz is outside"), (1, "sample rate 1 Hz is outside")],
)
def test_absurd_sample_rates_are_refused_before_resampling(tmp_path, rate, problem):
    # A 32 KB file claiming 1 Hz used to make predict allocate 3.7 GB.
    path = tmp_path / "odd.wav"
    scipy.io.wavfile.write(path, rate, np.zeros(16000, np.int16))
    with pytest.raises(AudioFileError, match=problem) as raised:
        read_wav(path, 16000)
    assert str(path) in str(raised.value)


def test_float_samples_policy(tmp_path):
    loud = tmp_path / "loud.wav"
    _float_wav(loud, np.r_[np.zeros(100), 1.5, -2.0, 0.5])
    audio = read_wav(loud, 16000)
    assert audio.clipped == 2 and audio.samples.max() == 1.0 and audio.samples.min() == -1.0
    for value, problem in (
        (15000.0, "reach 1.5e\\+04"),
        (1e30, "reach 1e\\+30"),
        (np.inf, "NaN or infinite"),
    ):
        wild = tmp_path / "wild.wav"
        _float_wav(wild, np.r_[np.zeros(100), value])
        with pytest.raises(AudioFileError, match=problem):
            read_wav(wild, 16000)


def test_long_files_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(wavfile, "MAX_SECONDS", 2.0)
    path = tmp_path / "long.wav"
    scipy.io.wavfile.write(path, 8000, np.zeros(8000 * 3, np.int16))
    with pytest.raises(AudioFileError, match="3 s of audio, longer than the 2 s allowed"):
        read_wav(path, 16000)


def _speaker_tree(root, names=("Alice", "Bob", "Carol"), clips=30, suffix=".wav"):
    rng = np.random.default_rng(0)
    for name in names:
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(clips):
            scipy.io.wavfile.write(
                folder / f"{i}{suffix}",
                16000,
                (rng.normal(0, 3000, CLIP_SAMPLES)).astype(np.int16),
            )
    return root


def test_upper_case_extensions_are_read_and_wild_files_skipped_and_counted(tmp_path):
    root = _speaker_tree(tmp_path / "data", clips=3)
    scipy.io.wavfile.write(root / "Alice" / "10.WAV", 16000, np.zeros(CLIP_SAMPLES, np.int16))
    scipy.io.wavfile.write(root / "Bob" / "11.wav", 48_000_000, np.zeros(100, np.int16))
    _float_wav(root / "Carol" / "12.Wav", np.r_[np.zeros(CLIP_SAMPLES - 1), 1.25])
    with pytest.warns(UserWarning, match=r"skipping .*11\.wav: sample rate 48000000 Hz"):
        dataset = data.load_dataset(root, progress=False)
    counts = dataset.summary.counts
    assert counts["clips"] == 11 and counts["skipped"] == 1 and counts["clipped"] == 1
    assert any(p.name == "10.WAV" for p in dataset.files)
    assert "1 clipped" in dataset.summary.line()


def test_speaker_folder_names_must_be_printable_utf8(tmp_path):
    root = _speaker_tree(tmp_path / "data", clips=3)
    os.rename(root / "Bob", os.path.join(os.fsencode(root), b"B\xf6b"))
    with pytest.raises(data.DatasetError, match=r"B\\udcf6b|B\\xf6b|not printable UTF-8"):
        data.discover_labels(root)
    run = tmp_path / "run"
    assert train.main(["--data-dir", str(root), "--out", str(run), "--epochs", "1"]) == 2
    assert not (run / "run.json").exists()


def test_split_errors_name_the_speaker_folder(tmp_path):
    labels = np.array([0] * 40 + [1] * 5)
    with pytest.raises(data.DatasetError, match="speaker 'Bob' has 5 clips"):
        data.split_indices(labels, np.arange(45), label_names=["Alice", "Bob"])


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    """A run folder whose files the tests damage: run.json and best.keras."""
    root = tmp_path_factory.mktemp("run")
    inputs = keras.Input((CLIP_SAMPLES,))
    features = spela.MelSpectrogram(16000, n_fft=512, hop_length=256, n_mels=16, to_db=True)(
        inputs
    )
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(features))
    model = keras.Model(inputs, outputs)
    model.save(root / "good.keras")
    other = keras.Sequential([keras.Input((10,)), keras.layers.Dense(2)])
    other.save(root / "other.keras")
    return root, model


def _run_dir(tmp_path, fake_run, run_json, best):
    root, _ = fake_run
    run = tmp_path / "run"
    run.mkdir()
    if run_json is not None:
        (run / "run.json").write_text(run_json)
    if isinstance(best, bytes):
        (run / "best.keras").write_bytes(best)
    elif best is not None:
        (run / "best.keras").write_bytes((root / best).read_bytes())
    return run


GOOD_RUN = json.dumps(
    {
        "data_dir": "/nonexistent",
        "arch": "small_cnn",
        "seed": 0,
        "labels": ["A", "B", "C"],
        "split": {"train": [], "validation": [], "test": []},
    }
)


@pytest.mark.parametrize(
    ("run_json", "best", "problem"),
    [
        ("{not json", "good.keras", r"run\.json is not valid JSON"),
        ("[1, 2]", "good.keras", r"run\.json must hold a JSON object"),
        ('{"data_dir": "x"}', "good.keras", r"run\.json lacks 'arch'"),
        (None, "good.keras", r"run\.json not found"),
        (GOOD_RUN, b"", r"best\.keras' is not a \.keras model"),
        (GOOD_RUN, b"PK\x03\x04garbage", r"best\.keras' is not a \.keras model"),
        (GOOD_RUN, None, r"best\.keras' does not exist"),
        (GOOD_RUN, "other.keras", r"best\.keras takes \(None, 10\)"),
    ],
)
def test_convert_names_damaged_run_files(tmp_path, fake_run, capsys, run_json, best, problem):
    run = _run_dir(tmp_path, fake_run, run_json, best)
    assert convert.main([str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert re.search(problem, err), err
    assert not (run / "export").exists()


def test_predict_names_models_of_other_shapes(tmp_path, fake_run, capsys):
    _, model = fake_run
    export = tmp_path / "export"
    export.mkdir()
    (export / "labels.txt").write_text("A\nB\n")  # two names, but the model gives three
    (export / "model.tflite").write_bytes(to_tflite(model))
    clip = tmp_path / "clip.wav"
    scipy.io.wavfile.write(clip, 16000, np.zeros(CLIP_SAMPLES, np.int16))
    assert predict.main([str(export / "model.tflite"), str(clip)]) == 2
    assert "takes [[1, 16000]] and gives [[1, 2]]" in capsys.readouterr().err
    (export / "model.tflite").write_bytes(b"not a model at all")
    assert predict.main([str(export / "model.tflite"), str(clip)]) == 2
    assert "not a TFLite flatbuffer" in capsys.readouterr().err


@pytest.mark.parametrize(
    "facts, problem",
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"no_one_output": "yes"}', "'no_one_output' must be true or false, got 'yes'"),
        ('{"no_one_output": null}', "'no_one_output' must be true or false, got None"),
    ],
)
def test_predict_names_a_damaged_model_json(tmp_path, fake_run, capsys, facts, problem):
    _, model = fake_run
    export = tmp_path / "export"
    export.mkdir()
    (export / "labels.txt").write_text("A\nB\nC\n")
    (export / "model.tflite").write_bytes(to_tflite(model))
    (export / "model.json").write_text(facts)
    clip = tmp_path / "clip.wav"
    scipy.io.wavfile.write(clip, 16000, np.zeros(CLIP_SAMPLES, np.int16))
    assert predict.main([str(export / "model.tflite"), str(clip)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: model facts file {export / 'model.json'}")
    assert problem in captured.err and captured.err.count("\n") == 1, captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    "entry, problem",
    [
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe", "is not valid JSON"),
        (b"[1, 2]", "must hold a JSON object, got list"),
        (b'{"labels": "A B C"}', "'labels' must be a list of names, got 'A B C'"),
        (b'{"labels": []}', "'labels' must be a list of names, got []"),
        (b'{"labels": ["A", 3, "C"]}', "'labels' must be a list of names"),
        (b'{"labels": ["A", "B", "C"], "no_one_output": 1}', "must be true or false, got 1"),
    ],
)
def test_predict_names_damaged_facts_inside_a_model(tmp_path, fake_run, capsys, entry, problem):
    _, model = fake_run
    model_path = tmp_path / "model.tflite"
    model_path.write_bytes(with_metadata(to_tflite(model), {"model.json": entry}))
    clip = tmp_path / "clip.wav"
    scipy.io.wavfile.write(clip, 16000, np.zeros(CLIP_SAMPLES, np.int16))
    assert predict.main([str(model_path), str(clip)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: model file {model_path}: its model.json metadata")
    assert problem in captured.err and captured.err.count("\n") == 1, captured.err
    assert captured.out == ""


def test_predict_takes_facts_inside_a_model_that_name_no_labels(tmp_path, fake_run, capsys):
    _, model = fake_run
    model_path = tmp_path / "model.tflite"
    inside = {"model.json": b'{"no_one_output": false}'}
    model_path.write_bytes(with_metadata(to_tflite(model), inside))
    (tmp_path / "labels.txt").write_text("A\nB\nC\n")
    clip = tmp_path / "clip.wav"
    scipy.io.wavfile.write(clip, 16000, np.zeros(CLIP_SAMPLES, np.int16))
    assert predict.main([str(model_path), str(clip)]) == 0
    (line,) = capsys.readouterr().out.splitlines()  # no notice: the model says it has no no-one
    assert line.startswith(f"{clip}: ")
    assert re.search(r"\[A [01]\.\d{3}, B [01]\.\d{3}, C [01]\.\d{3}\]$", line), line


@pytest.mark.parametrize("target", ["under_a_file", "unwritable"])
def test_synthetic_output_paths(tmp_path, capsys, target):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "data" if target == "under_a_file" else Path("/proc/spela-data")
    assert synthetic.main([str(out), "--clips-per-speaker", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create folder") and err.count("\n") == 1, err


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_artifacts_honour_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        assert new_file_permissions() == 0o666 & ~umask
        write_bytes_atomically(tmp_path / "a.bin", b"1")
        wavfile.write_wav(tmp_path / "a.wav", np.zeros(10), 16000)
    finally:
        os.umask(previous)
    for name in ("a.bin", "a.wav"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_an_interrupted_command_leaves_no_temporary_file(tmp_path, signal_name):
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from speaker_recognition.commands import command
        from speaker_recognition.files import atomic_path

        # Ctrl-C as in a terminal, even where this test's runner was started with SIGINT
        # ignored (a background job of a non-interactive shell), which the child inherits.
        signal.signal(signal.SIGINT, signal.default_int_handler)

        @command
        def main(argv=None):
            with atomic_path(Path(sys.argv[1]) / "best.keras") as temporary:
                temporary.write_bytes(b"half a model")
                os.kill(os.getpid(), signal.{signal_name})
                temporary.write_bytes(b"the whole model")
            return 0

        sys.exit(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "error: interrupted; no partial files were left"
    assert list(tmp_path.iterdir()) == []
