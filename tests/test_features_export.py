"""Every feature layer through the TFLite converter, saving and configs."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import spela
import spela.export
from spela.export import run_tflite, tflite_op_names, to_tflite

SAMPLE_RATE = 16000


def _audio(batch=3, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    voice = np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t)) * 0.3
    return (voice + 0.05 * rng.standard_normal((batch, SAMPLE_RATE))).astype(np.float32)


def _front_end(name):
    """A model from raw 1-s audio through the named configuration."""
    inputs = keras.Input((SAMPLE_RATE,))
    mel = {"sample_rate": SAMPLE_RATE, "n_fft": 512, "hop_length": 160, "n_mels": 64}
    if name == "melspectrogram-db-512":
        outputs = spela.MelSpectrogram(**mel, to_db=True)(inputs)
    elif name == "melspectrogram-db-400":
        outputs = spela.MelSpectrogram(**{**mel, "n_fft": 400}, to_db=True, ref="max")(inputs)
    elif name == "melspectrogram-magnitude-htk":
        outputs = spela.MelSpectrogram(**mel, power=1.0, htk=True, norm=None)(inputs)
    elif name == "mfcc-deltas":
        mfcc = spela.MFCC(SAMPLE_RATE, 13, lifter=22, n_fft=512, hop_length=160, n_mels=40)(inputs)
        outputs = keras.layers.Concatenate()(
            [mfcc, spela.Delta()(mfcc), spela.Delta(order=2)(mfcc)]
        )
    elif name == "spectrogram-filterbank-amplitude-db":
        spectrum = spela.Spectrogram(512, hop_length=160, power=1.0)(inputs)
        outputs = spela.AmplitudeToDecibel(top_db=60.0)(
            spela.MelFilterbank(**{k: mel[k] for k in ("sample_rate", "n_fft", "n_mels")})(
                spectrum
            )
        )
    elif name == "pcen":
        energy = spela.MelSpectrogram(**mel, power=1.0)(inputs)
        outputs = spela.PCEN(SAMPLE_RATE, 160)(keras.layers.Rescaling(2.0**31)(energy))
    elif name == "log-mel-to-mfcc-power-db":
        log_mel = spela.PowerToDecibel(ref="max")(spela.MelSpectrogram(**mel)(inputs))
        outputs = spela.LogMelToMFCC(20)(log_mel)
    return keras.Model(inputs, outputs)


NAMES = [
    "melspectrogram-db-512",
    "melspectrogram-db-400",
    "melspectrogram-magnitude-htk",
    "mfcc-deltas",
    "spectrogram-filterbank-amplitude-db",
    "pcen",
    "log-mel-to-mfcc-power-db",
]


def _relative_error(got, want):
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_float32_parity(record_error, name):
    model = _front_end(name)
    flatbuffer = to_tflite(model)
    names = tflite_op_names(flatbuffer)
    assert not [n for n in names if n.startswith("Flex") or n == "CUSTOM"]
    x = _audio()
    want = np.asarray(model(x))
    error = _relative_error(run_tflite(flatbuffer, x), want)
    record_error(f"TFLite float32 parity (relative to max |output|), {name}", error)
    # dB and PCEN outputs go through LOG/EXP: float32, relative to the output range.
    assert error < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("quantize", ["dynamic", "int8"])
def test_quantized_log_mel_matmul(record_error, quantize):
    inputs = keras.Input((SAMPLE_RATE,))
    outputs = spela.MelSpectrogram(
        SAMPLE_RATE, n_fft=512, hop_length=160, n_mels=64, to_db=True, backend="matmul"
    )(inputs)
    model = keras.Model(inputs, outputs)
    calibration = _audio(16, seed=1) if quantize == "int8" else None
    flatbuffer = to_tflite(model, quantize=quantize, representative_data=calibration)
    names = tflite_op_names(flatbuffer)
    if quantize == "int8":
        assert names.count("QUANTIZE") == 1 and names.count("DEQUANTIZE") == 1, names
    x = _audio(seed=2)
    want = np.asarray(model(x))
    error_db = np.abs(run_tflite(flatbuffer, x) - want)
    # An 8-bit linear power spectrum resolves only 10 * log10(255) = 24 dB below the
    # calibrated peak; quieter bins fall to the quantized floor. Within 20 dB of each
    # clip's peak the log-mel is usable; the figures below the range are recorded.
    near_peak = want > want.max(axis=(1, 2), keepdims=True) - 20.0
    record_error(
        f"TFLite {quantize} log-mel, max |dB error| within 20 dB of peak",
        float(error_db[near_peak].max()),
    )
    record_error(
        f"TFLite {quantize} log-mel, median |dB error| over all bins", float(np.median(error_db))
    )
    # dynamic: int8 weights and per-row activations, ~0.1 dB near the peak;
    # int8: signal, DFT and mel steps add up to about 1.5 dB there.
    assert error_db[near_peak].max() < (0.5 if quantize == "dynamic" else 2.5)


def _every_layer_model():
    inputs = keras.Input((8000, 1))
    mel = spela.MelSpectrogram(SAMPLE_RATE, n_fft=400, hop_length=160, n_mels=32)(inputs)
    log_mel = spela.PowerToDecibel()(mel)
    masked = spela.TimeMasking(5)(spela.FrequencyMasking(4)(log_mel))
    spectrum = spela.STFT(256, hop_length=128)(inputs)
    outputs = [
        spectrum,
        spela.InverseSTFT(256, hop_length=128, length=8000)(spectrum),
        spela.AmplitudeToDecibel()(spela.Spectrogram(256, hop_length=128, power=1.0)(inputs)),
        spela.MelFilterbank(SAMPLE_RATE, 256, n_mels=20)(spela.Spectrogram(256)(inputs)),
        spela.Delta(order=2)(spela.LogMelToMFCC(13)(masked)),
        spela.MFCC(SAMPLE_RATE, 13, n_fft=512, hop_length=160, n_mels=40)(inputs),
        spela.PCEN(SAMPLE_RATE, 160, trainable=True)(mel),
    ]
    return keras.Model(inputs, outputs)


def test_save_and_load_every_layer(tmp_path):
    model = _every_layer_model()
    pcen = next(layer for layer in model.layers if isinstance(layer, spela.PCEN))
    pcen.log_gain.assign(pcen.log_gain.numpy() - 0.1)  # as if trained
    path = tmp_path / "every_layer.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = _audio(2)[:, :8000, None]
    for got, want in zip(loaded(x), model(x), strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    registered = {type(layer).__name__ for layer in loaded.layers}
    assert set(spela.layers.__all__) <= registered


@pytest.mark.parametrize("layer_name", spela.layers.__all__)
def test_config_round_trip(layer_name):
    model = _every_layer_model()
    layer = next(layer for layer in model.layers if type(layer).__name__ == layer_name)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_multiple_outputs_keep_model_order():
    inputs = keras.Input((4000,))
    mel = spela.MelSpectrogram(SAMPLE_RATE, n_fft=256, hop_length=128, n_mels=16)(inputs)
    outputs = [spela.PowerToDecibel()(mel), mel, spela.Delta()(mel)]
    model = keras.Model(inputs, outputs)
    x = _audio(1)[:, :4000]
    for got, want in zip(run_tflite(to_tflite(model), x), model(x), strict=True):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-4, atol=1e-4)


def test_keras_normalization_after_log_mel_standardises_and_exports():
    front = spela.MelSpectrogram(SAMPLE_RATE, n_fft=512, hop_length=160, n_mels=32, to_db=True)
    features = np.asarray(front(_audio(6, seed=3)))
    normalization = keras.layers.Normalization(axis=-1)
    normalization.adapt(features)
    inputs = keras.Input((SAMPLE_RATE,))
    model = keras.Model(inputs, normalization(front(inputs)))
    standardised = np.asarray(model(_audio(6, seed=3)))
    np.testing.assert_allclose(standardised.mean(axis=(0, 1)), 0.0, atol=1e-3)
    np.testing.assert_allclose(standardised.std(axis=(0, 1)), 1.0, atol=1e-2)
    x = _audio(1, seed=4)
    np.testing.assert_allclose(run_tflite(to_tflite(model), x), np.asarray(model(x)), atol=1e-4)


def _front_end_and_classifier(backend):
    inputs = keras.Input((SAMPLE_RATE,))
    log_mel = spela.MelSpectrogram(
        SAMPLE_RATE,
        n_fft=512,
        hop_length=160,
        n_mels=40,
        to_db=True,
        ref="max",
        backend=backend,
        name="front",
    )(inputs)
    x = keras.layers.Reshape((101, 40, 1))(keras.layers.Rescaling(1 / 40, offset=1)(log_mel))
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["rfft", "matmul", "auto"])
def test_int8_with_float_front_end(record_error, backend):
    model = _front_end_and_classifier(backend)
    flatbuffer = to_tflite(
        model, quantize="int8", representative_data=_audio(16, seed=5), float_layers=["front"]
    )
    names = tflite_op_names(flatbuffer)
    # The front end runs in float (no QUANTIZE before its log), the classifier in int8.
    first_quantize = names.index("QUANTIZE")
    assert first_quantize > len(names) - 1 - names[::-1].index("LOG"), names
    assert names[first_quantize + 1 :].count("CONV_2D") == 1
    assert ("RFFT2D" in names[:first_quantize]) == (backend == "rfft")
    assert ("BATCH_MATMUL" in names[:first_quantize]) == (backend == "auto")
    x = _audio(4, seed=6)
    want = np.asarray(model(x))
    error = float(np.max(np.abs(run_tflite(flatbuffer, x) - want)))
    record_error(f"TFLite int8 classifier with float front end ({backend}), |probability|", error)
    assert error < 0.05  # int8 steps of a small CNN on probabilities in [0, 1]


def test_float_layers_errors():
    model = _front_end_and_classifier("rfft")
    with pytest.raises(ValueError, match="float_layers applies"):
        to_tflite(model, float_layers=["front"])
    with pytest.raises(ValueError, match="does not have"):
        to_tflite(model, "int8", _audio(2), float_layers=["nope"])
    with pytest.raises(spela.export.ExportError, match="float_layers"):
        to_tflite(model, "int8", _audio(2))
