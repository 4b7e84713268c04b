"""Under Keras's mixed_float16 policy spela's layers still compute in float32 and export alike.

GPU training commonly sets ``keras.mixed_precision.set_global_policy("mixed_float16")``.
Spectral values span far more than float16's range (``amin=1e-10`` is below its
smallest subnormal), so the front end must keep float32 whatever the policy, and
hand float32 to the layers after it, which cast to float16 themselves.
"""

from __future__ import annotations

import keras
import librosa
import numpy as np
import pytest

import spela
from spela.export import run_tflite, to_tflite

LAYER_ARGUMENTS = {
    "PCEN": {"sample_rate": 16000, "hop_length": 160},
    "FrequencyMasking": {"max_width": 4},
    "TimeMasking": {"max_width": 4},
    "MelFilterbank": {"sample_rate": 16000, "n_fft": 512},
}


@pytest.fixture
def mixed_float16():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _layer_classes():
    return [
        name
        for name in spela.__all__
        if isinstance(getattr(spela, name), type)
        and issubclass(getattr(spela, name), keras.layers.Layer)
    ]


def test_the_layers_are_all_checked():
    assert {"STFT", "MelSpectrogram", "PCEN", "InverseSTFT", "MFCC"} <= set(_layer_classes())


@pytest.mark.parametrize("name", _layer_classes())
def test_every_layer_computes_in_float32_under_mixed_float16(name, mixed_float16):
    layer = getattr(spela, name)(**LAYER_ARGUMENTS.get(name, {}))
    assert layer.compute_dtype == "float32", name
    assert layer.variable_dtype == "float32", name


def test_a_mixed_float16_model_keeps_librosa_numerics_and_trains(mixed_float16):
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 16000)).astype(np.float32)
    inputs = keras.Input((16000,))
    features = spela.MelSpectrogram(16000, n_fft=512, hop_length=160, n_mels=40, to_db=True)(
        inputs
    )
    pooled = keras.layers.GlobalAveragePooling1D()(features)
    head = keras.layers.Dense(3)(pooled)
    assert head.dtype == "float16"  # the layers after the front end do use float16
    model = keras.Model(inputs, [features, head])
    ours, _ = model.predict(audio, batch_size=3, verbose=0)
    assert ours.dtype == np.float32
    theirs = librosa.power_to_db(
        librosa.feature.melspectrogram(
            y=audio.astype(np.float64), sr=16000, n_fft=512, hop_length=160, n_mels=40
        )
    ).transpose(0, 2, 1)
    # float32 numerics: within a thousandth of a dB of librosa's float64.
    np.testing.assert_allclose(ours, theirs, atol=1e-3)
    exported = run_tflite(to_tflite(keras.Model(inputs, features)), audio)
    np.testing.assert_allclose(np.asarray(exported), theirs, atol=1e-3)
    classifier = keras.Model(inputs, head)
    classifier.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = classifier.fit(audio, np.array([0, 1, 2, 0]), epochs=2, batch_size=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
