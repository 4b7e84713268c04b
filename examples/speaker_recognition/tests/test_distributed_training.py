"""Training from streamed files, on two replicas and on two workers, against a single-device run.

Each run is a separate process (``distributed_run.py``): logical CPU devices
must be set before TensorFlow starts, and each worker of a multi-worker run is
its own process, the two talking over 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io.wavfile

from speaker_recognition import distribute, synthetic, train

RUNNER = Path(__file__).with_name("distributed_run.py")
TIMEOUT_S = 420
WORKER_OPTIONS = ("--stream", "--distribute", "multi-worker")


def _run(weights, train_arguments, logical_cpus=1, tf_config=None):
    environment = dict(os.environ)
    environment.pop("TF_CONFIG", None)
    if tf_config is not None:
        environment["TF_CONFIG"] = json.dumps(tf_config)
    command = [sys.executable, str(RUNNER), str(weights), "--logical-cpus", str(logical_cpus)]
    return subprocess.Popen(
        [*command, "--", *map(str, train_arguments)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(*processes):
    outputs = []
    try:
        for process in processes:
            output, _ = process.communicate(timeout=TIMEOUT_S)
            outputs.append(output)
    finally:
        for process in processes:
            process.kill()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-4000:]
    return outputs


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


def _replica_copies(path):
    with np.load(path) as weights:
        return {name: weights[name] for name in weights.files}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A single-device run, a two-replica mirrored run and a two-worker streamed run."""
    root = tmp_path_factory.mktemp("distributed")
    data_dir = synthetic.write_dataset(
        root / "16000_pcm_speeches", clips_per_speaker=40, seed=2, progress=False
    )
    # Files the reader must repair or skip, so that the read counts are worth comparing.
    rate = 44100
    stereo = np.stack([np.sin(np.arange(rate) * 0.05)] * 2, axis=1) * 8000
    scipy.io.wavfile.write(data_dir / "Anna" / "900.wav", rate, stereo.astype(np.int16))
    (data_dir / "Boris" / "901.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    short = (np.sin(np.arange(8000) * 0.03) * 8000).astype(np.int16)
    scipy.io.wavfile.write(data_dir / "Chen" / "902.wav", 16000, short)

    # Every run has the room recipe's model; the streamed workers draw babble from a
    # sample of the training files.
    common = ["--data-dir", data_dir, "--epochs", "1", "--batch-size", "32", "--augment", "room"]
    single = _run(root / "single.npz", [*common, "--out", root / "single"])
    _finish(single)
    mirrored = _run(
        root / "mirrored.npz",
        [*common, "--out", root / "mirrored", "--distribute", "mirrored"],
        logical_cpus=2,
    )
    _finish(mirrored)
    workers = [
        _run(
            root / f"worker{index}.npz",
            [*common, "--out", root / f"worker{index}", *WORKER_OPTIONS],
            tf_config=tf_config,
        )
        for index, tf_config in enumerate(distribute.local_cluster(2))
    ]
    _finish(*workers)
    return root


def _report(folder):
    return json.loads((Path(folder) / "report.json").read_text())


@pytest.mark.slow
def test_mirrored_replicas_end_identical_with_the_single_device_artifacts(runs):
    copies = _replica_copies(runs / "mirrored.npz")
    kernels = [name for name in copies if name.endswith("kernel")]
    assert kernels and all(copies[name].shape[0] == 2 for name in copies)
    for name, values in copies.items():
        np.testing.assert_array_equal(values[0], values[1], err_msg=name)
    # Batch statistics are synchronized: each replica keeps the same moving averages.
    assert any("moving_mean" in name for name in copies)
    assert _files(runs / "mirrored") == _files(runs / "single")
    report = _report(runs / "mirrored")
    assert report["replicas"] == 2 and report["workers"] == 1
    assert report["read_summary"] == _report(runs / "single")["read_summary"]


@pytest.mark.slow
def test_two_workers_end_identical_and_only_the_chief_writes(runs):
    chief = _replica_copies(runs / "worker0.npz")
    other = _replica_copies(runs / "worker1.npz")
    single = _replica_copies(runs / "single.npz")
    assert list(chief) == list(other) == list(single)
    for name in chief:
        np.testing.assert_array_equal(chief[name], other[name], err_msg=name)
    assert _files(runs / "worker0") == _files(runs / "single")
    assert not (runs / "worker1").exists()
    report = _report(runs / "worker0")
    assert report["replicas"] == 2 and report["workers"] == 2 and report["stream"]
    assert report["augment"] == "room"
    # Each worker streamed its own half of the training files; the counts add up exactly.
    summary = _report(runs / "single")["read_summary"]
    assert report["read_summary"] == summary
    # 6 noise recordings and the 44.1 kHz stereo clip resampled, the short clip padded.
    assert "7 resampled, 1 downmixed" in summary and "1 padded" in summary
    assert "skipped 1 unreadable" in summary
    history = json.loads((runs / "worker0" / "history.json").read_text())
    assert np.isfinite(history["loss"][0]) and len(history["val_accuracy"]) == 1


TRAINABLE_FRONT_END = """
import numpy as np, tensorflow as tf, keras, spela
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    audio = keras.Input((4000,))
    x = spela.Spectrogram(256, hop_length=128, backend="matmul", trainable=True)(audio)
    x = spela.PCEN(16000, 128, trainable=True)(x)
    probabilities = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(audio, probabilities)
    model.compile("adam", "sparse_categorical_crossentropy")
before = [np.array(v.value.values[0]) for v in model.trainable_variables]
rng = np.random.default_rng(0)
clips = rng.standard_normal((64, 4000)).astype("float32")
labels = rng.integers(3, size=64)
model.fit(clips, labels, batch_size=16, epochs=1, verbose=0)
for variable, old in zip(model.trainable_variables, before):
    copies = [np.array(c) for c in variable.value.values]
    assert len(copies) == 2, variable.path
    assert np.array_equal(copies[0], copies[1]), variable.path
    assert not np.array_equal(copies[0], old), variable.path
print("trainable front end mirrored:", [v.path for v in model.trainable_variables])
"""


@pytest.mark.slow
def test_trainable_front_end_weights_stay_identical_on_two_replicas():
    # Trainable DFT kernels and PCEN parameters, created in the strategy's scope,
    # are updated on both replicas by the same all-reduced gradients.
    result = subprocess.run(
        [sys.executable, "-c", TRAINABLE_FRONT_END],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "dft_kernel" in result.stdout and "pcen" in result.stdout


@pytest.mark.parametrize("no_one", [False, True])
def test_multi_worker_loop_counts_accuracy_over_speakers_and_loss_over_every_row(no_one):
    # fit_multi_worker's own step, on one replica, with a learning rate of 0 so that
    # the predictions stay those of the model before the epoch.
    import keras
    import tensorflow as tf

    from speaker_recognition.model import SpeakerOrNoOneCrossentropy

    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    features = rng.standard_normal((24, 6)).astype(np.float32)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        inputs = keras.Input((6,))
        every = keras.layers.Dense(5 if no_one else 4, activation="softmax")(inputs)
        model = keras.Model(inputs, every[:, :4] if no_one else every)
        loss = SpeakerOrNoOneCrossentropy() if no_one else keras.losses.CategoricalCrossentropy()
        model.compile(keras.optimizers.SGD(0.0), loss)
    probabilities = model.predict(features, verbose=0)
    predicted = probabilities.argmax(axis=1)
    strangers = np.isin(np.arange(24), [1, 5, 6, 13, 20])
    no_one_rows = np.isin(np.arange(24), [2, 9, 17] if no_one else [])
    labels = np.where(np.arange(24) % 2 == 0, predicted, (predicted + 1) % 4)
    targets = np.where(strangers[:, None], 0.25, np.eye(4)[labels]).astype(np.float32)
    targets[no_one_rows] = 0.0
    dataset = tf.data.Dataset.from_tensor_slices((features, targets)).batch(8).repeat()
    logs = {}

    class KeepLogs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, epoch_logs=None):
            logs.update(epoch_logs)

    distributed = strategy.experimental_distribute_dataset(dataset)
    distribute.fit_multi_worker(model, strategy, distributed, 8, 3, 1, [KeepLogs()], 0)
    speakers = ~strangers & ~no_one_rows
    assert logs["accuracy"] == pytest.approx(np.mean(predicted[speakers] == labels[speakers]))
    if no_one:  # what each row leaves of 1 is no one's
        targets = np.concatenate([targets, 1 - targets.sum(axis=1, keepdims=True)], axis=1)
        probabilities = np.concatenate(
            [probabilities, 1 - probabilities.sum(axis=1, keepdims=True)], axis=1
        )
    cross_entropy = -np.sum(targets * np.log(probabilities), axis=1)
    assert logs["loss"] == pytest.approx(np.mean(cross_entropy), rel=1e-5)


def test_streamed_training_equals_training_from_memory(tmp_path):
    data_dir = synthetic.write_dataset(
        tmp_path / "16000_pcm_speeches", clips_per_speaker=30, seed=5, progress=False
    )
    common = ["--data-dir", str(data_dir), "--epochs", "1", "--seed", "1"]
    assert train.main([*common, "--out", str(tmp_path / "memory")]) == 0
    assert train.main([*common, "--out", str(tmp_path / "stream"), "--stream"]) == 0
    # The file list is shuffled with the seed the clips were: the same batches, the same model.
    memory = json.loads((tmp_path / "memory" / "history.json").read_text())
    streamed = json.loads((tmp_path / "stream" / "history.json").read_text())
    assert memory == streamed
    assert (
        _report(tmp_path / "memory")["read_summary"]
        == _report(tmp_path / "stream")["read_summary"]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "needs TF_CONFIG"),
        ("{not json", "TF_CONFIG is not valid JSON"),
        ('{"cluster": {}}', "'cluster' and 'task'"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}', "not in"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "not in"),
    ],
)
def test_bad_tf_config_is_refused_by_name(text, message):
    with pytest.raises(ValueError, match=message):
        distribute.check_tf_config(text)


def test_multi_worker_command_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    out = str(tmp_path / "run")
    assert train.main(["--out", out, "--distribute", "multi-worker"]) == 2
    assert "needs --data-dir" in capsys.readouterr().err
    arguments = ["--data-dir", str(tmp_path), "--out", out, "--distribute", "multi-worker"]
    assert train.main(arguments) == 2
    assert "needs TF_CONFIG" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
