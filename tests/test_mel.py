"""MelFilterbank, MelSpectrogram, MFCC and LogMelToMFCC against formulas and librosa."""

from __future__ import annotations

import warnings

import keras
import librosa
import numpy as np
import pytest
import scipy.fft
from hypothesis import example as hypothesis_example
from hypothesis import given
from hypothesis import strategies as st

import spela
from spela.export import run_tflite, to_tflite
from tests import reference

# dB values are compared only within this many dB of each clip's peak: below it,
# float32 rounding of the power (about 1e-7 of the peak) is a large share of the bin.
DB_COMPARE_RANGE = 60.0
# Within that range the power's relative error is < 1e-7 * 10**6 = 0.1 (worst
# case); measured errors are far smaller, and 0.05 dB = 1.2 % in power.
DB_TOLERANCE = 0.05


@st.composite
def mel_configs(draw):
    sample_rate = draw(st.sampled_from([8000, 16000, 22050, 44100, 48000]))
    n_fft = draw(st.sampled_from([256, 400, 512, 1024]))
    nyquist = sample_rate / 2
    f_min = draw(st.floats(0.0, 0.3)) * nyquist
    f_max = draw(st.one_of(st.none(), st.floats(0.5, 1.0).map(lambda v: v * nyquist)))
    return {
        "sample_rate": sample_rate,
        "n_fft": n_fft,
        "hop_length": draw(st.integers(n_fft // 8, n_fft)),
        "win_length": draw(st.sampled_from([None, n_fft * 3 // 4])),
        "window": draw(st.sampled_from(["hann", "hamming", "blackman"])),
        "center": draw(st.booleans()),
        "pad_mode": draw(st.sampled_from(["constant", "reflect"])),
        "power": draw(st.sampled_from([1.0, 2.0])),
        "n_mels": draw(st.integers(1, 128)),
        "f_min": f_min,
        "f_max": f_max,
        "htk": draw(st.booleans()),
        "norm": draw(st.sampled_from(["slaney", None, 1.0, 2.0])),
        "backend": draw(st.sampled_from(["rfft", "matmul", "factored"])),
    }


def _audio(batch, samples, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / 16000
    x = 0.4 * np.sin(2 * np.pi * 440 * t * (1 + t)) + 0.1 * rng.standard_normal((batch, samples))
    return x.astype(np.float32)


def _nonempty_bands(config) -> np.ndarray:
    """Mel bands whose filter covers a bin by more than rounding (see test_filters)."""
    sample_rate = config["sample_rate"]
    f_max = sample_rate / 2 if config["f_max"] is None else config["f_max"]
    bank = reference.mel_filterbank(
        sample_rate,
        config["n_fft"],
        config["n_mels"],
        config["f_min"] or 0.0,
        f_max,
        config["htk"],
        None,
    )
    return bank.max(axis=1) > 1e-9


def _reference_options(config, hop_length):
    options = dict(config)
    options.pop("backend")
    options["hop_length"] = hop_length
    options["win_length"] = options["win_length"] or options["n_fft"]
    return options


@given(mel_configs(), st.integers(0, 2**16))
def test_mel_spectrogram_matches_reference_and_librosa(record_error, config, seed):
    x = _audio(2, 3000, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        layer = spela.MelSpectrogram(**config)
        got = np.asarray(layer(x))
        assert got.shape == layer.compute_output_shape(x.shape)
        for example in range(2):
            options = _reference_options(config, layer.hop_length)
            want = reference.mel_spectrogram(x[example], **options)
            y, framing = reference.librosa_input(
                x[example].astype(np.float64),
                {
                    "n_fft": config["n_fft"],
                    "hop_length": layer.hop_length,
                    "win_length": config["win_length"],
                    "window": config["window"],
                    "center": config["center"],
                    "pad_mode": config["pad_mode"],
                },
            )
            theirs = librosa.feature.melspectrogram(
                y=y,
                sr=config["sample_rate"],
                **framing,
                power=config["power"],
                n_mels=config["n_mels"],
                fmin=config["f_min"],
                fmax=config["f_max"],
                htk=config["htk"],
                norm=config["norm"],
            ).T
            kept = _nonempty_bands(config)
            scale = np.max(want) + 1e-30
            error = np.max(np.abs(got[example] - want)[:, kept], initial=0.0) / scale
            record_error(f"MelSpectrogram vs formula, backend={config['backend']}", error)
            record_error(
                f"MelSpectrogram vs librosa, backend={config['backend']}",
                np.max(np.abs(got[example] - theirs)) / scale,
            )
            # Relative to the largest band: float32 STFT (~1e-7) then a <= 513-term sum.
            assert error < 1e-5
            np.testing.assert_allclose(got[example], theirs, rtol=0, atol=1e-5 * scale)


@given(
    mel_configs(),
    st.sampled_from([1.0, "max"]),
    st.sampled_from([80.0, None, 40.0]),
    st.integers(0, 2**16),
)
@hypothesis_example(  # one band covers a bin by rounding only; L1 norm scales it to 1
    {
        "sample_rate": 8000,
        "n_fft": 400,
        "hop_length": 50,
        "win_length": None,
        "window": "hann",
        "center": False,
        "pad_mode": "constant",
        "power": 1.0,
        "n_mels": 67,
        "f_min": 1199.9999999999998,
        "f_max": 2000.0,
        "htk": True,
        "norm": 1.0,
        "backend": "rfft",
    },
    1.0,
    80.0,
    0,
)
def test_mel_spectrogram_to_db(record_error, config, ref, top_db, seed):
    x = _audio(2, 3000, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        layer = spela.MelSpectrogram(to_db=True, ref=ref, top_db=top_db, **config)
        got = np.asarray(layer(x))
    for example in range(2):
        linear = reference.mel_spectrogram(
            x[example], **_reference_options(config, layer.hop_length)
        )
        power = linear if config["power"] == 2.0 else linear**2
        amin = 1e-10  # amplitude_to_db's amin=1e-5, squared
        want = reference.power_to_db(power, ref=ref, amin=amin, top_db=top_db)
        if config["power"] == 2.0:
            theirs = librosa.power_to_db(
                linear, ref=np.max if ref == "max" else ref, top_db=top_db
            )
        else:
            theirs = librosa.amplitude_to_db(
                linear, ref=np.max if ref == "max" else ref, top_db=top_db
            )
        compared = (want > want.max() - DB_COMPARE_RANGE) & _nonempty_bands(config)
        error = np.max(np.abs(got[example] - want)[compared], initial=0.0)
        record_error("MelSpectrogram(to_db=True) vs formula [dB, absolute]", error)
        record_error(
            "MelSpectrogram(to_db=True) vs librosa [dB, absolute]",
            np.max(np.abs(got[example] - theirs)[compared], initial=0.0),
        )
        assert error < DB_TOLERANCE
        np.testing.assert_allclose(got[example][compared], theirs[compared], atol=DB_TOLERANCE)
        if top_db is not None:
            assert got[example].min() >= got[example].max() - top_db - 1e-3


@given(
    st.sampled_from([16000, 22050]),
    st.integers(1, 40),
    st.integers(40, 80),
    st.sampled_from(["ortho", None]),
    st.sampled_from([0.0, 22.0]),
    st.integers(0, 2**16),
)
def test_mfcc_matches_dct_of_log_mel_and_librosa(
    record_error, sample_rate, n_mfcc, n_mels, dct_norm, lifter, seed
):
    x = _audio(1, 4000, seed)
    options = {"n_fft": 512, "hop_length": 128, "n_mels": n_mels}
    got = np.asarray(spela.MFCC(sample_rate, n_mfcc, dct_norm, lifter, **options)(x))[0]
    log_mel = reference.power_to_db(
        reference.mel_spectrogram(
            x[0],
            sample_rate,
            512,
            128,
            512,
            "hann",
            True,
            "constant",
            2.0,
            n_mels,
            0.0,
            None,
            False,
            "slaney",
        )
    )
    want = scipy.fft.dct(log_mel, type=2, norm=dct_norm, axis=1)[:, :n_mfcc]
    if lifter:
        want = want * (1 + (lifter / 2) * np.sin(np.pi * np.arange(1, n_mfcc + 1) / lifter))
    theirs = librosa.feature.mfcc(
        y=x[0].astype(np.float64),
        sr=sample_rate,
        n_mfcc=n_mfcc,
        dct_type=2,
        norm=dct_norm,
        lifter=lifter,
        **options,
    ).T
    scale = np.max(np.abs(want))
    record_error("MFCC vs formula", np.max(np.abs(got - want)) / scale)
    record_error("MFCC vs librosa", np.max(np.abs(got - theirs)) / scale)
    # log-mel in float32 carries ~1e-6 relative error near the 80 dB floor; the DCT sums
    # n_mels of them.
    np.testing.assert_allclose(got, want, atol=2e-5 * scale)
    np.testing.assert_allclose(got, theirs, atol=2e-5 * scale)


def test_log_mel_to_mfcc_equals_mfcc():
    x = _audio(2, 4000, 0)
    options = {"n_fft": 512, "hop_length": 160, "n_mels": 40}
    log_mel = spela.MelSpectrogram(16000, to_db=True, **options)(x)
    via_layers = np.asarray(spela.LogMelToMFCC(13, lifter=22)(log_mel))
    direct = np.asarray(spela.MFCC(16000, 13, lifter=22, **options)(x))
    np.testing.assert_allclose(via_layers, direct, rtol=1e-6, atol=1e-4)


def test_mel_filterbank_layer_with_channels(record_error):
    spectrum = np.random.default_rng(0).random((2, 30, 257, 3)).astype(np.float32)
    layer = spela.MelFilterbank(16000, 512, n_mels=40, f_min=50.0, f_max=7600.0, htk=True)
    got = np.asarray(layer(spectrum))
    matrix = reference.mel_filterbank(16000, 512, 40, 50.0, 7600.0, True, "slaney")
    want = np.einsum("btfc,mf->btmc", spectrum.astype(np.float64), matrix)
    record_error("MelFilterbank vs formula", np.max(np.abs(got - want)) / np.max(want))
    assert got.shape == layer.compute_output_shape(spectrum.shape) == (2, 30, 40, 3)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_multichannel_db_reference_is_per_example():
    x = np.stack([_audio(1, 3000, 0)[0], 0.01 * _audio(1, 3000, 1)[0]], axis=-1)[None]
    layer = spela.MelSpectrogram(
        16000, n_fft=512, hop_length=160, n_mels=32, to_db=True, ref="max", top_db=None
    )
    got = np.asarray(layer(x))[0]
    linear = np.stack(
        [
            reference.mel_spectrogram(
                x[0, :, c],
                16000,
                512,
                160,
                512,
                "hann",
                True,
                "constant",
                2.0,
                32,
                0.0,
                None,
                False,
                "slaney",
            )
            for c in range(2)
        ],
        axis=-1,
    )
    want = 10 * np.log10(np.maximum(linear, 1e-10) / linear.max())
    compared = want > want.max() - DB_COMPARE_RANGE
    assert np.max(np.abs(got - want)[compared]) < DB_TOLERANCE


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"f_max": 9000.0}, "Nyquist"),
        ({"f_min": 5000.0, "f_max": 4000.0}, "f_min"),
        ({"n_mels": 0}, "n_mels"),
        ({"norm": "l2"}, "norm"),
        ({"amin": -1e-10, "to_db": True}, "amin"),
        ({"ref": 0.0, "to_db": True}, "ref"),
        ({"top_db": -5.0, "to_db": True}, "top_db"),
        ({"power": 3.0}, "power"),
    ],
)
def test_mel_spectrogram_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spela.MelSpectrogram(16000, n_fft=512, **kwargs)


def test_empty_filters_warn_like_librosa():
    with pytest.warns(UserWarning, match="empty"):
        spela.MelSpectrogram(16000, n_fft=128, n_mels=128)


def test_mfcc_bad_arguments():
    with pytest.raises(ValueError, match="n_mfcc=50 must be <= n_mels=40"):
        spela.MFCC(16000, n_mfcc=50, n_mels=40)
    with pytest.raises(ValueError, match="dct_norm"):
        spela.MFCC(16000, dct_norm="forward")
    with pytest.raises(ValueError, match="lifter"):
        spela.LogMelToMFCC(13, lifter=-1)
    with pytest.raises(ValueError, match="n_mfcc=20"):
        spela.LogMelToMFCC(20)(keras.Input((100, 10)))
    with pytest.raises(ValueError, match="257 frequency bins"):
        spela.MelFilterbank(16000, 512)(keras.Input((100, 100)))


def _librosa_mels(clips, fmin=0.0):
    """librosa's 80-band mel power (n_fft 512, hop 160) of each clip, ``(frames, bands)``."""
    return np.stack(
        [
            librosa.feature.melspectrogram(
                y=c.astype(np.float64), sr=16000, n_fft=512, hop_length=160, n_mels=80, fmin=fmin
            ).T
            for c in clips
        ]
    )


def test_exported_mel_spectrogram_stores_only_the_bands(record_error):
    options = {"n_fft": 512, "hop_length": 160, "n_mels": 80, "f_min": 50.0}
    audio = keras.Input((16000,))
    model = keras.Model(audio, spela.MelSpectrogram(16000, **options)(audio))
    flatbuffer = to_tflite(model)
    # The dense 257 x 80 float32 filterbank alone is 82,240 bytes; the bands, 9,716.
    assert len(flatbuffer) < 120_000, len(flatbuffer)
    x = _audio(2, 16000, 3)
    want = _librosa_mels(x, fmin=50.0)
    got = run_tflite(flatbuffer, x)
    error = np.max(np.abs(got - want)) / np.max(want)
    record_error("MelSpectrogram, banded filterbank in TFLite vs librosa", error)
    # float32 DFT of 512 terms, relative to the largest output.
    assert error < 1e-5


def test_a_frozen_trained_filterbank_is_applied_whole():
    spectrum = np.random.default_rng(1).random((2, 5, 257)).astype(np.float32)
    layer = spela.MelFilterbank(16000, 512, n_mels=40, trainable=True)
    layer.build(spectrum.shape)
    trained = np.random.default_rng(2).random((257, 40)).astype(np.float32)
    layer.filterbank.assign(trained)
    layer.trainable = False
    want = spectrum.astype(np.float64) @ trained
    np.testing.assert_allclose(np.asarray(layer(spectrum)), want, rtol=1e-5)


def test_dynamic_range_export_keeps_the_log_mel_of_float(record_error):
    audio = keras.Input((16000,))
    layer = spela.MelSpectrogram(16000, n_fft=512, hop_length=160, n_mels=80, to_db=True)
    model = keras.Model(audio, layer(audio))
    x = _audio(2, 16000, 4)
    # Per clip, as librosa's power_to_db clips each clip at 80 dB under its own peak.
    want = np.stack([librosa.power_to_db(mels, top_db=80.0) for mels in _librosa_mels(x)])
    got = run_tflite(to_tflite(model, quantize="dynamic"), x)
    error = np.max(np.abs(got - want))
    record_error("MelSpectrogram(to_db=True), dynamic-range TFLite vs librosa [dB]", error)
    # An 8-bit dense filterbank was off by 50 dB here; float blocks keep float32's error.
    assert error < DB_TOLERANCE
