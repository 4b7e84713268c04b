"""spela.ops graph functions against numpy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

from spela import ops


@given(st.integers(1, 64), st.integers(1, 64), st.integers(0, 200), st.booleans())
def test_frame_matches_slicing(frame_length, hop_length, extra, dynamic):
    samples = frame_length + extra
    x = np.arange(2 * samples, dtype=np.float32).reshape(2, samples)
    if dynamic:
        framed = tf.function(
            lambda s: ops.frame(s, frame_length, hop_length),
            input_signature=[tf.TensorSpec([None, None])],
        )(x)
    else:
        framed = ops.frame(tf.constant(x), frame_length, hop_length)
    count = 1 + (samples - frame_length) // hop_length
    want = np.stack(
        [x[:, t * hop_length : t * hop_length + frame_length] for t in range(count)], 1
    )
    np.testing.assert_array_equal(np.asarray(framed), want)


@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
@pytest.mark.parametrize("n_fft", [2, 7, 16])
def test_pad_center_matches_numpy(pad_mode, n_fft):
    x = np.random.default_rng(0).standard_normal((2, 20)).astype(np.float32)
    want = np.pad(x, [(0, 0), (n_fft // 2, n_fft // 2)], mode=pad_mode)
    np.testing.assert_array_equal(
        np.asarray(ops.pad_center(tf.constant(x), n_fft, pad_mode)), want
    )


@given(st.integers(1, 5000), st.integers(2, 1024), st.integers(1, 1024), st.booleans())
def test_num_frames_counts_frames(samples, n_fft, hop_length, center):
    padded = samples + 2 * (n_fft // 2) if center else samples
    if padded < n_fft:
        return
    starts = range(0, padded - n_fft + 1, hop_length)
    assert ops.num_frames(samples, n_fft, hop_length, center) == len(starts)


def test_fold_unfold_channels_round_trip():
    x = np.random.default_rng(0).standard_normal((2, 30, 3)).astype(np.float32)
    folded = np.asarray(ops.fold_channels(tf.constant(x)))
    assert folded.shape == (6, 30)
    np.testing.assert_array_equal(folded[1 * 3 + 2], x[1, :, 2])
    per_channel = folded.reshape(6, 5, 6)  # e.g. (batch * ch, frames, bins)
    restored = np.asarray(ops.unfold_channels(tf.constant(per_channel), 3))
    assert restored.shape == (2, 5, 6, 3)
    np.testing.assert_array_equal(restored[1, ..., 2], per_channel[1 * 3 + 2])
    moved = np.asarray(ops.unfold_channels(tf.constant(per_channel), 3, axis=-2))
    assert moved.shape == (2, 5, 3, 6)
    np.testing.assert_array_equal(moved[1, :, 2], per_channel[5])


def test_power_and_magnitude():
    real, imag = tf.constant([3.0, 0.0]), tf.constant([4.0, -2.0])
    np.testing.assert_allclose(np.asarray(ops.power(real, imag)), [25.0, 4.0])
    np.testing.assert_allclose(np.asarray(ops.magnitude(real, imag)), [5.0, 2.0])


def test_stft_rejects_bad_signals():
    with pytest.raises(TypeError, match="floating-point"):
        ops.stft(tf.zeros((1, 100), tf.int32), 16)
    with pytest.raises(ValueError, match="batch, samples"):
        ops.stft(tf.zeros((100,)), 16)


def test_import_prints_nothing_beyond_tensorflow():
    def stderr_of(code):
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return [line for line in run.stderr.splitlines() if "00:00" not in line]

    baseline = stderr_of("import tensorflow, keras")
    assert stderr_of("import spela") == baseline


@pytest.mark.parametrize("frame_length, hop_length", [(256, 0), (0, 64), (256, -1)])
def test_frame_rejects_non_positive_sizes(frame_length, hop_length):
    name = "hop_length" if frame_length > 0 else "frame_length"
    with pytest.raises(ValueError, match=name):
        ops.frame(tf.zeros((1, 1000)), frame_length, hop_length)
