"""Both architectures build, stay the expected size and convert to builtin-only TFLite;
the learning-rate schedule follows its formula."""

from __future__ import annotations

import math
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from speaker_recognition import CLIP_SAMPLES
from speaker_recognition.data import NO_ONE_LABEL, STRANGER_LABEL, targets
from speaker_recognition.model import (
    LABEL_SMOOTHING,
    LEARNING_RATES,
    NO_ONE_LOGIT_STEP,
    STATISTICS_EPSILON,
    WARMUP_SHARE,
    SpeakerOrNoOneCrossentropy,
    build_model,
    default_frontend,
    fit_no_one_column,
    fit_no_one_column_on_clips,
    frontend_layer_names,
    has_no_one_output,
    learning_rate,
    no_one_learning_rate,
    statistics_pooling,
    with_no_one_column,
)
from spela.export import run_tflite, tflite_op_names, to_tflite


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["small_cnn", "seed"])
def test_architectures_convert_with_builtin_ops(arch):
    model = build_model(5, arch)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    if arch == "seed":
        assert 1_100_000 < trainable < 1_300_000  # the original's Flatten -> Dense
    else:
        assert trainable < 60_000
    x = np.random.default_rng(0).uniform(-0.3, 0.3, (4, 16000)).astype(np.float32)
    for quantize in (None, "int8"):
        flatbuffer = to_tflite(
            model,
            quantize=quantize,
            representative_data=x if quantize else None,
            float_layers=frontend_layer_names(model) if quantize else (),
        )
        names = tflite_op_names(flatbuffer)
        assert not [n for n in names if n.startswith("Flex") or n == "CUSTOM"]
        got = run_tflite(flatbuffer, x)
        assert got.shape == (4, 5)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-2)


def test_masks_and_dropout_are_optional_and_change_training_only():
    with_them, without = build_model(5), build_model(5, masks_and_dropout=False)
    regularizers = {"TimeMasking", "FrequencyMasking", "Dropout"}
    assert regularizers <= {type(layer).__name__ for layer in with_them.layers}
    assert not regularizers & {type(layer).__name__ for layer in without.layers}
    without.set_weights(with_them.get_weights())  # the same weights: they add none
    x = np.random.default_rng(1).uniform(-0.3, 0.3, (3, 16000)).astype(np.float32)
    np.testing.assert_allclose(with_them(x), without(x), rtol=1e-5, atol=1e-6)
    assert not np.allclose(with_them(x, training=True), without(x, training=True), atol=1e-3)


def test_statistics_pooling_gives_the_mean_and_standard_deviation_over_time():
    features = np.random.default_rng(2).normal(1.0, 2.0, (3, 12, 7)).astype(np.float32)
    inputs = keras.Input((12, 7))
    pooled = keras.Model(inputs, statistics_pooling(inputs))(features)
    expected_std = np.sqrt(features.var(axis=1) + STATISTICS_EPSILON)
    np.testing.assert_allclose(pooled[:, :7], features.mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pooled[:, 7:], expected_std, rtol=1e-5, atol=1e-6)


def test_small_cnn_classifies_from_time_statistics():
    model = build_model(5, masks_and_dropout=False)
    classifier_input = model.get_layer("speaker").input
    assert classifier_input is model.get_layer("time_statistics").output
    assert classifier_input.shape[-1] == 2 * model.get_layer("time_mean").output.shape[-1]


def test_silence_has_finite_gradients():
    # A silent clip gives features that do not vary over time: the deviation is 0,
    # and its square root must not make the gradient NaN or infinite.
    model = build_model(5, masks_and_dropout=False)
    silence = tf.zeros((2, 16000))
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(
            tf.constant([0, 3]), model(silence, training=True)
        )
    gradients = tape.gradient(loss, model.trainable_weights)
    assert all(np.all(np.isfinite(g.numpy())) for g in gradients if g is not None)
    assert any(np.any(g.numpy() != 0) for g in gradients if g is not None)


@pytest.mark.parametrize("pitch_hz", [150.0, 170.0])
def test_small_cnn_front_end_resolves_the_harmonics_of_a_low_voice(pitch_hz):
    # Voices that differ mostly in pitch are told apart by the spacing of their
    # harmonics: the log-mel must show a peak at each harmonic and a valley between.
    import librosa

    (log_mel,) = default_frontend("small_cnn")
    t = np.arange(16000) / 16000
    voice = sum(np.sin(2 * np.pi * k * pitch_hz * t) for k in range(1, int(7000 / pitch_hz)))
    voice = (0.05 * voice / np.abs(voice).max()).astype(np.float32)
    spectrum = np.asarray(log_mel(voice[None]))[0, 10:-10].mean(axis=0)
    config = log_mel.get_config()
    centres = librosa.mel_frequencies(
        config["n_mels"] + 2, fmin=config["f_min"], fmax=config["sample_rate"] / 2
    )[1:-1]

    def band(hz):
        return int(np.argmin(np.abs(centres - hz)))

    depths = [
        spectrum[band(k * pitch_hz)] - spectrum[band((k + 0.5) * pitch_hz)] for k in range(2, 7)
    ]
    assert min(depths) > 10.0, depths


@pytest.mark.parametrize("smoothing", [0.0, LABEL_SMOOTHING, 0.3])
def test_label_smoothing_mixes_the_targets_with_the_uniform_distribution(smoothing):
    model = build_model(5, label_smoothing=smoothing)
    probabilities = np.random.default_rng(1).dirichlet(np.ones(5), size=6).astype(np.float32)
    labels = np.array([0, 1, 2, 3, 4, 2])
    targets = np.eye(5)[labels] * (1 - smoothing) + smoothing / 5
    expected = np.mean(-np.sum(targets * np.log(probabilities), axis=1))
    given = np.eye(5, dtype=np.float32)[labels] if smoothing else labels
    loss = keras.losses.get(model.loss)  # a loss object, or the function a name stands for
    got = float(np.mean(loss(given, probabilities)))
    assert got == pytest.approx(expected, rel=1e-5)


def test_probability_targets_train_equal_rows_with_the_categorical_cross_entropy():
    model = build_model(5, probability_targets=True)
    assert model.get_compile_config()["metrics"][0]["class_name"].endswith("SpeakerAccuracy")
    probabilities = np.random.default_rng(4).dirichlet(np.ones(5), size=6).astype(np.float32)
    targets = np.eye(5, dtype=np.float32)[[0, 1, 2, 3, 4, 2]]
    targets[[1, 4]] = 1 / 5
    expected = np.mean(-np.sum(targets * np.log(probabilities), axis=1))
    got = float(np.mean(keras.losses.get(model.loss)(targets, probabilities)))
    assert got == pytest.approx(expected, rel=1e-5)
    portable = build_model(5, probability_targets=True, portable=True)
    assert portable.get_compile_config()["metrics"] == ["accuracy"]


def speaker_layer_probabilities(model, clips):
    """The softmax over every output of the model's last Dense layer, in numpy."""
    dense = model.get_layer("speaker")
    features = keras.Model(model.input, dense.input)(clips, training=False)
    kernel, bias = (np.asarray(w, np.float64) for w in dense.get_weights())
    logits = np.asarray(features, np.float64) @ kernel + bias
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("arch", ["small_cnn", "seed"])
def test_a_no_one_output_leaves_its_probability_out_of_the_speakers(arch):
    model = build_model(5, arch, no_one_output=True)
    assert model.get_layer("speaker").units == 6
    # Give the no-one output a share the speakers' sum must leave out (the features
    # still move every logit a little).
    kernel, bias = model.get_layer("speaker").get_weights()
    model.get_layer("speaker").set_weights([kernel / 100, bias + np.array([0, 0.5, 0, 0, 0, 1.5])])
    clips = np.random.default_rng(5).uniform(-0.3, 0.3, (3, 16000)).astype(np.float32)
    every = speaker_layer_probabilities(model, clips)
    got = np.asarray(model(clips, training=False))
    assert got.shape == (3, 5)
    np.testing.assert_allclose(got, every[:, :5], rtol=1e-4, atol=1e-6)
    assert np.all(1 - got.sum(axis=1) > 0.2)  # what is left is no one's


def test_has_no_one_output_reads_the_speaker_layers_width(tmp_path):
    assert has_no_one_output(build_model(5, no_one_output=True))
    assert not has_no_one_output(build_model(5))
    # The portable copy train saves, after a round trip through a file.
    build_model(3, "seed", no_one_output=True, portable=True).save(tmp_path / "m.keras")
    assert has_no_one_output(keras.models.load_model(tmp_path / "m.keras", compile=False))
    # A user's model without a layer named speaker, and one whose speaker layer is
    # as wide as its output.
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    assert not has_no_one_output(plain)
    named = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="speaker")])
    assert not has_no_one_output(named)


def test_a_no_one_column_leaves_the_speakers_as_they_were(tmp_path):
    keras.utils.set_random_seed(8)
    model = build_model(4, masks_and_dropout=False, label_smoothing=LABEL_SMOOTHING, portable=True)
    features = model.get_layer("speaker").kernel.shape[0]
    rng = np.random.default_rng(8)
    kernel = rng.normal(0, 0.3, (features, 1)).astype(np.float32)
    widened = with_no_one_column(model, kernel, np.array([0.7], np.float32))
    assert has_no_one_output(widened) and not has_no_one_output(model)
    widened.save(tmp_path / "widened.keras")
    loaded = keras.models.load_model(tmp_path / "widened.keras")
    clips = rng.uniform(-0.4, 0.4, (6, 16000)).astype(np.float32)
    before = np.asarray(model(clips, training=False), np.float64)
    every = speaker_layer_probabilities(widened, clips)  # numpy's softmax of five logits
    for candidate in (widened, loaded):
        after = np.asarray(candidate(clips, training=False), np.float64)
        np.testing.assert_allclose(after, every[:, :4], rtol=1e-4, atol=1e-6)
        # Only no one's logit was added: the speakers keep their ratios, so every
        # argmax (every accuracy of the report) is the model's without the column.
        np.testing.assert_allclose(after / after.sum(axis=1, keepdims=True), before, rtol=1e-4)
        assert np.all(after.sum(axis=1) < 0.99)


def test_with_no_one_column_refuses_what_it_cannot_widen():
    model = build_model(3, masks_and_dropout=False)
    features = model.get_layer("speaker").kernel.shape[0]
    column = (np.zeros((features, 1), np.float32), np.zeros(1, np.float32))
    with pytest.raises(ValueError, match="without a no-one output"):
        with_no_one_column(build_model(3, no_one_output=True), *column)
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="no layer named 'speaker'"):
        with_no_one_column(plain, *column)
    with pytest.raises(ValueError, match=rf"must be a \({features}, 1\) kernel"):
        with_no_one_column(model, np.zeros((features + 1, 1)), np.zeros(1))


def _speakers_and_noise_alone():
    """Toy statistics, targets and a frozen speaker layer: three speakers' features
    around their own centres, noise alone far off on an axis the speakers ignore."""
    rng = np.random.default_rng(9)
    centres = np.zeros((3, 6), np.float32)
    centres[np.arange(3), np.arange(3)] = 3.0
    labels = rng.integers(0, 3, 600)
    statistics = centres[labels] + rng.normal(0, 0.5, (600, 6)).astype(np.float32)
    alone = np.arange(600) < 60
    statistics[alone] = rng.normal(0, 0.5, (60, 6))
    statistics[alone, 5] += 8.0
    given = np.eye(3, dtype=np.float32)[labels]
    given[alone] = 0.0
    speaker_kernel = np.zeros((6, 3), np.float32)
    speaker_kernel[np.arange(3), np.arange(3)] = 2.0
    return statistics, given, speaker_kernel, np.zeros(3, np.float32), labels, alone


def _assert_the_column_tells_noise_alone(statistics, speaker_kernel, kernel, bias, labels, alone):
    """The softmax over the frozen speakers' logits and the fitted column, in numpy."""
    assert kernel.shape == (len(speaker_kernel), 1) and bias.shape == (1,)
    logits = np.concatenate([statistics @ speaker_kernel, statistics @ kernel + bias], axis=1)
    every = np.exp(logits - logits.max(axis=1, keepdims=True))
    every /= every.sum(axis=1, keepdims=True)
    assert np.mean(every[alone, 3] > 0.6) > 0.95
    assert np.mean(every[~alone, 3] > 0.6) < 0.02
    assert np.mean(every[~alone, :3].argmax(axis=1) == labels[~alone]) > 0.95


def test_a_no_one_column_learns_noise_alone_beside_frozen_speakers():
    keras.utils.set_random_seed(9)
    statistics, given, speaker_kernel, speaker_bias, labels, alone = _speakers_and_noise_alone()
    kernel, bias = fit_no_one_column(
        statistics, given, speaker_kernel, speaker_bias, epochs=2, steps_per_epoch=500, verbose=0
    )
    _assert_the_column_tells_noise_alone(statistics, speaker_kernel, kernel, bias, labels, alone)


def test_a_no_one_column_on_wide_statistics_learns_at_a_capped_rate():
    # 20,000 more positive values a row, as after a ReLU, which the speakers ignore: the
    # L1 norm is some 20,000, and at Adam's 1e-3 the column's logit would move by some 20
    # a step and never settle (no noise alone found at all).
    keras.utils.set_random_seed(9)
    statistics, given, speaker_kernel, speaker_bias, labels, alone = _speakers_and_noise_alone()
    rng = np.random.default_rng(3)
    extra = rng.exponential(1.0, (len(statistics), 20_000)).astype(np.float32)
    wide = np.concatenate([statistics, extra], axis=1)
    wide_kernel = np.concatenate([speaker_kernel, np.zeros((20_000, 3), np.float32)])
    kernel, bias = fit_no_one_column(
        wide, given, wide_kernel, speaker_bias, epochs=2, steps_per_epoch=500, verbose=0
    )
    _assert_the_column_tells_noise_alone(wide, wide_kernel, kernel, bias, labels, alone)


def test_the_no_one_rate_is_capped_by_the_mean_l1_norm():
    rows = np.array([[1500.0, -500.0], [-3000.0, 1000.0]], np.float32)  # L1 norms 2000, 4000
    assert no_one_learning_rate(rows) == pytest.approx(NO_ONE_LOGIT_STEP / 3000.0)
    assert no_one_learning_rate(rows / 1000.0) == 1e-3
    assert no_one_learning_rate(rows / 100.0, learning_rate=0.1) == pytest.approx(
        NO_ONE_LOGIT_STEP / 30.0
    )
    assert no_one_learning_rate(np.zeros((3, 4), np.float32)) == 1e-3


def test_smoothing_the_speakers_targets_leaves_the_no_one_column_as_it_is():
    # The gradient with respect to the no-one logit is its probability minus its target,
    # however a row shares its speakers' targets: the same column, smoothed or not.
    statistics, given, speaker_kernel, speaker_bias, _, _ = _speakers_and_noise_alone()
    columns = []
    for smoothing in (0.0, LABEL_SMOOTHING):
        keras.utils.set_random_seed(9)
        columns.append(
            fit_no_one_column(
                statistics,
                given,
                speaker_kernel,
                speaker_bias,
                epochs=1,
                steps_per_epoch=300,
                label_smoothing=smoothing,
                verbose=0,
            )
        )
    (kernel, bias), (smoothed_kernel, smoothed_bias) = columns
    np.testing.assert_allclose(smoothed_kernel, kernel, atol=1e-6)
    np.testing.assert_allclose(smoothed_bias, bias, atol=1e-6)
    assert np.abs(kernel).max() > 0.1  # the column did learn


def test_fit_no_one_column_names_what_does_not_fit():
    statistics = np.zeros((10, 6), np.float32)
    given = np.zeros((10, 3), np.float32)
    kernel, bias = np.zeros((6, 3), np.float32), np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=r"statistics must be \(examples, 6\)"):
        fit_no_one_column(statistics[:, :5], given, kernel, bias)
    with pytest.raises(ValueError, match=r"targets must be \(10, 3\)"):
        fit_no_one_column(statistics, given[:, :2], kernel, bias)
    with pytest.raises(ValueError, match="no row of noise alone"):
        fit_no_one_column(statistics, np.eye(3, dtype=np.float32)[np.arange(10) % 3], kernel, bias)


def _toy_statistics_of():
    """A model from clips to the toy statistics: their first six samples, through a Dense
    and a BatchNormalization that are the identity in inference mode only."""
    clips = keras.Input((CLIP_SAMPLES,))
    picked = keras.layers.Dense(6, use_bias=False)
    normalized = keras.layers.BatchNormalization(epsilon=0.0)
    model = keras.Model(clips, normalized(picked(clips)))
    picked.set_weights([np.eye(CLIP_SAMPLES, 6, dtype=np.float32)])
    return model


def test_a_no_one_column_fitted_on_clips_learns_noise_alone_beside_frozen_speakers():
    keras.utils.set_random_seed(9)
    statistics, given, speaker_kernel, speaker_bias, labels, alone = _speakers_and_noise_alone()
    clips = np.zeros((len(statistics), CLIP_SAMPLES), np.float32)
    clips[:, :6] = statistics
    statistics_of = _toy_statistics_of()
    weights_before = [w.copy() for w in statistics_of.get_weights()]
    examples = (
        tf.data.Dataset.from_tensor_slices((clips, given)).shuffle(600, seed=9).repeat().batch(64)
    )
    kernel, bias = fit_no_one_column_on_clips(
        statistics_of,
        examples,
        speaker_kernel,
        speaker_bias,
        epochs=2,
        steps_per_epoch=500,
        learning_rate=1e-2,
        verbose=0,
    )
    # On the statistics themselves: the model was run in inference mode (a
    # BatchNormalization in training mode would have centred the noise-alone axis on each
    # batch).
    _assert_the_column_tells_noise_alone(statistics, speaker_kernel, kernel, bias, labels, alone)
    # The model that was given is left as it was: weights, moving statistics, trainability.
    for before, after in zip(weights_before, statistics_of.get_weights(), strict=True):
        np.testing.assert_array_equal(after, before)
    assert all(layer.trainable for layer in statistics_of.layers)


def test_fit_no_one_column_on_clips_names_what_does_not_fit():
    statistics_of = _toy_statistics_of()
    kernel, bias = np.zeros((6, 3), np.float32), np.zeros(3, np.float32)

    def batches(samples, speakers):
        zeros = np.zeros((4, samples), np.float32), np.zeros((4, speakers), np.float32)
        return tf.data.Dataset.from_tensor_slices(zeros).batch(2)

    good = batches(CLIP_SAMPLES, 3)
    with pytest.raises(ValueError, match=r"\(batch, 5\) statistics.*from \(16000,\) to 6 values"):
        fit_no_one_column_on_clips(statistics_of, good, kernel[:5], bias)
    with pytest.raises(ValueError, match=r"clips \(8000,\), 3 targets"):
        fit_no_one_column_on_clips(statistics_of, batches(8000, 3), kernel, bias)
    with pytest.raises(ValueError, match=r"clips \(16000,\), 2 targets"):
        fit_no_one_column_on_clips(statistics_of, batches(CLIP_SAMPLES, 2), kernel, bias)
    with pytest.raises(ValueError, match=r"a bias of \(2,\)"):
        fit_no_one_column_on_clips(statistics_of, good, kernel, bias[:2])


def test_fit_no_one_column_on_clips_needs_noise_alone_to_learn_from():
    statistics_of = _toy_statistics_of()
    kernel, bias = np.zeros((6, 3), np.float32), np.zeros(3, np.float32)
    clips = np.zeros((64, CLIP_SAMPLES), np.float32)
    speech = np.eye(3, dtype=np.float32)[np.arange(64) % 3]
    only_speech = tf.data.Dataset.from_tensor_slices((clips, speech)).repeat().batch(8)
    with pytest.raises(ValueError, match=r"no row of noise alone .* in its first 50 batches"):
        fit_no_one_column_on_clips(statistics_of, only_speech, kernel, bias, verbose=0)


@pytest.mark.parametrize("smoothing", [0.0, LABEL_SMOOTHING])
def test_the_no_one_loss_is_the_cross_entropy_over_speakers_and_no_one(smoothing):
    model = build_model(4, label_smoothing=smoothing, no_one_output=True)
    assert isinstance(model.loss, SpeakerOrNoOneCrossentropy)
    # Rows of five probabilities (four speakers, then no one); the model shows four.
    every = np.random.default_rng(6).dirichlet(np.ones(5), size=5)
    labels = [0, 3, STRANGER_LABEL, NO_ONE_LABEL, NO_ONE_LABEL]
    given = np.stack([np.asarray(targets(label, 4)) for label in labels])
    expected_targets = np.array(
        [
            [1 - smoothing + smoothing / 4, smoothing / 4, smoothing / 4, smoothing / 4, 0],
            [smoothing / 4, smoothing / 4, smoothing / 4, 1 - smoothing + smoothing / 4, 0],
            [0.25, 0.25, 0.25, 0.25, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1],
        ]
    )
    expected = -np.sum(expected_targets * np.log(every), axis=1)
    got = np.asarray(model.loss.call(given, every[:, :4].astype(np.float32)))
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    # Keras's own categorical cross-entropy rescales each row to sum to 1, so noise
    # alone would teach nothing: the reason for a loss of its own.
    keras_loss = keras.losses.CategoricalCrossentropy(reduction=None)
    assert float(keras_loss(given[3:4], every[3:4, :4].astype(np.float32))[0]) == 0.0


def test_training_on_noise_alone_raises_the_no_one_probability():
    keras.utils.set_random_seed(3)
    model = build_model(3, no_one_output=True, masks_and_dropout=False)
    rng = np.random.default_rng(3)
    # Tones for the three speakers, quiet white noise for no one.
    time = np.arange(16000) / 16000
    tones = [0.3 * np.sin(2 * np.pi * hz * time) for hz in (300.0, 900.0, 2500.0)]
    clips = np.stack([*tones, *(0.01 * rng.standard_normal((3, 16000)))]).astype(np.float32)
    labels = [0, 1, 2, NO_ONE_LABEL, NO_ONE_LABEL, NO_ONE_LABEL]
    given = np.stack([np.asarray(targets(label, 3)) for label in labels])
    model.fit(clips, given, batch_size=6, epochs=40, verbose=0)
    probabilities = np.asarray(model(clips, training=False))
    assert list(probabilities[:3].argmax(axis=1)) == [0, 1, 2]
    assert np.all(probabilities[:3].max(axis=1) > 0.6)
    assert np.all(1 - probabilities[3:].sum(axis=1) > 0.6)  # no one speaking


def test_training_accuracy_leaves_out_the_strangers_equal_targets():
    # The room recipe trains scaled voices toward equal probabilities (data.targets);
    # Keras's own accuracy would count each as speaker 0 (the argmax of equal targets).
    model = build_model(5, label_smoothing=LABEL_SMOOTHING)
    clips = np.random.default_rng(2).uniform(-0.3, 0.3, (12, 16000)).astype(np.float32)
    predicted = model.predict(clips, verbose=0).argmax(axis=1)
    strangers = np.array([0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    # 4 of the 9 speaker rows are named right, whatever the untrained model predicts;
    # counting strangers as speaker 0 would give (4 + s) / 12, never 4 / 9.
    right = np.flatnonzero(~strangers)[:4]
    labels = (predicted + 1) % 5
    labels[right] = predicted[right]
    labels[strangers] = STRANGER_LABEL
    targets = np.where(strangers[:, None], 1 / 5, np.eye(5)[labels]).astype(np.float32)
    result = model.evaluate(clips, targets, batch_size=4, return_dict=True, verbose=0)
    assert result["accuracy"] == pytest.approx(4 / 9)


def test_a_portable_model_counts_as_keras_does_and_loads_where_only_spela_is_imported(tmp_path):
    portable = build_model(5, label_smoothing=LABEL_SMOOTHING, portable=True)
    assert portable.get_compile_config()["metrics"] == ["accuracy"]
    training = build_model(5, label_smoothing=LABEL_SMOOTHING)
    no_one = build_model(5, no_one_output=True, portable=True)
    assert no_one.loss is None and no_one.get_compile_config()["metrics"] == ["accuracy"]
    models = (("portable", portable), ("training", training), ("no_one", no_one))
    for name, model in models:
        model.save(tmp_path / f"{name}.keras")
    # A process that imports spela but not speaker_recognition, as a user's own code
    # would: the training model's SpeakerAccuracy is not registered there.
    script = (
        "import sys, keras, spela\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        keras.models.load_model(path)\n"
        "        print(path, 'loaded')\n"
        "    except Exception as error:\n"
        "        print(path, 'failed', type(error).__name__)\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script, "portable.keras", "training.keras", "no_one.keras"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    lines = loaded.stdout.splitlines()
    assert "portable.keras loaded" in lines and "training.keras failed TypeError" in lines, lines
    assert "no_one.keras loaded" in lines, lines


@pytest.mark.parametrize("count", [0, 1, 64, 65])
def test_predict_gives_the_models_probabilities_for_any_number_of_clips(count):
    from speaker_recognition import train

    model = build_model(4, "small_cnn")
    clips = np.random.default_rng(count).uniform(-0.5, 0.5, (count, 16000)).astype(np.float32)
    probabilities = train.predict(model, clips, batch_size=64)
    assert probabilities.shape == (count, 4)
    if count:
        # The model called on all the clips at once, in inference mode.
        expected = keras.ops.convert_to_numpy(model(clips, training=False))
        np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="arch"):
        build_model(5, "resnet")
    with pytest.raises(ValueError, match="n_classes"):
        build_model(1)
    for smoothing in (-0.1, 1.0, "0.1"):
        with pytest.raises(ValueError, match="label_smoothing"):
            build_model(5, label_smoothing=smoothing)


@pytest.mark.parametrize("total_steps", [1, 7, 40, 1000])
def test_learning_rate_warms_up_then_follows_a_cosine_to_zero(total_steps):
    peak = LEARNING_RATES["small_cnn"]
    schedule = learning_rate("small_cnn", total_steps)
    warmup = int(WARMUP_SHARE * total_steps)

    def expected(step):  # linear warm-up from peak / 10, then half a cosine to 0
        if step < warmup:
            return peak / 10 + (peak - peak / 10) * step / warmup
        progress = min((step - warmup) / max(total_steps - warmup, 1), 1.0)
        return peak * 0.5 * (1 + math.cos(math.pi * progress))

    for step in sorted({0, warmup // 2, warmup, (warmup + total_steps) // 2, total_steps - 1}):
        # float32 schedule arithmetic: relative 1e-5
        assert float(schedule(step)) == pytest.approx(expected(step), rel=1e-5, abs=1e-9)
    assert float(schedule(total_steps)) == pytest.approx(0.0, abs=1e-9)


def test_learning_rate_is_constant_without_a_length_and_the_model_uses_it():
    assert learning_rate("seed") == LEARNING_RATES["seed"]
    model = build_model(5, total_steps=100)
    rate = model.optimizer.learning_rate  # the schedule's value at the optimizer's step 0
    assert float(rate) == pytest.approx(LEARNING_RATES["small_cnn"] / 10, rel=1e-5)
    with pytest.raises(ValueError, match="total_steps"):
        learning_rate("small_cnn", 0)
    with pytest.raises(ValueError, match="arch"):
        learning_rate("resnet", 10)
