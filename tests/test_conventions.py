"""The claims of docs/conventions.md, checked against each peer."""

from __future__ import annotations

import keras
import librosa
import numpy as np
import tensorflow as tf

import spela


def _audio(batch=2, samples=8000, seed=0):
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (batch, samples)).astype(np.float32)


def _complex(pair):
    pair = np.asarray(pair)
    return pair[..., 0] + 1j * pair[..., 1]


def test_defaults_are_librosa_defaults():
    y = _audio(1, 22050)[0]
    ours = np.asarray(spela.MelSpectrogram(22050)(y[None]))[0]
    theirs = librosa.feature.melspectrogram(y=y.astype(np.float64), sr=22050).T
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * theirs.max())
    mfcc = np.asarray(spela.MFCC(22050)(y[None]))[0]
    np.testing.assert_allclose(
        mfcc, librosa.feature.mfcc(y=y.astype(np.float64), sr=22050).T, atol=2e-3
    )
    stft = _complex(spela.STFT()(y[None]))[0]
    reference = librosa.stft(y.astype(np.float64)).T
    np.testing.assert_allclose(stft, reference, atol=1e-5 * np.abs(reference).max())


def test_uncentred_stft_is_tf_signal_stft():
    x = _audio()
    theirs = tf.signal.stft(x, 512, 160, 512).numpy()
    ours = _complex(spela.STFT(512, hop_length=160, center=False)(x))
    np.testing.assert_allclose(ours, theirs, atol=1e-5 * np.abs(theirs).max())


def test_tf_signal_mel_matrix_is_close_to_htk_without_norm():
    theirs = tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 20.0, 8000.0).numpy()
    ours = spela.filters.mel_filterbank(16000, 512, 64, f_min=20.0, htk=True, norm=None).T
    difference = np.abs(ours - theirs).max()
    assert 0 < difference < 0.5  # same triangles' peaks and edges, other interpolation
    assert np.all(theirs[0] == 0)  # tf.signal zeroes the DC bin
    x = _audio(1, 16000)
    power = np.asarray(spela.Spectrogram(512, hop_length=160)(x))[0]
    relative = np.abs(power @ ours - power @ theirs).max() / (power @ theirs).max()
    assert relative < 5e-3


def test_keras_mel_spectrogram_stft_and_mel():
    x = _audio()
    real, imag = keras.ops.stft(x, 512, 160, 512, window="hann", center=True)
    ours = np.asarray(spela.STFT(512, hop_length=160, pad_mode="reflect")(x))
    scale = np.abs(ours).max()
    np.testing.assert_allclose(ours[..., 0], np.asarray(real), atol=1e-5 * scale)
    np.testing.assert_allclose(ours[..., 1], np.asarray(imag), atol=1e-5 * scale)

    layer = keras.layers.MelSpectrogram(
        fft_length=512,
        sequence_stride=160,
        sequence_length=512,
        sampling_rate=16000,
        num_mel_bins=64,
        power_to_db=False,
    )
    theirs = np.transpose(np.asarray(layer(x[:1])), (0, 2, 1))  # (mels, frames) -> (frames, mels)
    closest = spela.MelSpectrogram(
        16000,
        n_fft=512,
        hop_length=160,
        n_mels=64,
        pad_mode="reflect",
        htk=True,
        norm=None,
        f_min=20.0,
    )
    ours = np.asarray(closest(x[:1]))
    assert np.abs(ours - theirs).max() / theirs.max() < 5e-3


def test_keras_top_db_spans_the_batch_and_spela_the_example():
    loud, quiet = _audio(1, 8000, 1), 1e-3 * _audio(1, 8000, 2)
    batch = np.concatenate([loud, quiet])
    keras_db = np.asarray(
        keras.layers.MelSpectrogram(
            fft_length=512,
            sequence_stride=160,
            sampling_rate=16000,
            num_mel_bins=32,
            power_to_db=True,
            top_db=20.0,
        )(batch)
    )
    spela_db = np.asarray(
        spela.MelSpectrogram(16000, n_fft=512, hop_length=160, n_mels=32, to_db=True, top_db=20.0)(
            batch
        )
    )
    # The quiet clip (-60 dB) is clipped flat at the loud clip's maximum - 20 dB.
    np.testing.assert_allclose(keras_db[1], keras_db[0].max() - 20.0, atol=1e-4)
    assert np.ptp(spela_db[1]) > 10.0  # clipped 20 dB below its own maximum


def test_stft_spectrogram_layer_equals_uncentred_magnitude():
    x = _audio()
    theirs = keras.layers.STFTSpectrogram(
        mode="magnitude",
        frame_length=512,
        frame_step=160,
        fft_length=512,
        periodic=True,
        scaling=None,
        padding="valid",
    )(x[..., None])
    ours = np.asarray(spela.Spectrogram(512, hop_length=160, center=False, power=1.0)(x))
    theirs = np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, atol=5e-5 * theirs.max())
    symmetric = keras.layers.STFTSpectrogram(
        mode="magnitude",
        frame_length=512,
        frame_step=160,
        fft_length=512,
        scaling=None,
        padding="valid",
    )(x[..., None])
    assert np.abs(np.asarray(symmetric) - ours).max() > 1e-3 * theirs.max()  # periodic=False
