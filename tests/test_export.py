"""TFLite conversion with builtin ops only, and interpreter parity with Keras."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import spela
from spela.export import ExportError, run_tflite, tflite_op_names, to_tflite

SAMPLES = 4000

CONFIGS = {
    "spectrogram-auto-512": (spela.Spectrogram, {"n_fft": 512, "hop_length": 256}),
    "spectrogram-rfft-512": (
        spela.Spectrogram,
        {"n_fft": 512, "hop_length": 256, "backend": "rfft"},
    ),
    "spectrogram-auto-400-magnitude": (
        spela.Spectrogram,
        {"n_fft": 400, "hop_length": 160, "power": 1.0, "window": "hamming"},
    ),
    "spectrogram-matmul-400-magnitude": (
        spela.Spectrogram,
        {"n_fft": 400, "hop_length": 160, "power": 1.0, "window": "hamming", "backend": "matmul"},
    ),
    "spectrogram-matmul-512-reflect": (
        spela.Spectrogram,
        {"n_fft": 512, "hop_length": 128, "backend": "matmul", "pad_mode": "reflect"},
    ),
    "stft-rfft-256-win200": (
        spela.STFT,
        {
            "n_fft": 256,
            "hop_length": 64,
            "win_length": 200,
            "window": "blackman",
            "backend": "rfft",
        },
    ),
    "stft-factored-256-win200": (
        spela.STFT,
        {"n_fft": 256, "hop_length": 64, "win_length": 200, "window": "blackman"},
    ),
    "stft-matmul-300-uncentred": (
        spela.STFT,
        {"n_fft": 300, "hop_length": 100, "center": False, "backend": "matmul"},
    ),
    "stft-factored-300-uncentred": (
        spela.STFT,
        {"n_fft": 300, "hop_length": 100, "center": False, "backend": "factored"},
    ),
    "spectrogram-matmul-trainable": (
        spela.Spectrogram,
        {"n_fft": 256, "hop_length": 128, "trainable": True},
    ),
}
# The op that computes the DFT in the exported graph, per backend.
DFT_OPS = {"rfft": "RFFT2D", "matmul": "FULLY_CONNECTED", "factored": "BATCH_MATMUL"}

# Per quantization mode: maximum error relative to the largest Keras output value.
# float32: same arithmetic up to summation order (1e-5); float16 weights carry 11-bit
# mantissas (about 5e-4 relative per kernel value); dynamic-range and full int8 use
# 8-bit steps of the DFT kernel and, for int8, of the signal and spectrum (a few %).
TOLERANCES = {None: 1e-5, "float16": 2e-3, "dynamic": 3e-2, "int8": 3e-2}
# The factored DFT rounds its intermediate spectrum to 8 bits between two matrix stages.
FACTORED_INT8_TOLERANCE = 4e-2
# A magnitude taken in int8 is sqrt of an 8-bit power: its first step above zero is
# sqrt(1 / 255) = 6.3 % of the largest value.
INT8_MAGNITUDE_TOLERANCE = 8e-2


def _model(layer_class, options, channels=None):
    shape = (SAMPLES,) if channels is None else (SAMPLES, channels)
    inputs = keras.Input(shape)
    return keras.Model(inputs, layer_class(**options)(inputs))


def _exported_backend(layer):
    return layer.resolved_backend


def _signals(batch=3, channels=None, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(SAMPLES) / 16000
    chirp = np.sin(2 * np.pi * (200 + 3000 * t) * t)
    x = 0.5 * chirp + 0.1 * rng.standard_normal((batch, SAMPLES))
    if channels is not None:
        x = np.stack([x * (0.5 + c) for c in range(channels)], axis=-1)
    return x.astype(np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("channels", [None, 2])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_float32_parity_with_builtin_ops(record_error, name, channels):
    layer_class, options = CONFIGS[name]
    model = _model(layer_class, options, channels)
    x = _signals(channels=channels)
    flatbuffer = to_tflite(model)
    names = tflite_op_names(flatbuffer)
    assert not [n for n in names if n.startswith("Flex") or n == "CUSTOM"], names
    backend = _exported_backend(model.layers[-1])
    for other, op in DFT_OPS.items():
        assert (op in names) == (other == backend), (backend, names)
    want = np.asarray(model(x))
    got = run_tflite(flatbuffer, x)
    error = np.max(np.abs(got - want)) / np.max(np.abs(want))
    record_error(f"TFLite float32 parity, backend={backend}", error)
    assert got.shape == want.shape
    assert error < TOLERANCES[None]


@pytest.mark.slow
@pytest.mark.parametrize("quantize", ["float16", "dynamic", "int8"])
@pytest.mark.parametrize(
    "name",
    [
        "spectrogram-matmul-400-magnitude",
        "spectrogram-matmul-512-reflect",
        "stft-matmul-300-uncentred",
        "spectrogram-auto-400-magnitude",
        "spectrogram-auto-512",
        "stft-factored-300-uncentred",
    ],
)
def test_quantized_parity(record_error, name, quantize):
    layer_class, options = CONFIGS[name]
    model = _model(layer_class, options)
    calibration = _signals(8, seed=1) if quantize == "int8" else None
    flatbuffer = to_tflite(model, quantize=quantize, representative_data=calibration)
    names = tflite_op_names(flatbuffer)
    backend = _exported_backend(model.layers[-1])
    assert DFT_OPS[backend] in names and not [n for n in names if n.startswith("Flex")]
    x = _signals(seed=2)
    want = np.asarray(model(x))
    got = run_tflite(flatbuffer, x)
    error = np.max(np.abs(got - want)) / np.max(np.abs(want))
    magnitude = options.get("power") == 1.0
    record_error(f"TFLite {quantize} parity, backend={backend}, {name}", error)
    if quantize == "int8" and magnitude:
        assert error < INT8_MAGNITUDE_TOLERANCE
    elif quantize == "int8" and backend == "factored":
        assert error < FACTORED_INT8_TOLERANCE
    else:
        assert error < TOLERANCES[quantize]


@pytest.mark.slow
def test_rfft_backend_float16_parity(record_error):
    model = _model(*CONFIGS["spectrogram-rfft-512"])
    flatbuffer = to_tflite(model, quantize="float16")
    x = _signals()
    want = np.asarray(model(x))
    error = np.max(np.abs(run_tflite(flatbuffer, x) - want)) / np.max(np.abs(want))
    record_error("TFLite float16 parity, backend=rfft", error)
    assert error < TOLERANCES["float16"]


@pytest.mark.parametrize("backend", ["matmul", "factored"])
def test_int8_is_fully_integer(backend):
    model = _model(spela.Spectrogram, {"n_fft": 256, "hop_length": 128, "backend": backend})
    flatbuffer = to_tflite(model, quantize="int8", representative_data=_signals(4))
    names = tflite_op_names(flatbuffer)
    # Only the float boundary is converted; everything between runs in int8.
    assert names[0] == "QUANTIZE" and names[-1] == "DEQUANTIZE"
    assert names.count("QUANTIZE") == 1 and names.count("DEQUANTIZE") == 1


def test_dynamic_batch_export():
    model = _model(spela.Spectrogram, {"n_fft": 400, "hop_length": 160})
    flatbuffer = to_tflite(model, batch_size=None)
    x = _signals(batch=5)
    np.testing.assert_allclose(
        run_tflite(flatbuffer, x),
        np.asarray(model(x)),
        rtol=1e-4,
        atol=1e-4 * np.max(np.asarray(model(x))),
    )


def test_rfft_with_non_power_of_two_is_refused_at_export():
    model = _model(spela.Spectrogram, {"n_fft": 400, "backend": "rfft"})
    with pytest.raises(ExportError, match=r"n_fft=400.*power-of-two"):
        to_tflite(model)


def test_rfft_in_user_graph_with_non_power_of_two_is_refused():
    inputs = keras.Input((1000,))
    outputs = keras.layers.Lambda(lambda x: tf.abs(tf.signal.rfft(x, fft_length=[400])))(inputs)
    with pytest.raises(ExportError, match=r"RFFT2D.*400"):
        to_tflite(keras.Model(inputs, outputs))


def test_int8_with_rfft_is_refused():
    model = _model(spela.Spectrogram, {"n_fft": 512, "backend": "rfft"})
    with pytest.raises(ExportError, match=r"int8.*matmul"):
        to_tflite(model, quantize="int8", representative_data=_signals())


def test_flex_ops_are_named():
    inputs = keras.Input((16,), dtype="complex64")
    outputs = keras.layers.Lambda(lambda x: tf.math.real(tf.math.conj(x)))(inputs)
    with pytest.raises(ExportError, match="Conj"):
        to_tflite(keras.Model(inputs, outputs))


def test_bad_export_arguments():
    model = _model(spela.Spectrogram, {"n_fft": 256, "backend": "matmul"})
    with pytest.raises(ValueError, match="quantize"):
        to_tflite(model, quantize="int4")
    with pytest.raises(ValueError, match="representative_data"):
        to_tflite(model, quantize="int8")
    with pytest.raises(ValueError, match="batch_size"):
        to_tflite(model, batch_size=0)
