"""Hostile input to the layers, ops and export API: a clear error or documented behaviour.

The policy these tests hold is written down in ``docs/errors.md``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

import spela
from spela import ops
from spela.export import run_tflite, tflite_op_names, to_tflite

FLOAT32_MAX = float(np.finfo(np.float32).max)

# Values of the wrong type for any argument, and per kind the values of the right
# type that are out of range. Each kind says what it allows besides: None or a choice.
WRONG_TYPES = st.sampled_from(["x", [], {}, b"1", object()])
INVALID = {
    "size": st.one_of(
        WRONG_TYPES,
        st.booleans(),
        st.floats(allow_nan=True),
        st.integers(max_value=0),
        st.integers(min_value=2**31, max_value=2**70),
    ),
    "positive": st.one_of(
        WRONG_TYPES,
        st.booleans(),
        st.floats(max_value=0.0),
        st.sampled_from([float("nan"), float("inf"), 1e39, -1e39]),
    ),
    "non_negative": st.one_of(
        WRONG_TYPES,
        st.booleans(),
        st.floats(max_value=-1e-9),
        st.sampled_from([float("nan"), float("inf"), 1e39]),
    ),
    "real": st.one_of(WRONG_TYPES, st.sampled_from([float("nan"), float("inf"), -1e39, None])),
    "bool": st.one_of(WRONG_TYPES, st.integers(), st.floats(), st.none()),
    "choice": st.one_of(
        st.text(alphabet="abcdefghij_", min_size=1, max_size=8), st.integers(), st.none()
    ),
    "window": st.one_of(
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.just(()),
        st.text(alphabet="xyz", min_size=1, max_size=5),
        st.tuples(st.just("kaiser"), st.sampled_from([float("nan"), float("inf")])),
    ),
}
STFT_ARGUMENTS = {
    "n_fft": "size",
    "hop_length": "size",
    "win_length": "size",
    "window": "window",
    "center": "bool",
    "pad_mode": "choice",
    "backend": "choice",
}
MEL_ARGUMENTS = {
    "sample_rate": "positive",
    "n_mels": "size",
    "f_min": "non_negative",
    "htk": "bool",
}
LAYERS = {
    spela.STFT: ({"n_fft": 64}, {**STFT_ARGUMENTS, "output_format": "choice"}),
    spela.Spectrogram: ({"n_fft": 64}, {**STFT_ARGUMENTS, "power": "choice"}),
    spela.MelSpectrogram: (
        {"n_fft": 64, "n_mels": 8},
        {
            **STFT_ARGUMENTS,
            **MEL_ARGUMENTS,
            "to_db": "bool",
            "amin": "positive",
            "ref": "positive",
        },
    ),
    spela.MFCC: (
        {"n_fft": 64, "n_mels": 8, "n_mfcc": 4},
        {**MEL_ARGUMENTS, "n_mfcc": "size", "lifter": "non_negative", "dct_norm": "choice"},
    ),
    spela.MelFilterbank: ({"sample_rate": 16000, "n_fft": 64, "n_mels": 8}, MEL_ARGUMENTS),
    spela.LogMelToMFCC: ({"n_mfcc": 4}, {"n_mfcc": "size", "lifter": "non_negative"}),
    spela.PowerToDecibel: ({}, {"amin": "positive", "top_db": "non_negative"}),
    spela.AmplitudeToDecibel: ({}, {"amin": "positive", "ref": "positive"}),
    spela.Delta: ({}, {"width": "size", "order": "size", "axis": "choice"}),
    spela.PCEN: (
        {"sample_rate": 16000, "hop_length": 160},
        {
            "sample_rate": "positive",
            "hop_length": "size",
            "time_constant": "positive",
            "gain": "positive",
            "bias": "positive",
            "power": "positive",
            "eps": "positive",
        },
    ),
    spela.TimeMasking: (
        {"max_width": 4},
        {"max_width": "size", "count": "size", "mask_value": "real"},
    ),
    spela.FrequencyMasking: ({"max_width": 4}, {"max_width": "size", "count": "size"}),
    spela.InverseSTFT: (
        {"n_fft": 64},
        {
            **{k: v for k, v in STFT_ARGUMENTS.items() if k != "pad_mode"},
            "length": "size",
        },
    ),
}
# Values of an invalid kind that the argument accepts on purpose.
ACCEPTED = {
    ("hop_length", None),
    ("win_length", None),
    ("top_db", None),
    ("dct_norm", None),
    ("ref", "max"),
    ("amin", None),  # MelSpectrogram picks amin from power
    ("length", None),
}
CASES = [(cls, name) for cls, (_, arguments) in LAYERS.items() for name in arguments]


@pytest.mark.parametrize(
    ("layer_class", "argument"), CASES, ids=lambda v: getattr(v, "__name__", v)
)
@given(data=st.data())
def test_invalid_constructor_arguments_are_named(layer_class, argument, data):
    base, arguments = LAYERS[layer_class]
    value = data.draw(INVALID[arguments[argument]], label=argument)
    if any(value is v or value == v for a, v in ACCEPTED if a == argument) or (
        not isinstance(value, bool) and value in _valid_choices(argument)
    ):
        return
    with pytest.raises((TypeError, ValueError)) as raised:
        layer_class(**{**base, argument: value})
    assert argument in str(raised.value), str(raised.value)


def _valid_choices(argument):
    return {
        "pad_mode": ops.PAD_MODES,
        "backend": ops.BACKENDS,
        "output_format": ("real_imag", "complex"),
        "axis": ("time", "frequency"),
        "dct_norm": ("ortho",),
        "power": (1, 2),  # the "choice" kind draws integers, and these two are valid
    }.get(argument, ())


def test_sizes_have_upper_bounds_checked_before_allocating():
    # n_fft=2**31 used to allocate until the machine killed the process.
    for n_fft in (2**31, 2**16):
        with pytest.raises(ValueError, match=r"n_fft must be an integer in \[2, 32768\]"):
            spela.Spectrogram(n_fft=n_fft)
    with pytest.raises(ValueError, match="n_fft=16384 is too large for the matmul backend"):
        spela.Spectrogram(n_fft=16384, backend="matmul")
    with pytest.raises(ValueError, match="n_fft=16384 is too large for the matmul backend"):
        spela.Spectrogram(n_fft=16384, trainable=True)
    with pytest.raises(ValueError, match="n_mels"):
        spela.MelSpectrogram(n_fft=512, n_mels=5000)
    with pytest.raises(ValueError, match="frame_length"):
        ops.frame(np.zeros((1, 10), np.float32), 2**20, 1)
    assert spela.Spectrogram(n_fft=32768).n_bins == 16385


def test_frame_rejects_bad_sizes_and_short_static_signals():
    signal = np.zeros((1, 100), np.float32)
    with pytest.raises(ValueError, match="hop_length"):
        ops.frame(signal, 16, 0)
    with pytest.raises(ValueError, match="fewer than frame_length=256"):
        ops.frame(signal, 256, 64)


def test_empty_static_input_is_an_error():
    with pytest.raises(ValueError, match="0 samples"):
        spela.Spectrogram(256, hop_length=64)(np.zeros((1, 0), np.float32))


def test_short_input_to_a_model_of_any_length():
    layer = spela.Spectrogram(256, hop_length=64, center=False)
    model = keras.Sequential([keras.Input((None,)), layer])
    # predict traces with the batch's real length, where the layer checks it...
    with pytest.raises(ValueError, match="100 samples, fewer than n_fft=256"):
        model.predict(np.zeros((2, 100), np.float32), verbose=0)
    assert model.predict(np.ones((1, 320), np.float32), verbose=0).shape == (1, 2, 129)
    # ...and a graph traced for any length (as TFLite runs it) gives zero frames.
    any_length = tf.function(layer, input_signature=[tf.TensorSpec([None, None], tf.float32)])
    assert any_length(tf.zeros((2, 100))).shape == (2, 0, 129)
    assert any_length(tf.zeros((1, 320))).shape == (1, 2, 129)


LAYERS_FOR_NAN = {
    "spectrogram": lambda: spela.Spectrogram(256, hop_length=64),
    "magnitude": lambda: spela.Spectrogram(256, hop_length=64, power=1.0),
    "mel": lambda: spela.MelSpectrogram(16000, n_fft=256, hop_length=64, n_mels=20),
    "mfcc": lambda: spela.MFCC(16000, n_fft=256, hop_length=64, n_mels=20, n_mfcc=8),
    "log-mel top_db": lambda: spela.MelSpectrogram(
        16000, n_fft=256, hop_length=64, n_mels=20, to_db=True, top_db=80.0
    ),
}


@pytest.mark.parametrize("name", list(LAYERS_FOR_NAN))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_propagate_and_never_look_finite(name, bad):
    """The documented NaN/Inf policy: every output that depends on a non-finite
    sample is non-finite; every other output equals the clean result."""
    layer = LAYERS_FOR_NAN[name]()
    clean = np.random.default_rng(0).normal(0, 0.1, (1, 4000)).astype(np.float32)
    dirty = clean.copy()
    dirty[0, 2000] = bad
    expected, got = np.asarray(layer(clean)), np.asarray(layer(dirty))
    hop, half = 64, 128
    touched = np.zeros(expected.shape[1], bool)
    touched[(2000 + half - 256) // hop + 1 : (2000 + half) // hop + 1] = True
    if name in ("log-mel top_db", "mfcc"):  # top_db clips below the whole clip's maximum
        touched[:] = True
    assert not np.isfinite(got[:, touched]).all(axis=-1).any()
    np.testing.assert_allclose(got[:, ~touched], expected[:, ~touched], rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def exported():
    model = keras.Sequential([keras.Input((2000,)), spela.Spectrogram(256, hop_length=128)])
    return model, to_tflite(model)


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (
            np.zeros((4, 1000), np.float32),
            ValueError,
            r"representative_data batch 0 has shape \(4, 1000\)",
        ),
        (np.zeros((4, 2000, 1), np.float32), ValueError, "representative_data batch 0 has shape"),
        (np.zeros((0, 2000), np.float32), ValueError, "representative_data holds no examples"),
        ([], ValueError, "representative_data holds no examples"),
        (
            np.full((2, 2000), np.nan, np.float32),
            ValueError,
            "representative_data batch 0 holds NaN",
        ),
        (np.zeros((2, 2000), np.int16), TypeError, "representative_data batch 0 must be floating"),
        ([[[0.0] * 2000], [0.0] * 3], ValueError, "representative_data batch 1 has shape"),
        (3.0, TypeError, "representative_data must be an array"),
    ],
)
def test_bad_representative_data_is_named(exported, data, error, match):
    model, _ = exported
    with pytest.raises(error, match=match):
        to_tflite(model, quantize="int8", representative_data=data)


def test_representative_data_without_int8_is_refused(exported):
    model, _ = exported
    with pytest.raises(ValueError, match="representative_data applies to quantize='int8' only"):
        to_tflite(model, quantize="float16", representative_data=np.zeros((2, 2000), np.float32))


def test_representative_data_from_a_generator_is_read_once_and_works(exported):
    model, _ = exported
    batches = (
        np.random.default_rng(i).uniform(-0.5, 0.5, (2, 2000)).astype(np.float32) for i in range(3)
    )
    flatbuffer = to_tflite(model, quantize="int8", representative_data=batches)
    assert "QUANTIZE" in tflite_op_names(flatbuffer)


@pytest.mark.parametrize(
    ("inputs", "error", "match"),
    [
        (
            np.zeros((1, 1000), np.float32),
            ValueError,
            r"inputs has shape \(1, 1000\); the model takes \(any, 2000\)",
        ),
        (np.zeros((2000,), np.float32), ValueError, "inputs has shape"),
        (np.zeros((0, 2000), np.float32), ValueError, "empty batch"),
        (np.zeros((1, 2000), np.int16), TypeError, "x / 32768"),
        (np.zeros((1, 2000), np.complex64), TypeError, "floating point"),
        ([[0.0] * 2000, [0.0] * 3], ValueError, "inputs"),
        (
            [np.zeros((1, 2000)), np.zeros((1, 2000))],
            ValueError,
            r"inputs has shape \(2, 1, 2000\)",
        ),
    ],
)
def test_run_tflite_checks_inputs(exported, inputs, error, match):
    _, flatbuffer = exported
    with pytest.raises(error, match=match):
        run_tflite(flatbuffer, inputs)


def test_run_tflite_takes_nested_lists(exported):
    model, flatbuffer = exported
    signal = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 2000))
    got = run_tflite(flatbuffer, signal.tolist())
    np.testing.assert_allclose(
        got, np.asarray(model(signal.astype(np.float32))), rtol=1e-4, atol=1e-4
    )


@given(garbage=st.binary(max_size=256))
def test_garbage_bytes_give_value_errors(garbage):
    with pytest.raises(ValueError, match="model_bytes"):
        tflite_op_names(garbage)
    with pytest.raises(ValueError, match="model_bytes"):
        run_tflite(garbage, np.zeros((1, 10), np.float32))


# Derandomized: a crash here takes the test process down, so CI runs the draws
# checked on this machine (plus 10,000 forked fuzz cases, no crash) rather than new ones.
@settings(derandomize=True)
@given(data=st.data())
def test_damaged_models_give_value_errors_or_run(exported, data):
    _, flatbuffer = exported
    damaged = bytearray(flatbuffer[: data.draw(st.integers(16, len(flatbuffer)), label="cut")])
    for _ in range(data.draw(st.integers(0, 8), label="flips")):
        damaged[data.draw(st.integers(8, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    for call in (
        lambda: tflite_op_names(bytes(damaged)),
        lambda: run_tflite(bytes(damaged), np.zeros((1, 2000), np.float32)),
    ):
        try:
            call()
        except ValueError as error:
            assert "model" in str(error) or "inputs" in str(error)


def test_models_missing_a_root_field_are_refused_not_crashed(exported):
    """LiteRT's interpreter dereferences absent fields: a model whose root table lost
    its subgraphs crashed the process (segmentation fault) before spela checked it."""
    _, flatbuffer = exported
    root = int.from_bytes(flatbuffer[0:4], "little")
    vtable = root - int.from_bytes(flatbuffer[root : root + 4], "little", signed=True)
    fields = (int.from_bytes(flatbuffer[vtable : vtable + 2], "little") - 4) // 2
    refused = 0
    for field in range(fields):
        damaged = bytearray(flatbuffer)
        damaged[vtable + 4 + 2 * field : vtable + 6 + 2 * field] = b"\0\0"
        try:
            run_tflite(bytes(damaged), np.zeros((1, 2000), np.float32))
        except ValueError as error:
            assert "model" in str(error)
            refused += 1
    assert refused >= 2  # at least the operator codes and the subgraphs are needed


def test_model_bytes_of_the_wrong_type():
    for wrong in ("model.tflite", None, 3):
        with pytest.raises(TypeError, match="model_bytes must be the bytes"):
            tflite_op_names(wrong)


def test_errors_page_states_the_limits_the_code_enforces():
    from pathlib import Path

    from spela import filters

    page = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text()
    for name in (
        "MAX_N_FFT",
        "MAX_MATMUL_N_FFT",
        "MAX_N_MELS",
        "MAX_DELTA_WIDTH",
        "MAX_SIGNAL_LENGTH",
    ):
        value = getattr(filters, name)
        assert f"{value:,} (`spela.filters.{name}`)" in page, name
    with pytest.raises(ValueError, match=f"{filters.MAX_N_FFT}"):
        spela.Spectrogram(n_fft=filters.MAX_N_FFT + 1)
    spela.Spectrogram(n_fft=filters.MAX_MATMUL_N_FFT, backend="matmul")
    with pytest.raises(ValueError, match="matmul"):
        spela.Spectrogram(n_fft=filters.MAX_MATMUL_N_FFT + 1, backend="matmul")
