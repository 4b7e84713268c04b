"""InverseSTFT and ops.istft against librosa.istft, on every route to TFLite."""

from __future__ import annotations

import os

import keras
import librosa
import numpy as np
import pytest
import scipy.signal
import tensorflow as tf
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import spela
from spela import filters, ops
from spela.export import ExportError, run_tflite, tflite_op_names, to_tflite
from tests.test_routes import _routes

WINDOWS = ("hann", "hamming", "blackman", ("kaiser", 8.0))


def _padded_window(window, win_length: int, n_fft: int) -> np.ndarray:
    return librosa.util.pad_center(
        scipy.signal.get_window(window, win_length, fftbins=True), size=n_fft
    )


def _bound(spectrum, n_fft, hop_length, win_length, window, center, length, size):
    """Allowed |spela - librosa| per output sample.

    Both divide float32 overlap-added frames by the overlap-added squared window;
    where that sum is small (the edges) the division magnifies float32 rounding, so
    the bound is a float32 error of the frames over the window-sum librosa divides by.
    """
    frames = spectrum.shape[-1]
    if length:
        padded = length + 2 * (n_fft // 2) if center else length
        frames = min(frames, -(-padded // hop_length))
    window_sum = librosa.filters.window_sumsquare(
        window=window, n_frames=frames, win_length=win_length, n_fft=n_fft, hop_length=hop_length
    )
    window_sum = librosa.util.fix_length(window_sum[n_fft // 2 if center else 0 :], size=size)
    peak = np.abs(np.fft.irfft(spectrum, n=n_fft, axis=-2)).max() + 1e-30
    return 1e-6 * peak * (1 + 1 / np.maximum(window_sum, 1e-30))


@st.composite
def istft_cases(draw):
    n_fft = draw(st.one_of(st.sampled_from([16, 64, 256, 512]), st.integers(2, 600)))
    win_length = draw(st.integers(max(1, n_fft // 2), n_fft))
    hop_length = draw(st.integers(1, max(1, win_length // 2)))
    window = draw(st.sampled_from(WINDOWS))
    padded = _padded_window(window, win_length, n_fft)
    assume(scipy.signal.check_NOLA(padded, n_fft, n_fft - hop_length))
    return {
        "n_fft": n_fft,
        "hop_length": hop_length,
        "win_length": win_length,
        "window": window,
        "center": draw(st.booleans()),
        "length": draw(st.one_of(st.none(), st.integers(1, 4 * n_fft))),
    }


@settings(max_examples=int(os.environ.get("SPELA_ISTFT_EXAMPLES", "60")))
@given(
    case=istft_cases(),
    frames=st.integers(1, 10),
    backend=st.sampled_from(["factored", "matmul", "rfft"]),
    seed=st.integers(0, 2**16),
)
def test_istft_is_librosa_istft(case, frames, backend, seed, record_error):
    n_fft = case["n_fft"]
    rng = np.random.default_rng(seed)
    # Any spectrum, not only an STFT's: imaginary DC and Nyquist parts are ignored by both.
    spectrum = (
        rng.normal(size=(2, n_fft // 2 + 1, frames))
        + 1j * rng.normal(size=(2, n_fft // 2 + 1, frames))
    ).astype(np.complex64)
    want = librosa.istft(spectrum, **case)
    got = ops.istft(
        np.transpose(spectrum.real, (0, 2, 1)),
        np.transpose(spectrum.imag, (0, 2, 1)),
        backend=backend,
        **case,
    ).numpy()
    assert got.shape == want.shape
    bound = _bound(spectrum, size=want.shape[-1], **case)
    error = np.abs(got - want)
    ratio = (error / bound).max(initial=0.0)
    record_error(f"istft vs librosa, backend={backend} (share of the bound)", ratio)
    assert (error <= bound).all(), (error.max(), error[error > bound][:5])


@settings(max_examples=int(os.environ.get("SPELA_ISTFT_EXAMPLES", "60")) // 3)
@given(
    n_fft=st.sampled_from([64, 255, 400, 512]),
    hop_divisor=st.sampled_from([2, 3, 4, 8]),
    window=st.sampled_from(WINDOWS),
    backend=st.sampled_from(["factored", "matmul", "rfft"]),
    channels=st.sampled_from([None, 2]),
    seed=st.integers(0, 2**16),
)
def test_inverse_of_stft_gives_the_signal_back(
    n_fft, hop_divisor, window, backend, channels, seed, record_error
):
    rng = np.random.default_rng(seed)
    shape = (2, 3 * n_fft + 17) + ((channels,) if channels else ())
    signal = rng.uniform(-0.5, 0.5, shape).astype(np.float32)
    arguments = dict(n_fft=n_fft, hop_length=n_fft // hop_divisor, window=window)
    spectrum = spela.STFT(backend=backend, **arguments)(signal)
    restored = spela.InverseSTFT(length=shape[1], backend=backend, **arguments)(spectrum)
    error = np.abs(np.asarray(restored) - signal).max()
    record_error(f"InverseSTFT(STFT(x)) - x, backend={backend} (absolute)", error)
    # Centred frames cover every sample with the middle of a window: the window-sum
    # stays away from zero, and float32 rounding of two transforms is all that is left.
    assert error <= 2e-6


def test_nola_violations_are_refused_as_scipy_states_them():
    checked = 0
    for window in WINDOWS:
        for n_fft, win_length in ((64, 64), (64, 40), (65, 65)):
            padded = _padded_window(window, win_length, n_fft)
            for hop_length in range(1, n_fft + 1):
                nola = scipy.signal.check_NOLA(padded, n_fft, n_fft - hop_length)
                arguments = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length)
                if nola:
                    spela.InverseSTFT(window=window, **arguments)
                else:
                    with pytest.raises(ValueError, match="violates NOLA"):
                        spela.InverseSTFT(window=window, **arguments)
                    checked += 1
    assert checked > 10  # the sweep did meet violations


def test_overlap_add_is_the_sum_of_shifted_frames():
    rng = np.random.default_rng(1)
    for frame_length, hop_length, count in ((8, 2, 5), (7, 3, 4), (5, 5, 3), (9, 4, 1), (6, 7, 3)):
        frames = rng.normal(size=(2, count, frame_length)).astype(np.float32)
        want = np.zeros((2, (count - 1) * hop_length + frame_length), np.float32)
        for t in range(count):
            want[:, t * hop_length : t * hop_length + frame_length] += frames[:, t]
        np.testing.assert_allclose(ops.overlap_add(frames, hop_length), want, atol=1e-6)


def test_filters_window_sumsquare_is_librosas():
    for window, n_fft, win_length, hop, frames in (
        ("hann", 400, 400, 100, 7),
        ("hamming", 64, 50, 9, 3),
    ):
        padded = _padded_window(window, win_length, n_fft)
        want = librosa.filters.window_sumsquare(
            window=window,
            n_frames=frames,
            win_length=win_length,
            n_fft=n_fft,
            hop_length=hop,
            dtype=np.float64,
        )
        np.testing.assert_allclose(filters.window_sumsquare(padded, frames, hop), want, atol=1e-12)


def _denoiser_like(backend, n_fft=512, hop_length=128, samples=4000):
    audio = keras.Input((samples,))
    spectrum = spela.STFT(n_fft, hop_length=hop_length, backend=backend)(audio)
    gain = keras.layers.Dense(1, activation="sigmoid")(
        keras.layers.Lambda(lambda s: s[..., :1])(spectrum)
    )
    restored = spela.InverseSTFT(n_fft, hop_length=hop_length, length=samples, backend=backend)(
        spectrum * gain
    )
    return keras.Model(audio, restored)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["factored", "matmul"])
def test_every_route_runs_the_round_trip_with_builtin_ops(backend, tmp_path, record_error):
    samples = 4000
    audio = keras.Input((samples,))
    spectrum = spela.STFT(512, hop_length=128, backend=backend)(audio)
    restored = spela.InverseSTFT(512, hop_length=128, length=samples, backend=backend)(spectrum)
    model = keras.Model(audio, restored)
    clips = np.random.default_rng(3).uniform(-0.5, 0.5, (5, samples)).astype(np.float32)
    want = librosa.istft(
        librosa.stft(clips, n_fft=512, hop_length=128), hop_length=128, n_fft=512, length=samples
    )
    bounds = {"float32": 2e-5, "float16": 3e-3, "dynamic": 5e-2}
    seen = []
    for route, precision, output in _routes(model, clips, tmp_path, rfft=False):
        error = np.abs(np.asarray(output) - want).max()
        record_error(f"InverseSTFT(STFT) route {precision}, backend={backend} (absolute)", error)
        assert error <= bounds[precision], (route, error)
        seen.append(route)
    assert len(seen) == 12
    names = tflite_op_names(to_tflite(model))
    assert not {n for n in names if n.startswith("Flex") or n in {"RFFT2D", "IRFFT2D"}}, names


def test_rfft_backend_is_refused_by_the_export():
    audio = keras.Input((2000,))
    spectrum = spela.STFT(256, hop_length=64, backend="rfft")(audio)
    model = keras.Model(audio, spela.InverseSTFT(256, hop_length=64, backend="rfft")(spectrum))
    with pytest.raises(ExportError):
        to_tflite(model)


def test_gradients_are_finite_on_speech_and_silence():
    layer = spela.InverseSTFT(256, hop_length=64, length=1000)
    forward = spela.STFT(256, hop_length=64)
    for signal in (np.random.default_rng(4).normal(size=(2, 1000)), np.zeros((2, 1000))):
        spectrum = tf.Variable(forward(signal.astype(np.float32)))
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(spectrum)))
        gradient = tape.gradient(loss, spectrum)
        assert np.isfinite(gradient.numpy()).all()


def test_saved_model_and_config_round_trip(tmp_path):
    model = _denoiser_like("factored")
    clips = np.random.default_rng(5).uniform(-0.5, 0.5, (2, 4000)).astype(np.float32)
    path = tmp_path / "denoiser.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded(clips), model(clips), atol=1e-6)
    layer = spela.InverseSTFT(400, hop_length=100, window=("kaiser", 8.0), length=1234)
    assert spela.InverseSTFT.from_config(layer.get_config()).get_config() == layer.get_config()


def test_bad_input_is_named():
    layer = spela.InverseSTFT(256, hop_length=64)
    with pytest.raises(ValueError, match="129 frequency bins"):
        layer(np.zeros((1, 10, 100, 2), np.float32))
    with pytest.raises(ValueError, match="STFT output"):
        layer(np.zeros((1, 10, 129), np.float32))
    with pytest.raises(ValueError, match="length"):
        spela.InverseSTFT(256, length=0)
    with pytest.raises(ValueError, match="hop_length"):
        spela.InverseSTFT(256, hop_length=300)


@pytest.mark.parametrize("center", [True, False])
def test_any_length_model_matches_librosa_in_keras_and_tflite(center, record_error):
    # A model traced for any length computes the window-sum in the graph instead of
    # taking it as a constant; both must give librosa's signal.
    audio = keras.Input((None, 1))
    spectrum = spela.STFT(400, hop_length=160, center=center)(audio)
    model = keras.Model(audio, spela.InverseSTFT(400, hop_length=160, center=center)(spectrum))
    flatbuffer = to_tflite(model, batch_size=None)
    for samples in (1000, 2345):
        clip = np.random.default_rng(samples).uniform(-0.5, 0.5, (1, samples)).astype(np.float32)
        spectrum = librosa.stft(clip, n_fft=400, hop_length=160, center=center)
        want = librosa.istft(spectrum, n_fft=400, hop_length=160, center=center)[..., None]
        bound = _bound(spectrum, 400, 160, 400, "hann", center, None, want.shape[1])[..., None]
        for route, output in (
            ("keras", np.asarray(model(clip[..., None]))),
            ("tflite", run_tflite(flatbuffer, clip[..., None])),
        ):
            assert output.shape == want.shape, route
            error = np.abs(output - want)
            record_error(
                "istft any-length model vs librosa (share of the bound)", (error / bound).max()
            )
            assert (error <= bound).all(), (route, error.max())
