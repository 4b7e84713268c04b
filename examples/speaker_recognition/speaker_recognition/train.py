"""Train a speaker classifier on raw 1-s clips.

Usage::

    python -m speaker_recognition.train --data-dir 16000_pcm_speeches --out runs/my_run

Without ``--data-dir`` a synthetic dataset is generated under the run folder.
Each epoch prints a progress bar, then validation accuracy and a confusion
matrix (also saved as PNG). The best model by validation accuracy is kept as
``best.keras``, and after the last epoch gets an output for no one speaking
(``add_no_one_column``); ``history.csv``/``history.json`` and ``curves.png``
follow the training, and ``report.json`` ends it with test accuracy, per-speaker
precision/recall and accuracy against noise.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from speaker_recognition import CLIP_SAMPLES, data, reporting, room, strangers
from speaker_recognition import distribute as distribution
from speaker_recognition.commands import add_verbose_option, command, start_tensorflow
from speaker_recognition.files import (
    atomic_path,
    make_folder,
    read_json_object,
    write_json_atomically,
    write_text_atomically,
)

SNR_LEVELS_DB = (20.0, 10.0, 5.0, 0.0)
AUGMENTATIONS = ("room", "noise")
ROOM_CONDITIONS = ("white noise", "noise files", "babble", "babble + room")
# Impulse responses and channels of training and of the test conditions come from
# different seeds, so the test rooms are rooms the model never heard.
TRAIN_ROOMS, TEST_ROOMS = 64, 32
# Memory bounds that do not grow with the dataset: babble is drawn from this many
# training clips, and the room conditions and strangers use this many test clips.
BABBLE_POOL_CLIPS = 2000
REPORT_CLIPS = 2000
# The SNR of babble + room whose confusion matrix the report plots (confusion_room.png).
CONFUSION_PLOT_DB = "5"
# The room on 4 clips in 5 (not 1 in 2) raised babble + room at 10 / 5 dB on each
# of three independent draws of voices, and cost babble without a room and white noise.
# Scaled voices as strangers on 15 % of the clips cut the strangers named at the app's
# threshold from 55.8 % to 37.8 % of their windows (by 15 points on average over eighteen
# paired runs) and moved babble + room at 5 dB by -4.0 to +1.8 points (mean -0.4); scaled
# by 1.08-1.25 instead, they cost voice-seed 283 4.2 points at 5 dB.
ROOM_AUGMENTATION = {
    "room_probability": 0.8,
    "babble_probability": 0.7,
    "babble_snr_db": (-5.0, 15.0),
    "stranger_probability": 0.15,
    "stranger_scale": (1.04, 1.15),
}
# Both recipes get a no-one output after training: a no-one column fitted on the trained
# model's pooled statistics of augmented training clips, 5 % of them noise alone, with
# every other weight frozen (model.fit_no_one_column), so every accuracy stays the trained
# model's. On make demo's models (seeds 0 and 1) the app then showed "No one speaking"
# over 97.6 % and 96.1 % of the windows of noise alone; on the noise recipe's models
# (1,500 clips per speaker, seeds 0-3) over 96.5 % on average, naming a speaker over
# 1.6 % of them, against 71.4-100 % without the output. Noise alone trained toward the
# output with the rest of the model instead cost the room recipe 0.5 / 1.6 points in
# babble + room at 10 / 5 dB (2 % of the clips: 0.9-1.3 at 5 dB) and the noise recipe
# 0.6-2.1 points in white noise at 5 dB (seeds 0-3), for 97.6 % "No one speaking" and
# 0.8 % named. The statistics are of two passes over the training split, but of no fewer
# than NO_ONE_MIN_CLIPS clips (some 50 of noise alone) and no more than NO_ONE_CLIPS
# (float32 of small_cnn's 1,280 values each: 123 MB), held in memory. Where the last layer
# takes so many values that NO_ONE_MIN_CLIPS of them pass NO_ONE_BYTES (the seed
# architecture's 243,840), the column is fitted on clips as they are drawn instead
# (model.fit_no_one_column_on_clips): epochs * steps_per_epoch new batches of 64, nothing
# held.
NO_ONE_COLUMN = {"noise_alone_probability": 0.05, "passes": 2, "epochs": 5, "steps_per_epoch": 400}
NO_ONE_MIN_CLIPS, NO_ONE_CLIPS = 1_000, 24_000
NO_ONE_BYTES = 256 * 2**20


RUN_KEYS = {"data_dir": str, "arch": str, "seed": int, "labels": list, "split": dict}


def load_run(run_dir: str | Path) -> dict:
    """The ``run.json`` of a training run (data folder, split, labels, settings).

    Raises
    ------
    ValueError
        Naming the file, if it is missing, not JSON, or lacks a setting.
    """
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise ValueError(f"{path} not found: is {run_dir} a training run folder?")
    run = read_json_object(path)
    for key, kind in RUN_KEYS.items():
        if not isinstance(run.get(key), kind):
            raise ValueError(
                f"{path} lacks {key!r} (a JSON {kind.__name__}); was it written by train?"
            )
    if not all(isinstance(run["split"].get(part), list) for part in data.SPLITS):
        raise ValueError(f"{path}: 'split' must list the files of {', '.join(data.SPLITS)}")
    return run


def load_run_model(run_dir: Path, label_count: int):
    """``run_dir/best.keras``, checked to take 1-s clips and name ``label_count`` speakers.

    Raises
    ------
    ValueError
        Naming the file, if it is not a loadable model of that shape.
    """
    from spela.export import load_keras_model

    path = Path(run_dir) / "best.keras"
    model = load_keras_model(path)
    inputs, outputs = tuple(model.inputs[0].shape), tuple(model.outputs[0].shape)
    if len(model.inputs) != 1 or inputs[1:] != (CLIP_SAMPLES,) or outputs[1:] != (label_count,):
        raise ValueError(
            f"{path} takes {inputs} and gives {outputs}; this run needs a model taking "
            f"(None, {CLIP_SAMPLES}) and giving (None, {label_count}) (one per speaker)"
        )
    return model


def run_split(run: dict, part: str) -> data.ClipSet:
    """The files and labels of one split of a run (as ``run.json`` lists them), unread.

    Raises
    ------
    ValueError
        If a listed file's folder is not one of the run's speakers.
    """
    root, names = Path(run["data_dir"]), run["labels"]
    listed = run["split"][part]
    unknown = sorted({Path(name).parts[0] for name in listed} - set(names))
    if unknown:
        raise ValueError(f"run.json lists {part} files of speakers {unknown} not in its labels")
    labels = np.array([names.index(Path(name).parts[0]) for name in listed], np.int32)
    return data.ClipSet([root / name for name in listed], labels)


def predict(model, clips: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities ``(n, classes)`` from a Keras model, ``batch_size`` clips at a time.

    Batch by batch, so that no input pipeline holds another copy of the clips.
    """
    batches = (clips[start : start + batch_size] for start in range(0, len(clips), batch_size))
    return _stacked_probabilities(model, (model.predict_on_batch(batch) for batch in batches))


def _stacked_probabilities(model, batches) -> np.ndarray:
    """The ``(n, classes)`` rows of every batch of probabilities, in order."""
    rows = [np.asarray(batch) for batch in batches]
    if not rows:
        return np.zeros((0, model.outputs[0].shape[-1]), np.float32)
    return np.concatenate(rows)


def predict_set(model, clip_set: data.ClipSet, summary=None, batch_size: int = 64):
    """Probabilities ``(n, classes)`` and labels ``(n,)`` of every readable clip of a split.

    A set in memory is predicted from its array (``predict``); a streamed one
    as its files are read (``summary`` counts that reading).
    """
    if clip_set.clips is not None:
        return predict(model, clip_set.clips, batch_size), clip_set.labels
    probabilities, labels = [], []
    for clips, batch_labels in clip_set.dataset(summary=summary).batch(batch_size):
        probabilities.append(model.predict_on_batch(clips))
        labels.append(batch_labels.numpy())
    labels = np.concatenate(labels) if labels else np.zeros(0, np.int32)
    return _stacked_probabilities(model, probabilities), labels


def noisy_copies(
    clips: np.ndarray, noise_bank: np.ndarray, snr_db: float, seed: int
) -> np.ndarray:
    """Each clip mixed with a random held-out noise window at ``snr_db``."""
    rng = np.random.default_rng(seed)
    return mixed_copies(clips, noise_bank, rng.integers(len(noise_bank), size=len(clips)), snr_db)


def mixed_copies(
    clips: np.ndarray, noises: np.ndarray, picks: np.ndarray, snr_db: float
) -> np.ndarray:
    """Clip ``i`` mixed with ``noises[picks[i]]`` at ``snr_db`` (``data.mix_at_snr``).

    Parameters
    ----------
    clips : np.ndarray
        ``(n, CLIP_SAMPLES)`` float32.
    noises : np.ndarray
        ``(m, CLIP_SAMPLES)``: the noise windows or other voices to mix in.
    picks : np.ndarray
        ``(n,)`` integers in ``[0, m)``.
    snr_db : float
        Signal-to-noise ratio of every mixture, in dB.

    Returns
    -------
    np.ndarray
        ``(n, CLIP_SAMPLES)`` float32 in [-1, 1], written into one new array
        (no list of ``n`` rows to stack).
    """
    mixed = np.empty(clips.shape, np.float32)
    for i, pick in enumerate(picks):
        mixed[i] = data.mix_at_snr(clips[i], noises[pick], snr_db)
    return mixed


def epoch_report(
    run_dir: Path,
    validation: data.ClipSet,
    label_names: list[str],
    evaluator,
    show_confusion: Callable[[Path], None] | None = None,
    summary: data.ReadSummary | None = None,
):
    """A Keras callback writing, after each epoch, the validation confusion matrix (table
    and PNG), ``best.keras`` when validation accuracy improves, and the history files.

    ``show_confusion``, if given, receives each epoch's confusion-matrix PNG
    instead of the table being printed (the notebook displays the figure).
    A streamed validation set counts its first reading into ``summary``.
    ``evaluator`` is a model of the same architecture outside any distribution
    strategy, compiled portable (``build_model``'s ``portable``): it receives
    the trained weights and optimizer state, then predicts and is saved, so
    that ``best.keras`` loads where only spela is imported and multi-worker
    training does not wait for the other workers in its ``predict``. The
    callback also times each epoch's training steps (``epoch_seconds``).
    Keras is imported here, not at module level, so ``--help`` answers at once.
    """
    import keras

    class EpochReport(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history: dict[str, list[float]] = {}
            self.best = (-1.0, math.inf)
            self.epoch_seconds: list[float] = []
            self.summary = summary

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_seconds.append(time.perf_counter() - self.started)
            logs = dict(logs or {})
            distribution.copy_trained_state(self.model, evaluator)
            probabilities, labels = predict_set(evaluator, validation, self.summary)
            self.summary = None  # a streamed set is counted on its first reading only
            predicted = probabilities.argmax(axis=1)
            matrix = reporting.confusion_matrix(labels, predicted, len(label_names))
            accuracy = float(np.mean(predicted == labels))
            picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
            logs["val_loss"] = float(-np.mean(np.log(picked)))
            logs["val_accuracy"] = accuracy
            print(f"\nepoch {epoch + 1}: validation accuracy {accuracy:.1%}")
            if show_confusion is None:
                print(reporting.confusion_table(matrix, label_names), flush=True)
            make_folder(Path(run_dir) / "confusion")
            figure_path = Path(run_dir) / "confusion" / f"epoch_{epoch + 1:02d}.png"
            reporting.plot_confusion(
                matrix,
                label_names,
                figure_path,
                f"validation, epoch {epoch + 1}: {accuracy:.1%}",
            )
            if show_confusion is not None:
                show_confusion(figure_path)
            for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                self.history.setdefault(key, []).append(float(logs.get(key, np.nan)))
            self._write_history()
            score = (accuracy, -logs["val_loss"])
            if score > (self.best[0], -self.best[1]):
                self.best = (accuracy, -score[1])
                with atomic_path(Path(run_dir) / "best.keras") as temporary:
                    evaluator.save(temporary)
                print(f"saved best.keras (validation accuracy {accuracy:.1%})")

        def _write_history(self):
            write_json_atomically(Path(run_dir) / "history.json", self.history)
            table = io.StringIO()
            writer = csv.writer(table)
            writer.writerow(["epoch", *self.history])
            for epoch, row in enumerate(zip(*self.history.values(), strict=True), 1):
                writer.writerow([epoch, *row])
            write_text_atomically(Path(run_dir) / "history.csv", table.getvalue())
            reporting.plot_history(self.history, Path(run_dir) / "curves.png")

    return EpochReport()


def room_test_copies(
    clips: np.ndarray, labels: np.ndarray, noise_bank: np.ndarray, seed: int
) -> Callable[[str, float], np.ndarray]:
    """The report's degraded copies of the test clips, one condition and SNR at a time.

    White noise is drawn here; noise files are ``noise_bank`` (held-out windows);
    babble is 1-4 other test clips of other speakers; "babble + room" is babble,
    then a held-out room impulse response and phone channel on the mixture.
    Every call with the same arguments gives the same copies, so a Keras model,
    its TFLite exports and any analysis of them see the same degraded clips.

    Parameters
    ----------
    clips : np.ndarray
        ``(n, CLIP_SAMPLES)`` float32 test clips.
    labels : np.ndarray
        ``(n,)`` integer speakers of ``clips`` (babble is drawn from other speakers).
    noise_bank : np.ndarray
        ``(m, CLIP_SAMPLES)`` held-out noise windows (``m`` may be 0 when no
        condition asks for noise files).
    seed : int
        The run's seed.

    Returns
    -------
    callable
        ``degraded(condition, snr_db)``: the ``(n, CLIP_SAMPLES)`` float32 copy of
        ``clips`` in one of ``ROOM_CONDITIONS`` at ``snr_db`` dB, a new array
        each call.
    """
    rng = np.random.default_rng(seed + 7)
    white = np.empty(clips.shape, np.float32)
    for start in range(0, len(clips), room.DEGRADE_CHUNK):
        # Drawn a chunk at a time (the same numbers as in one draw), so no float64
        # copy of every clip's noise is made.
        chunk = white[start : start + room.DEGRADE_CHUNK]
        chunk[:] = rng.standard_normal(chunk.shape)
    voices = room.babble(clips, labels, clips, labels, seed + 8)
    impulses = room.impulse_responses(TEST_ROOMS, seed + 1001)
    channels = room.channel_responses(TEST_ROOMS, seed + 1002)
    picks = rng.integers(TEST_ROOMS, size=len(clips))
    each_clip = np.arange(len(clips))

    def degraded(condition: str, snr_db: float) -> np.ndarray:
        if condition not in ROOM_CONDITIONS:
            raise ValueError(f"condition must be one of {ROOM_CONDITIONS}, got {condition!r}")
        if condition == "noise files":
            return noisy_copies(clips, noise_bank, snr_db, seed)
        other = white if condition == "white noise" else voices
        mixed = mixed_copies(clips, other, each_clip, snr_db)
        if condition == "babble + room":
            return room.degrade(mixed, impulses, channels, picks)
        return mixed

    return degraded


def room_predictions(
    probabilities_of: Callable[[np.ndarray], np.ndarray], clips, labels, noise_bank, seed: int
) -> dict[str, dict[str, np.ndarray]]:
    """Predicted speakers per room condition and SNR (dB), ``{condition: {"clean" | "20": ...}}``.

    The conditions are ``room_test_copies``'s (which see). ``probabilities_of``
    maps ``(n, CLIP_SAMPLES)`` clips to ``(n, speakers)`` probabilities (a
    Keras model through ``predict``, or a TFLite model), so every export is
    measured on the same degraded clips. Each entry is the ``(n,)`` integer
    labels predicted for ``clips`` ``(n, CLIP_SAMPLES)`` in that condition;
    "clean" is the clips as they are, in every condition.
    """
    clean = probabilities_of(clips).argmax(1)
    degraded = room_test_copies(clips, labels, noise_bank, seed)
    results = {}
    for condition in ROOM_CONDITIONS:
        if condition == "noise files" and not len(noise_bank):
            continue
        predictions = {"clean": clean}
        for snr in SNR_LEVELS_DB:
            # One level's degraded copy at a time: it goes once its labels are predicted.
            predictions[f"{snr:g}"] = probabilities_of(degraded(condition, snr)).argmax(1)
        results[condition] = predictions
    return results


def room_conditions(
    probabilities_of: Callable[[np.ndarray], np.ndarray], clips, labels, noise_bank, seed: int
) -> dict[str, dict[str, float]]:
    """Test accuracy per room condition and SNR (dB), ``{condition: {"clean" | "20": acc}}``.

    The accuracies of ``room_predictions`` (which see, for the arguments and conditions).
    """
    predictions = room_predictions(probabilities_of, clips, labels, noise_bank, seed)
    return accuracies_of(predictions, labels)


def app_rule_rates(
    probabilities_of: Callable[[np.ndarray], np.ndarray],
    clips: np.ndarray,
    labels: np.ndarray,
    noises: Sequence[np.ndarray],
    seed: int,
    no_one_output: bool = False,
) -> dict:
    """How often the app's rule names a speaker (``strangers.confident_rates``), for any model.

    The same recordings for every model of a run: the strangers drawn from
    ``seed + 77``, the held-out part of each noise recording played alone, and
    each enrolled speaker's test clips end to end (speech the model did not
    train on).

    Parameters
    ----------
    probabilities_of : callable
        ``(windows, CLIP_SAMPLES)`` audio to ``(windows, speakers)`` probabilities.
    clips, labels : np.ndarray
        Test clips ``(n, CLIP_SAMPLES)`` and their speaker indices ``(n,)``.
    noises : sequence of np.ndarray
        The dataset's noise recordings ``(samples,)`` (``data.read_noises``).
    seed : int
        The run's seed.
    no_one_output : bool, default False
        Whether the model has a no-one output (``model.has_no_one_output``).

    Returns
    -------
    dict
        ``strangers.confident_rates``'s figures (``report.json``'s
        ``confident_label_rate``).
    """
    enrolled = [(int(label), clips[labels == label].reshape(-1)) for label in np.unique(labels)]
    return strangers.confident_rates(
        probabilities_of,
        enrolled,
        seed + 77,
        noises=data.noise_parts(noises, "test"),
        no_one_output=no_one_output,
    )


def accuracies_of(
    predictions: dict[str, dict[str, np.ndarray]], labels: np.ndarray
) -> dict[str, dict[str, float]]:
    """The share of ``room_predictions``' labels that are right, per condition and level.

    Parameters
    ----------
    predictions : dict
        ``{condition: {level: (n,) predicted labels}}``, as ``room_predictions`` returns.
    labels : ndarray
        ``(n,)`` true labels of the same clips.

    Returns
    -------
    dict
        ``{condition: {level: accuracy}}``, each accuracy in [0, 1].
    """
    return {
        condition: {level: float(np.mean(predicted == labels)) for level, predicted in by.items()}
        for condition, by in predictions.items()
    }


def room_alone_copies(clips: np.ndarray, seed: int) -> Iterator[tuple[str, np.ndarray]]:
    """Clean test clips through held-out rooms, with no babble or noise, one kind at a time.

    Parameters
    ----------
    clips : np.ndarray
        ``(n, CLIP_SAMPLES)`` float32 test clips.
    seed : int
        The run's seed: the impulse responses and channels are
        ``room_test_copies``'s.

    Yields
    ------
    tuple of (str, np.ndarray)
        ``("reverberation", copy)``, ``("channel", copy)`` and ``("both", copy)``,
        each copy ``(n, CLIP_SAMPLES)`` float32, made when it is asked for.
    """
    impulses = room.impulse_responses(TEST_ROOMS, seed + 1001)
    channels = room.channel_responses(TEST_ROOMS, seed + 1002)
    picks = np.random.default_rng(seed + 9).integers(TEST_ROOMS, size=len(clips))
    # One room of each kind that changes nothing: a lone direct path, a flat channel.
    dry = np.zeros((TEST_ROOMS, room.IMPULSE_SAMPLES), np.float32)
    dry[:, 0] = 1.0
    flat = np.ones_like(channels)
    for name, impulse_bank, channel_bank in (
        ("reverberation", impulses, flat),
        ("channel", dry, channels),
        ("both", impulses, channels),
    ):
        yield name, room.degrade(clips, impulse_bank, channel_bank, picks)


def room_alone(model, clips, labels, seed: int) -> dict[str, float]:
    """Test accuracy on clean clips through held-out rooms, with no babble or noise.

    Separates what reverberation and the phone channel cost on their own:
    ``{"reverberation": acc, "channel": acc, "both": acc}``, on the clips of
    ``room_alone_copies``.
    """
    accuracies = {}
    for name, copy in room_alone_copies(clips, seed):
        accuracies[name] = float(np.mean(predict(model, copy).argmax(1) == labels))
        del copy  # before the next copy is made: one copy of the clips at a time
    return accuracies


def babble_pool(train_set: data.ClipSet):
    """``BABBLE_POOL_CLIPS`` training clips for babble, spread over the set, and their labels.

    Returns
    -------
    tuple
        The clips as one ``data.pipeline_bank`` tensor ``(clips, CLIP_SAMPLES)``
        (no array of them is kept) and their ``(clips,)`` labels.
    """
    clips, labels = train_set.sample(BABBLE_POOL_CLIPS)
    return data.pipeline_bank(clips), labels


def augmented_examples(clips, train_noise, seed: int, options: dict, speakers: int):
    """``(clip, target)`` examples: ``clips`` through ``data.augment``, labels as targets.

    Parameters
    ----------
    clips : tf.data.Dataset
        ``(clip, label)`` training examples (``data.ClipSet.dataset``).
    train_noise : tf.Tensor
        The training noise windows (``data.pipeline_bank``).
    seed : int
        ``data.augment``'s seed.
    options : dict
        The recipe's ``data.augment`` options.
    speakers : int
        Number of speakers: each target is ``data.targets``' ``(speakers,)`` row.

    Returns
    -------
    tf.data.Dataset
        Unbatched ``(clip (CLIP_SAMPLES,), target (speakers,))``.
    """
    import tensorflow as tf

    return data.augment(clips, train_noise, seed, **options).map(
        lambda clip, label: (clip, data.targets(label, speakers)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def no_one_clips(training_clips: int, features: int) -> int:
    """How many augmented training clips the no-one column is fitted on (``NO_ONE_COLUMN``).

    Parameters
    ----------
    training_clips : int
        Clips in the training split.
    features : int
        Values per clip that the model's ``speaker`` layer receives.

    Returns
    -------
    int
        Two passes over the split, at least ``NO_ONE_MIN_CLIPS`` and at most
        ``NO_ONE_CLIPS``; 0 where their float32 statistics would take more
        than ``NO_ONE_BYTES``, so the column is fitted on clips as they are
        drawn (``add_no_one_column``).
    """
    clips = min(max(NO_ONE_COLUMN["passes"] * training_clips, NO_ONE_MIN_CLIPS), NO_ONE_CLIPS)
    return clips if clips * features * 4 <= NO_ONE_BYTES else 0


def add_no_one_column(
    model,
    train_set: data.ClipSet,
    train_noise,
    options: dict,
    seed: int,
    verbose: int = 2,
    batch_size: int = 128,
    column_batch_size: int = 64,
):
    """``model`` with a no-one output fitted after training (``NO_ONE_COLUMN``).

    Augmented training clips go through ``model`` up to its ``speaker`` layer
    (in inference mode), with ``NO_ONE_COLUMN``'s share of them replaced by
    noise alone; a no-one column is fitted on what the layer receives
    (``model.fit_no_one_column``) and added to it (``model.with_no_one_column``).
    Where that would take more than ``NO_ONE_BYTES`` to hold (``no_one_clips``),
    the column is fitted on new clips as they are drawn instead
    (``model.fit_no_one_column_on_clips``).

    Parameters
    ----------
    model : keras.Model
        A trained speaker model without a no-one output.
    train_set : data.ClipSet
        The training split.
    train_noise : tf.Tensor
        The training noise windows (``data.pipeline_bank``).
    options : dict
        The recipe's ``data.augment`` options, to which noise alone is added.
    seed : int
        The run's seed; the clips and their augmentation are drawn from ``seed + 1000``.
    verbose : int, default 2
        Keras's progress display, for the statistics and the fit.
    batch_size : int, default 128
        Clips per batch through ``model`` for the statistics that are held.
    column_batch_size : int, default 64
        Examples per step of the column's fit.

    Returns
    -------
    keras.Model
        Not compiled (``model.with_no_one_column``).
    """
    import keras
    import tensorflow as tf

    from speaker_recognition.model import (
        fit_no_one_column,
        fit_no_one_column_on_clips,
        with_no_one_column,
    )

    speaker = model.get_layer("speaker")
    speakers = speaker.units
    speaker_kernel, speaker_bias = speaker.get_weights()
    features = speaker_kernel.shape[0]
    statistics_of = keras.Model(model.input, speaker.input)
    alone = NO_ONE_COLUMN["noise_alone_probability"]
    augmented = augmented_examples(
        train_set.dataset(shuffle_seed=seed + 1000, repeat=True),
        train_noise,
        seed + 1000,
        {**options, "noise_alone_probability": alone},
        speakers,
    )
    fit_length = {
        "epochs": NO_ONE_COLUMN["epochs"],
        "steps_per_epoch": NO_ONE_COLUMN["steps_per_epoch"],
        "verbose": verbose,
    }
    clips = no_one_clips(len(train_set), features)
    if not clips:
        steps = fit_length["epochs"] * fit_length["steps_per_epoch"]
        print(
            f"no-one output: fitted on {steps * column_batch_size:,} augmented training clips "
            f"as they are drawn, {alone:.0%} of them noise alone (the last layer takes "
            f"{features:,} values per clip, too many to hold for {NO_ONE_MIN_CLIPS:,} clips "
            f"in {NO_ONE_BYTES // 2**20} MB)"
        )
        batches = augmented.batch(column_batch_size).prefetch(tf.data.AUTOTUNE)
        kernel, bias = fit_no_one_column_on_clips(
            statistics_of, batches, speaker_kernel, speaker_bias, **fit_length
        )
    else:
        batches = augmented.take(clips).batch(batch_size).prefetch(tf.data.AUTOTUNE)
        print(
            f"no-one output: pooled statistics of {clips:,} augmented training clips, "
            f"{alone:.0%} of them noise alone"
        )
        progress = keras.utils.Progbar(math.ceil(clips / batch_size), verbose=verbose)
        statistics = np.empty((clips, features), np.float32)
        targets = np.empty((clips, speakers), np.float32)
        filled = 0
        for step, (batch, batch_targets) in enumerate(batches, 1):
            end = filled + len(batch)
            statistics[filled:end] = statistics_of.predict_on_batch(batch)
            targets[filled:end] = batch_targets.numpy()
            filled = end
            progress.update(step)
        kernel, bias = fit_no_one_column(
            statistics[:filled],
            targets[:filled],
            speaker_kernel,
            speaker_bias,
            batch_size=column_batch_size,
            seed=seed + 1001,
            **fit_length,
        )
    return with_no_one_column(model, kernel, bias)


def pipeline_rate(pipeline, batches: int = 20) -> float:
    """Clips per second that a batched ``tf.data`` pipeline delivers on its own."""
    iterator = iter(pipeline)
    next(iterator)
    started = time.perf_counter()
    clips = sum(int(next(iterator)[0].shape[0]) for _ in range(batches))
    return clips / (time.perf_counter() - started)


def train(
    data_dir: str | Path | None,
    out: str | Path,
    epochs: int = 15,
    batch_size: int = 32,
    arch: str = "small_cnn",
    seed: int = 0,
    clips_per_speaker: int = 300,
    verbose: int | None = None,
    show_confusion: Callable[[Path], None] | None = None,
    augment: str = "noise",
    stream: bool = False,
    distribute: str = "none",
    callbacks: Sequence = (),
) -> dict | None:
    """Train, checkpoint and report; returns the final report (also ``report.json``).

    Parameters
    ----------
    data_dir : path-like or None
        The ``16000_pcm_speeches`` folder; None generates a synthetic dataset in
        ``out/data`` (reused if present).
    out : path-like
        Run folder for every artifact.
    epochs : int
        Training length; the learning rate warms up, then decays to 0 along a
        cosine by the last step (``model.learning_rate``).
    batch_size : int
        Global batch: examples per step over every device and worker, split
        evenly between them (so a multiple of their number).
    arch : {"small_cnn", "seed"}
        Model architecture (see ``speaker_recognition.model.build_model``).
    seed : int
        Seed of the split, weights, shuffling and augmentation (CPU runs repeat).
    clips_per_speaker : int
        Size of the synthetic dataset when it is generated.
    verbose : int, optional
        Keras progress display (1: bar, 2: a line per epoch); default by terminal.
    show_confusion : callable, optional
        Called with the path of each epoch's validation confusion-matrix PNG
        (the notebook displays it); without it the matrix is printed as a table.
    augment : {"noise", "room"}
        ``"noise"`` (default): noise files (``data.augment``). ``"room"``:
        noise files, babble of other training speakers, room reverberation
        and phone channels, and scaled voices trained toward equal
        probabilities as strangers (``data.augment``, in the shares of
        ``ROOM_AUGMENTATION``); it needs more data and epochs (``make demo``:
        3,000 clips per speaker, 24 epochs). After training, either
        recipe's model gets a no-one output fitted on noise alone with
        every other weight frozen (``add_no_one_column``), so the app says
        "No one speaking" in a room where no one speaks, and every accuracy
        is the trained model's.
    stream : bool, default False
        Read the clips from their files as training goes (``data.clip_stream``)
        instead of into memory first: memory stays flat whatever the
        dataset's size. Babble then comes from ``BABBLE_POOL_CLIPS`` training
        clips and the room conditions and strangers from ``REPORT_CLIPS``
        test clips.
    distribute : {"none", "mirrored", "multi-worker"}
        Devices and machines to train on (``speaker_recognition.distribute``).
        Under ``multi-worker`` every worker runs this with the same arguments
        and ``data_dir`` (which must be given); the training files are shared
        out between workers, and only the chief writes the run folder.
    callbacks : sequence of keras.callbacks.Callback
        More callbacks for the training loop (on every worker).

    Returns
    -------
    dict or None
        The report; None on workers other than the chief.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    if clips_per_speaker < 1:
        raise ValueError(f"clips_per_speaker must be >= 1, got {clips_per_speaker}")
    if augment not in AUGMENTATIONS:
        raise ValueError(f"augment must be one of {AUGMENTATIONS}, got {augment!r}")
    if distribute not in distribution.DISTRIBUTIONS:
        raise ValueError(
            f"distribute must be one of {distribution.DISTRIBUTIONS}, got {distribute!r}"
        )
    if distribute == "multi-worker" and data_dir is None:
        raise ValueError(
            "--distribute multi-worker needs --data-dir: every worker reads the same "
            "dataset (generate one first with python -m speaker_recognition.synthetic)"
        )
    strategy = distribution.make_strategy(distribute)

    import keras
    import tensorflow as tf

    from speaker_recognition import synthetic
    from speaker_recognition.model import LABEL_SMOOTHING, build_model, has_no_one_output

    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"batch_size {batch_size} must be a multiple of the {replicas} replicas "
            "training together"
        )
    chief = distribution.is_chief(strategy)
    started = time.perf_counter()
    run_dir = Path(out)
    if chief:
        make_folder(run_dir)
    if data_dir is None:
        data_dir = run_dir / "data" / "16000_pcm_speeches"
        if not data_dir.exists():
            print(f"no --data-dir: generating a synthetic dataset in {data_dir}")
            synthetic.write_dataset(data_dir, clips_per_speaker=clips_per_speaker, seed=seed)
    data_dir = Path(data_dir).resolve()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

    summary, train_summary = data.ReadSummary(), data.ReadSummary()
    if stream:
        files, labels, names = data.clip_files(data_dir)
        if not files:
            raise data.DatasetError(f"{data_dir} has speaker folders but no .wav clips")
        numbers = data.clip_numbers(files, labels)
        noises = data.read_noises(data_dir, summary.counts)
        summary.counts["speakers"] = len(names)
        summary.counts["noise_files"] = len(noises)
        print(
            f"listed {len(files)} clip files of {len(names)} speakers and {len(noises)} noise "
            "files; clips are read as they stream"
        )
    else:
        dataset = data.load_dataset(data_dir, progress=chief)
        summary = dataset.summary
        files, labels, names = dataset.files, dataset.labels, dataset.label_names
        numbers, noises = dataset.numbers, dataset.noises
        print(summary.line())
    parts = data.split_indices(labels, numbers, seed=seed, label_names=names)
    # In memory, the splits are views of the dataset's one array, reordered in place.
    part_clips = dict.fromkeys(parts) if stream else data.split_in_place(dataset.clips, parts)
    sets = {
        part: data.ClipSet([files[i] for i in index], labels[index], part_clips[part])
        for part, index in parts.items()
    }
    dataset = None  # the splits' views hold its clips; the rest of it can go
    run = {
        "data_dir": str(data_dir),
        "arch": arch,
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "stream": stream,
        "distribute": distribute,
        "replicas": replicas,
        "labels": names,
        "split": {
            part: [str(path.relative_to(data_dir)) for path in clip_set.files]
            for part, clip_set in sets.items()
        },
    }
    if chief:
        write_json_atomically(run_dir / "run.json", run)
        data.write_labels(run_dir / "labels.txt", names)
    print(f"split by blocks of 10 consecutive clips: { {k: len(v) for k, v in sets.items()} }")

    train_set = sets["train"]
    # Banks made once and shared by every training pipeline; their arrays can go.
    train_noise = data.pipeline_bank(data.noise_windows(noises, "train"))
    if augment == "room":
        babble_clips, babble_labels = babble_pool(train_set)
        options = {
            "impulses": room.impulse_responses(TRAIN_ROOMS, seed + 1),
            "channels": room.channel_responses(TRAIN_ROOMS, seed + 2),
            "babble_clips": babble_clips,
            "babble_labels": babble_labels,
            **ROOM_AUGMENTATION,
        }
    else:
        options = {}

    steps = math.ceil(len(train_set) / batch_size)
    # The room recipe's waveform augmentation regularizes enough on its own; its
    # smoothed targets lower how often a stranger's voice gets a confident label.
    # Both recipes train on target probabilities (data.targets): the room recipe's
    # strangers toward equal probabilities.
    settings = {
        "total_steps": steps * epochs,
        "masks_and_dropout": augment != "room",
        "label_smoothing": LABEL_SMOOTHING if augment == "room" else 0.0,
        "probability_targets": True,
    }

    def training_batches(context, counted=True):
        # Each worker reads its own share of the files, with its own seeds.
        worker_seed = seed + 7919 * context.input_pipeline_id
        clips = train_set.dataset(
            shuffle_seed=worker_seed,
            repeat=True,
            shard=(context.num_input_pipelines, context.input_pipeline_id),
            summary=train_summary if stream and counted else None,
        )
        augmented = augmented_examples(clips, train_noise, worker_seed, options, len(names))
        per_replica = context.get_per_replica_batch_size(batch_size)
        return augmented.batch(per_replica).prefetch(tf.data.AUTOTUNE)

    with strategy.scope():
        model = build_model(len(names), arch, **settings)
    # The evaluator predicts and saves best.keras outside the strategy, compiled with
    # Keras's own metrics (portable); its optimizer has the same schedule, so the
    # trained state copies across one to one.
    evaluator = build_model(len(names), arch, portable=True, **settings)
    report_callback = epoch_report(
        run_dir, sets["validation"], names, evaluator, show_confusion, summary if stream else None
    )
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    every_callback = [report_callback] if chief else []
    every_callback += list(callbacks)
    if distribute == "none":
        pipeline = training_batches(tf.distribute.InputContext())
    else:
        pipeline = strategy.distribute_datasets_from_function(training_batches)
    if distribute == "multi-worker":
        distribution.fit_multi_worker(
            model, strategy, pipeline, batch_size, steps, epochs, every_callback, verbose
        )
    else:
        model.fit(
            pipeline,
            steps_per_epoch=steps,
            epochs=epochs,
            callbacks=every_callback,
            shuffle=False,  # the pipeline shuffles; Keras warns that it cannot
            verbose=verbose,
        )
    if stream:
        # Each worker counted its own share of the training files: add them up.
        keys = data.CLIP_COUNTS
        totals = distribution.sum_over_workers(strategy, [train_summary.counts[k] for k in keys])
        summary.counts.update(dict(zip(keys, (int(t) for t in totals), strict=True)))
    if not chief:
        return None

    best = load_run_model(run_dir, len(names))
    best = add_no_one_column(best, train_set, train_noise, options, seed, verbose)
    with atomic_path(run_dir / "best.keras") as temporary:
        best.save(temporary)
    print("saved best.keras with a no-one output")
    probabilities, test_y = predict_set(best, sets["test"], summary if stream else None)
    predicted = probabilities.argmax(axis=1)
    matrix = reporting.confusion_matrix(test_y, predicted, len(names))
    accuracy = float(np.mean(predicted == test_y))
    reporting.plot_confusion(
        matrix, names, run_dir / "confusion_test.png", f"test set: {accuracy:.1%}"
    )
    # The conditions below use up to REPORT_CLIPS test clips, held in memory.
    test_x, sample_y = sets["test"].sample(REPORT_CLIPS)
    test_noise = data.noise_windows(noises, "test")
    best_probabilities = functools.partial(predict, best)
    predictions = room_predictions(best_probabilities, test_x, sample_y, test_noise, seed)
    conditions = accuracies_of(predictions, sample_y)
    # The accuracy against held-out noise is the "noise files" condition; a dataset
    # without noise files has only the clean accuracy.
    snr_accuracy = conditions.get("noise files", {"clean": conditions["white noise"]["clean"]})
    reporting.plot_snr(list(snr_accuracy), list(snr_accuracy.values()), run_dir / "snr.png")
    reporting.plot_conditions(conditions, run_dir / "room.png")
    # Which speakers a room makes the model take for each other, level by level.
    room_matrices = {
        level: reporting.confusion_matrix(sample_y, predicted, len(names))
        for level, predicted in predictions["babble + room"].items()
    }
    plotted = conditions["babble + room"][CONFUSION_PLOT_DB]
    reporting.plot_confusion(
        room_matrices[CONFUSION_PLOT_DB],
        names,
        run_dir / "confusion_room.png",
        f"babble + room at {CONFUSION_PLOT_DB} dB: {plotted:.1%}",
    )
    in_room = room_alone(best, test_x, sample_y, seed)
    unknown = app_rule_rates(
        best_probabilities, test_x, sample_y, noises, seed, has_no_one_output(best)
    )
    last_epoch = report_callback.epoch_seconds[-1]
    speed = {
        "pipeline_clips_per_second": pipeline_rate(
            training_batches(tf.distribute.InputContext(), counted=False)
        ),
        "training_clips_per_second": steps * batch_size / last_epoch,
    }
    precision, recall = reporting.precision_recall(matrix)
    report = {
        "test_accuracy": accuracy,
        "test_clips": len(test_y),
        "report_clips": len(sample_y),
        "best_validation_accuracy": report_callback.best[0],
        "per_speaker": {
            n: {"precision": float(p), "recall": float(r)}
            for n, p, r in zip(names, precision, recall, strict=True)
        },
        "confusion_matrix": matrix.tolist(),
        "accuracy_by_snr_db": snr_accuracy,
        "accuracy_by_condition": conditions,
        "accuracy_in_room": in_room,
        "confusion_in_room": {level: m.tolist() for level, m in room_matrices.items()},
        "confused_pairs_in_room": {
            level: reporting.confused_pairs(m, names) for level, m in room_matrices.items()
        },
        "confident_label_rate": unknown,
        "augment": augment,
        "stream": stream,
        "distribute": distribute,
        "replicas": replicas,
        "workers": distribution.worker_count(strategy),
        "epoch_seconds": report_callback.epoch_seconds,
        **speed,
        "parameters": int(best.count_params()),
        "seconds": time.perf_counter() - started,
        "read_summary": summary.line(),
    }
    write_json_atomically(run_dir / "report.json", report)
    if stream:
        print(summary.line())
    print("\ntest set report")
    print(reporting.class_report(matrix, names))
    print(
        "accuracy against held-out noise: "
        + ", ".join(f"{k} {'' if k == 'clean' else 'dB '}{v:.1%}" for k, v in snr_accuracy.items())
    )
    print(reporting.condition_table(conditions))
    for level in ("10", "5"):
        pairs = report["confused_pairs_in_room"][level]
        print(
            f"speakers most taken for each other in babble + room at {level} dB: "
            + reporting.confused_pairs_line(pairs)
        )
    print(
        "clean speech in held-out rooms: "
        + ", ".join(f"{name} {accuracy:.1%}" for name, accuracy in in_room.items())
    )
    print(f"app's rule: {strangers.summary_line(unknown)}")
    print(
        f"input pipeline {speed['pipeline_clips_per_second']:,.0f} clips/s, training "
        f"{speed['training_clips_per_second']:,.0f} clips/s over {replicas} replica(s)"
    )
    print(
        f"test accuracy {accuracy:.1%} on {len(test_y)} clips; artifacts in {run_dir} "
        f"({report['seconds']:.0f} s)"
    )
    return report


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m speaker_recognition.train",
        description="Train a speaker classifier on 1-s 16 kHz clips with a spela front end.",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="the 16000_pcm_speeches folder (default: generate synthetic data "
        "under the run folder)",
    )
    parser.add_argument(
        "--out",
        default="runs/speaker_recognition",
        help="run folder for checkpoints, plots and reports (default runs/speaker_recognition)",
    )
    parser.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    parser.add_argument(
        "--arch",
        choices=["small_cnn", "seed"],
        default="small_cnn",
        help="small_cnn: compact Conv-BN-ReLU model (default); seed: the "
        "original Conv2D-MaxPool-Flatten-Dense model",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--clips-per-speaker",
        type=int,
        default=300,
        help="size of a generated synthetic dataset (default 300)",
    )
    parser.add_argument(
        "--augment",
        choices=AUGMENTATIONS,
        default="noise",
        help="noise: noise files (default); room: noise files, babble of other speakers, "
        "reverberation, phone channels and scaled voices as strangers (make demo: 3,000 "
        "clips per speaker, 24 epochs). Either way, a no-one output is fitted on noise "
        "alone after training",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="read clips from their files as training goes instead of into memory first "
        "(for datasets larger than memory)",
    )
    parser.add_argument(
        "--distribute",
        choices=distribution.DISTRIBUTIONS,
        default="none",
        help="none: one device (default); mirrored: every local GPU; multi-worker: "
        "several machines, each configured by TF_CONFIG",
    )
    add_verbose_option(parser)
    args = parser.parse_args(argv)
    start_tensorflow(args)
    train(
        args.data_dir,
        args.out,
        args.epochs,
        args.batch_size,
        args.arch,
        args.seed,
        args.clips_per_speaker,
        augment=args.augment,
        stream=args.stream,
        distribute=args.distribute,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
