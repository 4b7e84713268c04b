"""Train, convert and predict end to end on a tiny synthetic dataset, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import scipy.io.wavfile

from speaker_recognition import convert, demo, predict, synthetic, train
from speaker_recognition.wavfile import write_wav
from spela.export import load_keras_model, to_tflite
from spela_tflite import read_model

LOADED_MODULES = "print('loaded:', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"


def _python(code, *args, cwd=None):
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.mark.parametrize("name", ["train", "convert", "predict", "demo", "synthetic"])
def test_help_answers_without_importing_tensorflow(name):
    # Each command imports TensorFlow after parsing its arguments (start_tensorflow),
    # quietly unless --verbose: --help needs none of it and prints none of its logging.
    code = (
        f"import sys\nfrom speaker_recognition.{name} import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as stop:\n    assert stop.code == 0\n"
        + LOADED_MODULES
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage: python -m speaker_recognition." in result.stdout
    assert "loaded: []" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("name", ["convert", "demo"])
def test_a_user_error_shows_one_line_and_no_tensorflow_logging(name, tmp_path):
    arguments = {"convert": [tmp_path / "no_run"], "demo": ["--data-dir", tmp_path / "no_data"]}
    code = f"import sys\nfrom speaker_recognition.{name} import main\nsys.exit(main(sys.argv[1:]))"
    result = _python(code, *arguments[name], "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("speaker")
    data_dir = synthetic.write_dataset(
        root / "16000_pcm_speeches", clips_per_speaker=40, seed=2, progress=False
    )
    run_dir = root / "run"
    assert (
        train.main(
            ["--data-dir", str(data_dir), "--out", str(run_dir), "--epochs", "2", "--seed", "4"]
        )
        == 0
    )
    return data_dir, run_dir


@pytest.mark.slow
def test_training_artifacts(trained_run):
    data_dir, run_dir = trained_run
    for name in (
        "best.keras",
        "history.csv",
        "history.json",
        "curves.png",
        "labels.txt",
        "run.json",
        "report.json",
        "confusion_test.png",
        "snr.png",
        "room.png",
        "confusion_room.png",
        "confusion/epoch_01.png",
        "confusion/epoch_02.png",
    ):
        assert (run_dir / name).is_file(), name
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["val_accuracy"]) == 2
    report = json.loads((run_dir / "report.json").read_text())
    assert 0.0 <= report["test_accuracy"] <= 1.0
    assert set(report["accuracy_by_snr_db"]) == {"clean", "20", "10", "5", "0"}
    assert set(report["accuracy_by_condition"]) == set(train.ROOM_CONDITIONS)
    for accuracies in report["accuracy_by_condition"].values():
        assert set(accuracies) == {"clean", "20", "10", "5", "0"}
    assert report["augment"] == "noise"
    assert set(report["accuracy_in_room"]) == {"reverberation", "channel", "both"}
    assert all(0.0 <= a <= 1.0 for a in report["accuracy_in_room"].values())
    rates = report["confident_label_rate"]
    assert set(rates) == {
        "strangers",
        "noise",
        "enrolled",
        "enrolled_correct",
        "stranger_voices",
        "stranger_windows",
        "noise_recordings",
        "noise_windows",
        "enrolled_windows",
        "shown_no_one",  # the default recipe's model has a no-one output
    }
    assert set(rates["shown_no_one"]) == {"strangers", "noise", "enrolled"}
    assert rates["stranger_voices"] == 20
    # 20 recordings of 12 s give at most 20 x 45 windows of 1 s every 250 ms.
    assert 0 < rates["stranger_windows"] <= 900
    # Noise alone: the held-out fifth of every noise file, then 12 s of white noise
    # (45 windows, all loud); a file's quiet windows are left out, as the app does.
    noise_files = list(data_dir.glob("_background_noise_/*.wav")) + list(
        data_dir.glob("other/*.wav")
    )
    held_out_seconds = [0.2 * len(x) / rate for rate, x in map(scipy.io.wavfile.read, noise_files)]
    most = sum(int((seconds - 1) / 0.25) + 1 for seconds in held_out_seconds)
    assert rates["noise_recordings"] == len(noise_files) + 1
    assert 45 < rates["noise_windows"] <= 45 + most
    named = [rates[kind] for kind in ("strangers", "noise", "enrolled", "enrolled_correct")]
    shown = [rates["shown_no_one"][kind] for kind in ("strangers", "noise", "enrolled")]
    for shares in named + shown:
        values = [shares[t] for t in ("0.6", "0.7", "0.8", "0.9")]
        assert values == sorted(values, reverse=True)  # a higher threshold accepts less
    assert report["pipeline_clips_per_second"] > 0 and report["training_clips_per_second"] > 0
    assert (run_dir / "labels.txt").read_text().split() == sorted(v.name for v in synthetic.VOICES)
    assert not list(run_dir.glob(".*tmp*"))  # no temporary files left


@pytest.mark.slow
def test_report_keeps_who_is_taken_for_whom_in_babble_and_a_room(trained_run):
    _, run_dir = trained_run
    report = json.loads((run_dir / "report.json").read_text())
    run = train.load_run(run_dir)
    names = run["labels"]
    sampled = train.run_split(run, "test").sample(train.REPORT_CLIPS)[1]
    clips_per_speaker = np.bincount(sampled, minlength=len(names))
    accuracies = report["accuracy_by_condition"]["babble + room"]
    assert set(report["confusion_in_room"]) == set(accuracies)
    for level, rows in report["confusion_in_room"].items():
        matrix = np.array(rows)
        # Rows are the true speakers of the report's clips; the diagonal, the ones named right.
        assert matrix.sum(axis=1).tolist() == clips_per_speaker.tolist(), level
        assert np.trace(matrix) / matrix.sum() == pytest.approx(accuracies[level]), level
        errors = matrix.sum() - np.trace(matrix)
        for pair in report["confused_pairs_in_room"][level]:
            a, b = (names.index(name) for name in pair["speakers"])
            assert pair["errors"] == matrix[a, b] + matrix[b, a] > 0
            assert pair["share"] == pytest.approx(pair["errors"] / errors)
    assert (run_dir / "confusion_room.png").stat().st_size > 5_000


@pytest.mark.slow
def test_pair_cues_measures_the_reports_own_babble_and_room_clips(trained_run, capsys):
    from measurement_scripts import load_script

    pair_cues = load_script("pair_cues")
    _, run_dir = trained_run
    report = json.loads((run_dir / "report.json").read_text())
    first, second = train.load_run(run_dir)["labels"][:2]
    assert pair_cues.main([str(run_dir), first, second, "--snr", "5"]) == 0
    printed = capsys.readouterr().out
    # The script rebuilds the degraded clips itself; they are the report's when
    # the model scores on them what report.json says it scored.
    reported = 100 * report["accuracy_by_condition"]["babble + room"]["5"]
    assert f"babble + room at 5 dB: every speaker {reported:.1f} %" in printed, printed
    assert "between the two, pitch alone: " in printed
    for kind, accuracy in report["accuracy_in_room"].items():
        assert f"  {kind}: every speaker {100 * accuracy:.1f} %; between" in printed, printed
    for arguments, message in (
        ([first, "Nobody"], "'Nobody' is not a speaker of"),
        ([first, first], "two different speakers"),
    ):
        assert pair_cues.main([str(run_dir), *arguments]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


@pytest.mark.slow
def test_room_augmented_training_reports_room_conditions(trained_run, tmp_path, capsys):
    data_dir, _ = trained_run
    run_dir = tmp_path / "room"
    arguments = ["--data-dir", str(data_dir), "--out", str(run_dir), "--epochs", "1"]
    assert train.main([*arguments, "--augment", "room"]) == 0
    report = json.loads((run_dir / "report.json").read_text())
    assert report["augment"] == "room"
    conditions = report["accuracy_by_condition"]
    assert list(conditions) == list(train.ROOM_CONDITIONS)
    assert all(0.0 <= a <= 1.0 for levels in conditions.values() for a in levels.values())
    # The room recipe trains without masks and dropout; the noise recipe keeps them.
    regularizers = {"TimeMasking", "FrequencyMasking", "Dropout"}
    room_model = load_keras_model(run_dir / "best.keras")
    noise_model = load_keras_model(trained_run[1] / "best.keras")
    assert not regularizers & {type(layer).__name__ for layer in room_model.layers}
    assert regularizers <= {type(layer).__name__ for layer in noise_model.layers}
    # Both recipes end with a no-one output, fitted after training; best.keras is saved
    # without a loss, which Keras does not have for it.
    for model in (room_model, noise_model):
        assert model.get_layer("speaker").units == model.output.shape[-1] + 1
        assert not model.compiled or model.loss is None
    assert set(report["confident_label_rate"]["shown_no_one"]) == {
        "strangers",
        "noise",
        "enrolled",
    }
    log = capsys.readouterr().out
    assert "no-one output: pooled statistics of" in log
    assert "saved best.keras with a no-one output" in log
    history = json.loads((run_dir / "history.json").read_text())
    assert 0.0 <= history["accuracy"][0] <= 1.0
    assert (run_dir / "room.png").stat().st_size > 10_000


def test_the_no_one_column_is_fitted_on_two_passes_within_bounds():
    assert train.no_one_clips(12_000, 1_280) == 24_000  # make demo's split, small_cnn
    assert train.no_one_clips(7_000, 1_280) == 14_000
    assert train.no_one_clips(160, 1_280) == train.NO_ONE_MIN_CLIPS
    assert train.no_one_clips(100_000, 1_280) == train.NO_ONE_CLIPS
    # The seed architecture's Flatten: 1,000 clips of 243,840 float32 values are 975 MB,
    # so its column is fitted on clips as they are drawn.
    assert train.NO_ONE_MIN_CLIPS * 243_840 * 4 > train.NO_ONE_BYTES
    assert train.no_one_clips(1_000, 243_840) == 0


@pytest.mark.slow
def test_a_model_too_wide_to_hold_its_statistics_gets_a_no_one_column_fitted_on_clips(
    trained_run, tmp_path, capsys, monkeypatch
):
    data_dir, _ = trained_run
    run_dir = tmp_path / "seed_arch"
    # The seed architecture's column is fitted on 20 batches an epoch here instead of 400.
    monkeypatch.setitem(train.NO_ONE_COLUMN, "steps_per_epoch", 20)
    arguments = ["--data-dir", str(data_dir), "--out", str(run_dir), "--epochs", "1"]
    assert train.main([*arguments, "--arch", "seed"]) == 0
    log = capsys.readouterr().out
    assert (
        "no-one output: fitted on 6,400 augmented training clips as they are drawn, 5% of "
        "them noise alone (the last layer takes 243,840 values per clip" in log
    )
    assert "saved best.keras with a no-one output" in log
    model = load_keras_model(run_dir / "best.keras")
    assert model.get_layer("speaker").units == model.output.shape[-1] + 1
    report = json.loads((run_dir / "report.json").read_text())
    shown_no_one = report["confident_label_rate"]["shown_no_one"]
    # At Adam's uncapped 1e-3 the column took every window of every kind.
    assert shown_no_one["enrolled"]["0.6"] < 0.5


@pytest.mark.slow
def test_convert_and_predict(trained_run, tmp_path, capsys):
    data_dir, run_dir = trained_run
    export = tmp_path / "export"
    assert convert.main([str(run_dir), "--out", str(export)]) == 0
    figures = json.loads((export / "export_report.json").read_text())
    assert figures["model.tflite"]["agreement_with_keras"] >= 0.97
    assert figures["model_int8.tflite"]["agreement_with_keras"] >= 0.8
    assert figures["model_int8.tflite"]["bytes"] < 300 * 1024
    # The exports are measured in the room conditions on the clips the training report
    # degraded: float TFLite may flip at most one near-tie clip against Keras, int8 as
    # many as its clean agreement allows (>= 80 %).
    report = json.loads((run_dir / "report.json").read_text())
    keras_conditions = report["accuracy_by_condition"]
    one_clip = 1 / report["report_clips"]
    for name in ("model.tflite", "model_int8.tflite"):
        conditions = figures[name]["accuracy_by_condition"]
        assert conditions.keys() == keras_conditions.keys()
        tolerance = one_clip + 1e-9 if name == "model.tflite" else 0.2 + 1e-9
        for condition, levels in keras_conditions.items():
            assert conditions[condition].keys() == levels.keys()
            for level, accuracy in levels.items():
                assert abs(conditions[condition][level] - accuracy) <= tolerance, (name, condition)
    # The app's rule on the same recordings as the training report: the same windows,
    # and the float export names within a near-tie window of Keras.
    keras_rates = report["confident_label_rate"]
    for name in ("model.tflite", "model_int8.tflite"):
        rates = figures[name]["confident_label_rate"]
        for count in ("stranger_voices", "stranger_windows", "noise_recordings", "noise_windows"):
            assert rates[count] == keras_rates[count], (name, count)
        assert rates["enrolled_windows"] == keras_rates["enrolled_windows"]
        if name == "model.tflite":
            for kind, windows in (
                ("strangers", "stranger_windows"),
                ("noise", "noise_windows"),
                ("enrolled_correct", "enrolled_windows"),
            ):
                for threshold, share in keras_rates[kind].items():
                    assert abs(rates[kind][threshold] - share) <= 1 / keras_rates[windows] + 1e-9
            for kind, windows in (
                ("strangers", "stranger_windows"),
                ("noise", "noise_windows"),
                ("enrolled", "enrolled_windows"),
            ):
                for threshold, share in keras_rates["shown_no_one"][kind].items():
                    shown = rates["shown_no_one"][kind][threshold]
                    assert abs(shown - share) <= 1 / keras_rates[windows] + 1e-9
    facts = json.loads((export / "model.json").read_text())
    assert facts["no_one_output"] is True  # the default recipe trains noise alone to no one
    assert facts["sample_rate"] == 16000 and facts["clip_samples"] == 16000
    assert facts["pcm16_scale"] == 32768.0
    assert facts["labels"] == (export / "labels.txt").read_text().split()
    for name, size in facts["files"].items():
        model_bytes = (export / name).read_bytes()
        assert len(model_bytes) == size
        inside = json.loads(read_model(model_bytes).metadata()["model.json"])
        assert inside == {key: value for key, value in facts.items() if key != "files"}
    capsys.readouterr()

    clip = data_dir / "Boris" / "35.wav"
    _, pcm = scipy.io.wavfile.read(clip)
    long_8k = np.tile(pcm, 3).astype(np.float32) / 32768.0
    long_8k = long_8k[::2]  # 3 s at 8 kHz
    write_wav(tmp_path / "long_8k.wav", long_8k, 8000)
    (tmp_path / "broken.wav").write_bytes(b"RIFFnot really")
    status = predict.main(
        [
            str(export / "model.tflite"),
            str(clip),
            str(tmp_path / "long_8k.wav"),
            str(tmp_path / "broken.wav"),
        ]
    )
    out = capsys.readouterr()
    assert status == 1  # one file failed, the others were classified
    assert "broken.wav" in out.err
    assert "8000 Hz; resampled" in out.out
    lines = [line for line in out.out.splitlines() if ".wav:" in line]
    assert len(lines) == 2
    assert all(any(v.name in line.split(":")[1] for v in synthetic.VOICES) for line in lines)
    assert all(", no one speaking 0." in line for line in lines)

    # The int8 model copied alone reads its names and its no-one output from inside.
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "model_int8.tflite").write_bytes((export / "model_int8.tflite").read_bytes())
    with_files = predict.main([str(export / "model_int8.tflite"), str(clip)])
    expected = capsys.readouterr().out
    assert predict.main([str(alone / "model_int8.tflite"), str(clip)]) == with_files == 0
    assert capsys.readouterr().out == expected
    assert ", no one speaking 0." in expected


def _fixed_model(shares):
    """A Keras model of 1-s clips whose softmax gives ``shares`` whatever it hears."""
    inputs = keras.Input((16000,))
    softmax = keras.layers.Dense(
        len(shares),
        activation="softmax",
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(np.log(shares)),
        name="speaker",
    )(inputs)
    return inputs, softmax


@pytest.mark.parametrize(
    "beside, inside, notes",
    [
        ("no_one", None, []),
        ("speakers_only", None, []),
        (None, None, ["no_model_json"]),
        (None, "no_one", []),  # the model's own facts stand in for both files
        (None, "speakers_only", []),
        ("speakers_only", "no_one", ["no_one_differs"]),  # the file beside counts
    ],
)
def test_predict_names_no_one_where_a_no_one_model_leaves_most_to_no_one(
    tmp_path, capsys, beside, inside, notes
):
    inputs, softmax = _fixed_model([0.15, 0.05, 0.8])
    model = keras.Model(inputs, softmax[:, :2])  # speakers A and B; no one gets 0.8
    export = tmp_path / "export"
    export.mkdir()
    model_bytes = to_tflite(model)
    if inside is not None:
        facts = convert.model_facts(["A", "B"], "small_cnn", no_one_output=inside == "no_one")
        model_bytes = convert.with_facts_inside(model_bytes, facts)
    (export / "model.tflite").write_bytes(model_bytes)
    if inside is None:
        (export / "labels.txt").write_text("A\nB\n")
    if beside is not None:
        written = convert.model_facts(["A", "B"], "small_cnn", {}, beside == "no_one")
        (export / "model.json").write_text(json.dumps(written))
    clip = tmp_path / "clip.wav"
    write_wav(clip, np.zeros(16000), 16000)
    assert predict.main([str(export / "model.tflite"), str(clip)]) == 0
    *printed, line = capsys.readouterr().out.splitlines()
    model_path, facts_path = export / "model.tflite", export / "model.json"
    expected = {
        # Without model.json the model is read as speakers only, and a notice says so.
        "no_model_json": f"note: no model.json beside {model_path}: read as a model without "
        "a no-one output (convert writes model.json beside the models it exports)",
        "no_one_differs": f"note: {facts_path} says no_one_output is false, but {model_path} "
        "was exported with true; model.json counts",
    }
    assert printed == [expected[note] for note in notes]
    if (beside or inside) == "no_one":
        assert line.endswith(
            "no one speaking (80.0%, 1.0 s) [A 0.150, B 0.050, no one speaking 0.800]"
        )
    else:
        assert line.endswith("A (15.0%, 1.0 s) [A 0.150, B 0.050]")


def test_predict_shows_the_names_of_labels_txt_and_says_where_the_model_differs(tmp_path, capsys):
    inputs, softmax = _fixed_model([0.15, 0.85])
    model_bytes = to_tflite(keras.Model(inputs, softmax))
    facts = convert.model_facts(["Anna", "Boris"], "small_cnn", no_one_output=False)
    (tmp_path / "model.tflite").write_bytes(convert.with_facts_inside(model_bytes, facts))
    (tmp_path / "labels.txt").write_text("Chen\nDara\n")
    clip = tmp_path / "clip.wav"
    write_wav(clip, np.zeros(16000), 16000)
    assert predict.main([str(tmp_path / "model.tflite"), str(clip)]) == 0
    note, line = capsys.readouterr().out.splitlines()
    assert note == (
        f"note: {tmp_path / 'labels.txt'} names ['Chen', 'Dara'], but "
        f"{tmp_path / 'model.tflite'} was exported with ['Anna', 'Boris']; "
        "the names of labels.txt are shown"
    )
    assert line.endswith("Dara (85.0%, 1.0 s) [Chen 0.150, Dara 0.850]")


@pytest.mark.slow
def test_training_repeats_with_the_same_seed(trained_run, tmp_path):
    data_dir, run_dir = trained_run
    assert (
        train.main(
            [
                "--data-dir",
                str(data_dir),
                "--out",
                str(tmp_path / "again"),
                "--epochs",
                "2",
                "--seed",
                "4",
            ]
        )
        == 0
    )
    first = json.loads((run_dir / "history.json").read_text())
    second = json.loads((tmp_path / "again" / "history.json").read_text())
    assert first == second


@pytest.mark.slow
def test_demo_trains_with_the_room_recipe_and_reports_every_model(tmp_path, capsys):
    out = tmp_path / "demo"
    assert demo.main(["--out", str(out), "--epochs", "1", "--clips-per-speaker", "40"]) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["augment"] == "room"
    assert len(list((out / "data" / "16000_pcm_speeches" / "Anna").glob("*.wav"))) == 40
    figures = json.loads((out / "export" / "export_report.json").read_text())
    line = next(line for line in printed.splitlines() if "babble + room at 10 / 5 dB" in line)
    keras_room = report["accuracy_by_condition"]["babble + room"]
    int8_room = figures["model_int8.tflite"]["accuracy_by_condition"]["babble + room"]
    assert f"Keras {keras_room['10']:.1%} / {keras_room['5']:.1%}" in line
    assert f"model_int8.tflite {int8_room['10']:.1%} / {int8_room['5']:.1%}" in line
    rates = report["confident_label_rate"]
    assert (
        f"{rates['stranger_voices']} strangers named at 0.6 in {rates['strangers']['0.6']:.1%}"
        f" of their windows, noise alone in {rates['noise']['0.6']:.1%} of its" in printed
    )
    assert f"enrolled speakers named right in {rates['enrolled_correct']['0.6']:.1%}" in printed
    int8_rates = figures["model_int8.tflite"]["confident_label_rate"]
    line = next(line for line in printed.splitlines() if "which the Android demo runs" in line)
    assert f"noise alone in {int8_rates['noise']['0.6']:.1%} of its" in line
    assert f"named at 0.6 in {int8_rates['strangers']['0.6']:.1%} of their windows" in line


def test_demo_refuses_bad_sizes(tmp_path, capsys):
    assert demo.main(["--out", str(tmp_path / "a"), "--clips-per-speaker", "0"]) == 2
    assert "clips_per_speaker must be >= 1" in capsys.readouterr().err
    assert demo.main(["--out", str(tmp_path / "b"), "--epochs", "0"]) == 2
    assert "epochs" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_cli_errors(tmp_path, capsys):
    assert (
        train.main(["--data-dir", str(tmp_path / "missing"), "--out", str(tmp_path / "run")]) == 2
    )
    assert "does not exist" in capsys.readouterr().err
    assert convert.main([str(tmp_path)]) == 2
    assert "run.json" in capsys.readouterr().err


def test_int8_calibration_puts_half_the_clips_under_noise_at_0_to_20_db():
    rng = np.random.default_rng(4)
    clips = rng.normal(0.0, 0.1, (6, 16000)).astype(np.float32)
    bank = rng.normal(0.0, 0.05, (3, 16000)).astype(np.float32)
    calibration = convert.calibration_clips(clips, bank, seed=1)
    assert calibration.shape == clips.shape and calibration.dtype == np.float32
    np.testing.assert_array_equal(calibration[:3], clips[:3])
    for clip, mixed in zip(clips[3:], calibration[3:], strict=True):
        added = (mixed - clip).astype(np.float64)
        weights = np.linalg.lstsq(bank.T.astype(np.float64), added, rcond=None)[0]
        assert np.count_nonzero(np.abs(weights) > 1e-3) == 1  # one noise window, scaled
        snr = 10 * np.log10(np.mean(clip.astype(np.float64) ** 2) / np.mean(added**2))
        assert 0.0 <= snr <= 20.0
    empty = np.zeros((0, 16000), np.float32)
    np.testing.assert_array_equal(convert.calibration_clips(clips, empty, seed=1), clips)
