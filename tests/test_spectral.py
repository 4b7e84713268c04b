"""STFT and Spectrogram layers against scipy.signal.stft, plus Keras contracts."""

from __future__ import annotations

import os

import keras
import librosa
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

import spela
from spela import ops
from tests import reference
from tests.strategies import signals, stft_configs

# Float32 DFT sums of n_fft products: error grows like eps * sqrt(n_fft) * ||w|| ||x||;
# relative to that Cauchy-Schwarz bound, 1e-5 leaves a margin above n_fft = 1024.
STFT_TOLERANCE = 1e-5


def _channels_first(values: np.ndarray, has_channels: bool) -> np.ndarray:
    """``(batch, ..., ch[, 2])`` to a list of per-(batch, ch) arrays."""
    if not has_channels:
        return [values[b] for b in range(values.shape[0])]
    return [values[b, :, :, c] for b in range(values.shape[0]) for c in range(values.shape[3])]


def _per_signal(x: np.ndarray, has_channels: bool) -> list[np.ndarray]:
    if not has_channels:
        return list(x)
    return [x[b, :, c] for b in range(x.shape[0]) for c in range(x.shape[2])]


@given(stft_configs(), st.integers(0, 2**16))
def test_stft_matches_scipy(record_error, drawn, seed):
    config, shape = drawn
    x = signals(shape, seed)
    layer = spela.STFT(**config)
    y = np.asarray(layer(x))
    has_channels = shape["channels"] is not None
    frames = spela.ops.num_frames(
        shape["samples"], config["n_fft"], layer.hop_length, config["center"]
    )
    expected_shape = (shape["batch"], frames, config["n_fft"] // 2 + 1)
    expected_shape += ((shape["channels"],) if has_channels else ()) + (2,)
    assert y.shape == expected_shape == layer.compute_output_shape(x.shape)
    options = {k: config[k] for k in ("n_fft", "win_length", "window", "center", "pad_mode")}
    for got, signal in zip(
        _channels_first(y, has_channels), _per_signal(x, has_channels), strict=True
    ):
        want = reference.stft(signal, hop_length=layer.hop_length, **options)
        scale = reference.stft_scale(
            signal, config["n_fft"], config["win_length"], config["window"]
        )
        error = np.max(np.abs(got[..., 0] + 1j * got[..., 1] - want)) / scale
        record_error(f"STFT vs scipy, backend={config['backend']}", error)
        assert error < STFT_TOLERANCE


@given(stft_configs(max_n_fft=512), st.sampled_from([1.0, 2.0]), st.integers(0, 2**16))
def test_spectrogram_matches_scipy(record_error, drawn, power, seed):
    config, shape = drawn
    x = signals(shape, seed)
    layer = spela.Spectrogram(power=power, **config)
    y = np.asarray(layer(x))
    assert y.shape == layer.compute_output_shape(x.shape)
    options = {k: config[k] for k in ("n_fft", "win_length", "window", "center", "pad_mode")}
    has_channels = shape["channels"] is not None
    for got, signal in zip(
        _channels_first(y, has_channels), _per_signal(x, has_channels), strict=True
    ):
        want = np.abs(reference.stft(signal, hop_length=layer.hop_length, **options)) ** power
        scale = reference.stft_scale(
            signal, config["n_fft"], config["win_length"], config["window"]
        )
        # |X|^2 doubles the relative error of |X|; both are bounded by scale^power.
        error = np.max(np.abs(got - want)) / scale**power
        record_error(f"Spectrogram(power={power:g}) vs scipy, backend={config['backend']}", error)
        assert error < 2 * STFT_TOLERANCE


@pytest.mark.parametrize("backend", ["rfft", "matmul", "factored"])
@pytest.mark.parametrize(
    "options",
    [
        {"n_fft": 512, "hop_length": 128},
        {"n_fft": 400, "hop_length": 160, "win_length": 320, "window": "hamming"},
        {"n_fft": 256, "hop_length": 64, "center": False},
        {"n_fft": 255, "hop_length": 100, "pad_mode": "reflect", "window": "blackman"},
    ],
)
def test_stft_matches_librosa(record_error, backend, options):
    x = np.random.default_rng(1).standard_normal(4000).astype(np.float32)
    y = np.asarray(spela.STFT(backend=backend, **options)(x[None]))[0]
    want = librosa.stft(x.astype(np.float64), dtype=np.complex128, **options).T
    error = np.max(np.abs(y[..., 0] + 1j * y[..., 1] - want)) / np.max(np.abs(want))
    record_error(f"STFT vs librosa, backend={backend}", error)
    # Relative to the largest coefficient; float32 over <= 512 terms.
    assert error < 1e-5


def test_complex_output_equals_real_imag():
    x = np.random.default_rng(2).standard_normal((2, 3000, 2)).astype(np.float32)
    pair = np.asarray(spela.STFT(n_fft=256, hop_length=64)(x))
    layer = spela.STFT(n_fft=256, hop_length=64, output_format="complex")
    complex_values = np.asarray(layer(x))
    assert complex_values.dtype == np.complex64
    assert complex_values.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_array_equal(complex_values, pair[..., 0] + 1j * pair[..., 1])
    inputs = keras.Input((3000, 2))
    assert layer(inputs).dtype == "complex64"


def test_auto_backend_choice():
    assert spela.Spectrogram(512).backend == "auto"
    assert spela.Spectrogram(512).resolved_backend == "factored"
    assert spela.Spectrogram(512, trainable=True).backend == "matmul"
    for n_fft in (256, 400, 512, 997):
        assert ops.resolve_backend("auto", n_fft) == "factored"
    assert ops.resolve_backend("auto", 512, trainable=True) == "matmul"
    assert ops.resolve_backend("rfft", 512) == "rfft"


def _traced_op_types(layer, length=2000):
    graph = tf.function(layer).get_concrete_function(tf.TensorSpec([None, length])).graph
    return sorted(op.type for op in graph.get_operations())


def test_auto_backend_traces_the_factored_dft_everywhere(monkeypatch):
    layer = spela.Spectrogram(512, hop_length=128)
    types = _traced_op_types(layer)
    assert "RFFT" not in types and "BatchMatMulV2" in types
    # No machine fact shapes the graph: the same ops whatever the core count.
    for cores in (1, 16):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        assert _traced_op_types(spela.Spectrogram(512, hop_length=128)) == types


def test_symbolic_shapes_and_dynamic_length():
    for length, frames in ((16000, 101), (None, None)):
        inputs = keras.Input((length,))
        assert spela.Spectrogram(512, hop_length=160)(inputs).shape == (None, frames, 257)
    model = keras.Sequential([keras.Input((None,)), spela.Spectrogram(400, hop_length=160)])
    for samples in (1000, 4321):
        y = model(np.zeros((1, samples), np.float32))
        assert y.shape == (1, 1 + samples // 160, 201)


@pytest.mark.parametrize("layer_class", [spela.STFT, spela.Spectrogram])
def test_config_round_trip(layer_class):
    layer = layer_class(
        n_fft=300,
        hop_length=75,
        win_length=280,
        window=("kaiser", 8.0),
        center=False,
        pad_mode="reflect",
        backend="matmul",
        name="front",
    )
    config = layer.get_config()
    clone = layer_class.from_config(config)
    assert clone.get_config() == config
    x = np.random.default_rng(3).standard_normal((1, 2000)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(layer(x)), np.asarray(clone(x)))


def test_save_load_round_trip(tmp_path):
    inputs = keras.Input((4000, 2))
    stft = spela.STFT(n_fft=256, hop_length=128)(inputs)
    spectrogram = spela.Spectrogram(400, hop_length=160, power=1.0, trainable=True)(inputs)
    model = keras.Model(inputs, [stft, spectrogram])
    trained_kernel = model.layers[-1].kernel
    trained_kernel.assign(trained_kernel.numpy() * 1.5)  # as if training changed it
    path = tmp_path / "front.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(4).standard_normal((2, 4000, 2)).astype(np.float32)
    for got, want in zip(loaded(x), model(x), strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    assert [type(layer).__name__ for layer in loaded.layers[1:]] == ["STFT", "Spectrogram"]


def test_trainable_kernel_gets_gradients():
    import tensorflow as tf

    layer = spela.Spectrogram(64, hop_length=16, trainable=True)
    fixed = spela.Spectrogram(64, hop_length=16, backend="matmul")
    x = tf.random.normal((2, 500))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    (gradient,) = tape.gradient(loss, layer.trainable_weights)
    assert gradient.shape == (64, 66) and np.any(np.asarray(gradient) != 0)
    fixed(x)
    assert fixed.trainable_weights == [] and len(fixed.non_trainable_weights) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_fft": 1}, ValueError, "n_fft"),
        ({"n_fft": 512.0}, TypeError, "n_fft"),
        ({"n_fft": 512, "hop_length": 0}, ValueError, "hop_length"),
        ({"n_fft": 512, "hop_length": -3}, ValueError, "hop_length"),
        ({"n_fft": 512, "hop_length": 600}, ValueError, "hop_length"),
        ({"n_fft": 512, "win_length": 513}, ValueError, "win_length"),
        ({"n_fft": 512, "window": "nope"}, ValueError, "window"),
        ({"n_fft": 512, "pad_mode": "edge"}, ValueError, "pad_mode"),
        ({"n_fft": 512, "backend": "fft"}, ValueError, "backend"),
        ({"n_fft": 512, "backend": "rfft", "trainable": True}, ValueError, "trainable"),
        ({"n_fft": 512, "backend": "factored", "trainable": True}, ValueError, "trainable"),
        ({"n_fft": 512, "power": 3}, ValueError, "power"),
        ({"n_fft": 512, "center": "yes"}, TypeError, "center"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        spela.Spectrogram(**kwargs)


def test_bad_stft_output():
    with pytest.raises(ValueError, match="output_format"):
        spela.STFT(256, output_format="polar")


@pytest.mark.parametrize(
    ("shape", "kwargs", "match"),
    [
        ((16000, 1, 1), {}, "batch, samples"),
        ((), {}, "batch, samples"),
        ((100,), {"n_fft": 512, "center": False}, "fewer than n_fft"),
        ((200,), {"n_fft": 512, "pad_mode": "reflect"}, "reflect"),
    ],
)
def test_bad_input_shapes(shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        spela.Spectrogram(**kwargs)(keras.Input(shape))


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match="floating-point"):
        spela.Spectrogram(256)(np.zeros((1, 1000), np.int16))
