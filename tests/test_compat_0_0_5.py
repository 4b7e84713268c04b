"""spela 0.0.5's layers, kept working: its arguments, layouts and numbers.

The reference below is written from 0.0.5's definitions: a strided
convolution with TensorFlow's ``"same"``/``"valid"`` padding, a periodic Hann
window, ``(batch, freq, time, channels)`` images, and decibels ``10 log10``
relative to each example's maximum, clipped at -80 dB.
"""

from __future__ import annotations

import warnings

import keras
import librosa
import numpy as np
import pytest
import scipy.signal

import spela
from spela.export import run_tflite, tflite_op_names, to_tflite
from spela.melspectrogram import Melspectrogram
from spela.spectrogram import Spectrogram


def legacy_power(x, n_dft, n_hop, padding):
    """``(batch, bins, frames, channels)`` power of ``(batch, channels, samples)``, float64."""
    x = np.asarray(x, np.float64)
    length = x.shape[-1]
    if padding == "same":
        frames = -(-length // n_hop)
        total = max((frames - 1) * n_hop + n_dft - length, 0)
        x = np.pad(x, [(0, 0), (0, 0), (total // 2, total - total // 2)])
    else:
        frames = 1 + (length - n_dft) // n_hop
    starts = np.arange(frames)[:, None] * n_hop
    framed = x[..., starts + np.arange(n_dft)] * scipy.signal.get_window("hann", n_dft)
    return (np.abs(np.fft.rfft(framed, axis=-1)) ** 2).transpose(0, 3, 2, 1)


def legacy_decibels(values):
    decibels = 10 * np.log10(np.maximum(values, 1e-10))
    decibels -= decibels.max(axis=(1, 2, 3), keepdims=True)
    return np.maximum(decibels, -80.0)


def _audio(batch=2, channels=2, samples=3000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.1, (batch, channels, samples)).astype(np.float32)


def _quiet(factory, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return factory(**kwargs)


def _assert_close(got, expected, decibels):
    if decibels:
        audible = expected > -60.0  # float32 powers 60 dB down carry float32 rounding
        np.testing.assert_allclose(got[audible], expected[audible], atol=0.02)
        assert np.all(got >= -80.0 - 1e-4) and np.allclose(got.max(axis=(1, 2, 3)), 0.0)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("power", [2.0, 1.0])
@pytest.mark.parametrize("decibels", [False, True])
@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_spectrogram_equals_0_0_5(padding, power, decibels, layout):
    x = _audio()
    layer = _quiet(
        Spectrogram,
        n_dft=256,
        n_hop=100,
        padding=padding,
        power_spectrogram=power,
        return_decibel_spectrogram=decibels,
        image_data_format=layout,
    )
    expected = legacy_power(x, 256, 100, padding) ** (power / 2)
    if decibels:
        expected = legacy_decibels(expected)
    got = np.asarray(layer(x))
    if layout == "channels_first":
        got = got.transpose(0, 2, 3, 1)
    assert got.shape == expected.shape
    _assert_close(got, expected, decibels)
    assert tuple(layer.compute_output_shape((None, 2, 3000))) == (
        None,
        *np.asarray(layer(x)).shape[1:],
    )


@pytest.mark.parametrize(("power_melgram", "decibels"), [(1.0, False), (2.0, False), (1.0, True)])
def test_melspectrogram_equals_0_0_5(power_melgram, decibels):
    x = _audio(channels=1, samples=8000)
    layer = _quiet(
        Melspectrogram,
        sr=16000,
        n_mels=32,
        fmin=50.0,
        fmax=7000.0,
        power_melgram=power_melgram,
        return_decibel_melgram=decibels,
        n_dft=512,
        n_hop=160,
        image_data_format="channels_last",
    )
    mel = librosa.filters.mel(
        sr=16000, n_fft=512, n_mels=32, fmin=50.0, fmax=7000.0, norm="slaney"
    )
    expected = np.einsum("mf,bftc->bmtc", mel, legacy_power(x, 512, 160, "same"))
    expected = expected ** (power_melgram / 2)
    if decibels:
        expected = legacy_decibels(expected)
    got = np.asarray(layer(x))
    assert got.shape == (2, 32, 50, 1)
    _assert_close(got, expected, decibels)


def test_numerical_differences_from_the_spela_1_layers():
    """What the upgrade page states: 'valid' framing is spela 1's center=False; 0.0.5
    decibels are PowerToDecibel(ref='max', amin=1e-10, top_db=80) of its output,
    10 log10 even for magnitudes; 'same' framing is not librosa's centring."""
    x = _audio(channels=1, samples=4000)
    mono = x[:, 0]
    old = np.asarray(_quiet(Spectrogram, n_dft=256, n_hop=64, padding="valid")(x))[..., 0]
    new = np.asarray(spela.Spectrogram(256, hop_length=64, center=False)(mono))
    np.testing.assert_allclose(old, new.transpose(0, 2, 1), rtol=1e-6, atol=1e-9)

    old_db = _quiet(
        Spectrogram, n_dft=256, n_hop=64, power_spectrogram=1.0, return_decibel_spectrogram=True
    )(x)
    magnitude = spela.Spectrogram(256, hop_length=64, center=False, power=1.0)
    padded = np.pad(mono, [(0, 0), (112, 112)])  # 'same': 62 * 64 + 256 - 4000 zeros
    new_db = spela.PowerToDecibel(ref="max", amin=1e-10, top_db=80.0)(magnitude(padded))
    np.testing.assert_allclose(
        np.asarray(old_db)[..., 0], np.asarray(new_db).transpose(0, 2, 1), atol=1e-4
    )
    twenty_log = spela.AmplitudeToDecibel(ref="max", amin=1e-10, top_db=None)(magnitude(padded))
    ten_log = spela.PowerToDecibel(ref="max", amin=1e-10, top_db=None)(magnitude(padded))
    np.testing.assert_allclose(
        np.asarray(twenty_log), 2 * np.asarray(ten_log), rtol=1e-5, atol=1e-3
    )

    same = np.asarray(_quiet(Spectrogram, n_dft=256, n_hop=64)(x))[..., 0].transpose(0, 2, 1)
    centred = np.asarray(spela.Spectrogram(256, hop_length=64)(mono))
    assert same.shape[1] == 63 and centred.shape[1] == 63
    assert not np.allclose(same, centred, rtol=1e-2)  # frames start 112, not 128, samples early


def test_deprecation_warning_names_the_replacement():
    with pytest.warns(DeprecationWarning, match=r"use spela\.Spectrogram\(n_fft=n_dft"):
        Spectrogram(n_dft=256)
    with pytest.warns(DeprecationWarning, match=r"use spela\.MelSpectrogram\(sample_rate=sr"):
        Melspectrogram(sr=16000, n_dft=256, n_mels=16)


@pytest.mark.parametrize(
    ("factory", "kwargs", "argument"),
    [
        (Spectrogram, {"padding": "causal"}, "padding"),
        (Spectrogram, {"image_data_format": "nhwc"}, "image_data_format"),
        (Spectrogram, {"n_dft": 0}, "n_dft"),
        (Spectrogram, {"return_decibel_spectrogram": 1}, "return_decibel_spectrogram"),
        (Melspectrogram, {"power_spectrogram": 1.0}, "power_spectrogram"),
        (Melspectrogram, {"sr": 0}, "sr"),
    ],
)
def test_bad_0_0_5_arguments_are_named(factory, kwargs, argument):
    with pytest.raises((TypeError, ValueError), match=argument):
        _quiet(factory, **kwargs)


def test_wrong_input_rank_is_named():
    with pytest.raises(ValueError, match=r"\(batch, channels, samples\)"):
        _quiet(Spectrogram, n_dft=256)(np.zeros((2, 3000), np.float32))


def test_save_load_and_tflite(tmp_path):
    inputs = keras.Input((1, 4000))
    outputs = _quiet(
        Melspectrogram, sr=16000, n_mels=24, n_dft=512, n_hop=256, return_decibel_melgram=True
    )(inputs)
    model = keras.Model(inputs, outputs)
    x = _audio(channels=1, samples=4000)
    model.save(tmp_path / "old.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = keras.models.load_model(tmp_path / "old.keras")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-5)
    flatbuffer = to_tflite(model)
    assert not [n for n in tflite_op_names(flatbuffer) if n.startswith("Flex") or n == "RFFT2D"]
    np.testing.assert_allclose(run_tflite(flatbuffer, x), np.asarray(model(x)), atol=2e-3)
