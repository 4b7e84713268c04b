"""SpecAugment masking: random masks in training, identity in inference."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import spela
from spela.export import tflite_op_names, to_tflite


@pytest.mark.parametrize("layer_class", [spela.TimeMasking, spela.FrequencyMasking])
@pytest.mark.parametrize("channels", [None, 2])
def test_masks_only_in_training(layer_class, channels):
    shape = (4, 40, 30) + ((channels,) if channels else ())
    x = np.random.default_rng(0).uniform(1.0, 2.0, shape).astype(np.float32)
    layer = layer_class(max_width=8, count=2, mask_value=-1.0, seed=3)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    masked = np.asarray(layer(x, training=True))
    changed = masked != x
    assert np.all(masked[changed] == -1.0)
    axis = 1 if layer_class is spela.TimeMasking else 2
    other = tuple(i for i in range(1, len(shape)) if i != axis)
    lines = changed.all(axis=other)  # a masked frame (or bin) is masked entirely
    assert np.array_equal(lines, changed.any(axis=other))
    assert 0 < lines.sum(axis=1).max() <= 16  # two spans of at most 8
    assert changed.any()


def test_masks_differ_between_calls_and_examples():
    x = np.ones((8, 50, 20), np.float32)
    layer = spela.TimeMasking(max_width=10, seed=1)
    first = np.asarray(layer(x, training=True)) == 0
    second = np.asarray(layer(x, training=True)) == 0
    assert not np.array_equal(first, second)
    assert len({first[i].tobytes() for i in range(8)}) > 1


def test_masking_adds_nothing_to_exported_graph():
    inputs = keras.Input((16000,))
    features = spela.MelSpectrogram(16000, n_fft=512, hop_length=160, n_mels=40)(inputs)
    plain = keras.Model(inputs, features)
    augmented = keras.Model(
        inputs, spela.TimeMasking(10)(spela.FrequencyMasking(5, count=2)(features))
    )
    assert tflite_op_names(to_tflite(augmented)) == tflite_op_names(to_tflite(plain))


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_width"):
        spela.TimeMasking(0)
    with pytest.raises(ValueError, match="count"):
        spela.FrequencyMasking(5, count=0)
