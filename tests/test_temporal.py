"""Delta and PCEN against explicit formulas and librosa."""

from __future__ import annotations

import keras
import librosa
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

import spela
from tests import reference


@st.composite
def delta_cases(draw):
    width = draw(st.sampled_from([3, 5, 7, 9, 11]))
    order = draw(st.integers(1, min(3, width - 1)))
    axis = draw(st.sampled_from(["time", "frequency"]))
    frames = draw(st.integers(width if axis == "time" else 1, 40))
    bins = draw(st.integers(width if axis == "frequency" else 1, 24))
    channels = draw(st.sampled_from([None, 2]))
    shape = (draw(st.integers(1, 2)), frames, bins) + ((channels,) if channels else ())
    return width, order, axis, shape


@given(delta_cases(), st.integers(0, 2**16))
def test_delta_matches_polyfit_and_librosa(record_error, case, seed):
    width, order, axis, shape = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    got = np.asarray(spela.Delta(width, order, axis)(x))
    axis_index = {"time": 1, "frequency": 2}[axis]
    want = reference.delta(x, width, order, axis=axis_index)
    scale = np.max(np.abs(x))
    record_error("Delta vs polyfit", np.max(np.abs(got - want)) / scale)
    # Weights up to ~1 over <= 11 float32 terms.
    np.testing.assert_allclose(got, want, atol=1e-5 * scale, rtol=0)
    if order <= 2:  # librosa.feature.delta
        theirs = librosa.feature.delta(
            x.astype(np.float64), width=width, order=order, axis=axis_index
        )
        record_error("Delta vs librosa", np.max(np.abs(got - theirs)) / scale)
        np.testing.assert_allclose(got, theirs, atol=1e-5 * scale, rtol=0)


@given(
    st.sampled_from([8000, 16000, 22050, 48000]),
    st.sampled_from([128, 160, 256, 512]),
    st.floats(0.5, 1.0),
    st.floats(0.5, 10.0),
    st.floats(0.1, 1.0),
    st.floats(0.05, 1.0),
    st.integers(2, 60),
    st.integers(1, 16),
    st.integers(0, 2**16),
)
def test_pcen_matches_recurrence_and_librosa(
    record_error, sample_rate, hop_length, gain, bias, power, time_constant, frames, bins, seed
):
    rng = np.random.default_rng(seed)
    energy = (10.0 ** rng.uniform(-2, 6, (2, frames, bins))).astype(np.float32)
    layer = spela.PCEN(sample_rate, hop_length, gain, bias, power, time_constant)
    got = np.asarray(layer(energy))
    smoothing = spela.filters.pcen_smoothing_coefficient(sample_rate, hop_length, time_constant)
    for example in range(2):
        values = energy[example].astype(np.float64)
        want = reference.pcen(values, smoothing, gain, bias, power, 1e-6)
        theirs = librosa.pcen(
            values.T,
            sr=sample_rate,
            hop_length=hop_length,
            gain=gain,
            bias=bias,
            power=power,
            time_constant=time_constant,
        ).T
        scale = np.max(np.abs(want)) + bias**power
        record_error("PCEN vs recurrence", np.max(np.abs(got[example] - want)) / scale)
        record_error("PCEN vs librosa", np.max(np.abs(got[example] - theirs)) / scale)
        # float32 exp/log of values spanning 8 decades; relative to the output range.
        np.testing.assert_allclose(got[example], want, atol=1e-5 * scale, rtol=0)
        np.testing.assert_allclose(got[example], theirs, atol=1e-5 * scale, rtol=0)


def test_pcen_with_channels_and_trainable_parameters():
    energy = tf.constant(10.0 ** np.random.default_rng(0).uniform(0, 4, (2, 20, 8, 3)), tf.float32)
    layer = spela.PCEN(16000, 160, trainable=True)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(energy))
    gradients = tape.gradient(loss, layer.trainable_weights)
    assert len(layer.trainable_weights) == 4
    assert all(np.all(np.isfinite(g)) and np.any(np.asarray(g) != 0) for g in gradients)
    per_channel = [np.asarray(spela.PCEN(16000, 160)(energy[..., c])) for c in range(3)]
    np.testing.assert_allclose(np.asarray(layer(energy)), np.stack(per_channel, -1), rtol=1e-6)
    assert spela.PCEN(16000, 160).trainable_weights == []


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (lambda: spela.Delta(width=2), ValueError, "width"),
        (lambda: spela.Delta(width=4), ValueError, "odd"),
        (lambda: spela.Delta(width=1), ValueError, "width"),
        (lambda: spela.Delta(width=5, order=5), ValueError, "order"),
        (lambda: spela.Delta(axis="channels"), ValueError, "axis"),
        (lambda: spela.Delta(width=9)(keras.Input((5, 40))), ValueError, "at least 9"),
        (lambda: spela.PCEN(16000, 160, gain=-1.0), ValueError, "gain"),
        (lambda: spela.PCEN(16000, 0), ValueError, "hop_length"),
        (lambda: spela.PCEN(16000, 160, time_constant=0), ValueError, "time_constant"),
        (lambda: spela.PCEN(16000, 160)(keras.Input((None, 40))), ValueError, "static"),
    ],
)
def test_bad_arguments(factory, error, match):
    with pytest.raises(error, match=match):
        factory()
