"""The contract on every route a user takes: batch sizes, export routes, float16, gradients.

Each test here names the failure it guards against; the hypothesis route
matrix at the end crosses drawn layer configurations with every route.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import librosa
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import example, given, settings
from hypothesis import strategies as st

import spela
from spela.export import run_tflite, tflite_op_names, to_tflite, with_metadata
from spela_tflite import read_model
from tests import reference

SAMPLE_RATE = 16000
BUILTIN_FAST_DFT = {"BATCH_MATMUL"}
SLOW_OR_FOREIGN = {"RFFT2D", "SPLIT", "SPLIT_V", "CUSTOM"}


def _clips(count: int, samples: int = SAMPLE_RATE, seed: int = 0, silent_half=False):
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / SAMPLE_RATE
    voice = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    clips = voice + 0.05 * rng.standard_normal((count, samples))
    if silent_half:
        clips[:, samples // 2 :] = 0.0
    return clips.astype(np.float32)


def _librosa_mel(clip, **kwargs):
    return librosa.feature.melspectrogram(y=clip.astype(np.float64), sr=SAMPLE_RATE, **kwargs).T


def _model(layer, samples=SAMPLE_RATE):
    inputs = keras.Input((samples,))
    return keras.Model(inputs, layer(inputs))


def _assert_builtin(op_names, rfft=False):
    """Builtin ops only, without the batch-splitting copies; RFFT2D only if asked for."""
    unwanted = SLOW_OR_FOREIGN - ({"RFFT2D"} if rfft else set())
    foreign = [name for name in op_names if name.startswith("Flex") or name in unwanted]
    assert not foreign, op_names


# -- 1. predict and fit at any batch size -------------------------------------------------


def test_predict_and_fit_with_partial_and_single_batches():
    layer_args = dict(n_fft=512, hop_length=160, pad_mode="reflect")
    model = _model(spela.MelSpectrogram(SAMPLE_RATE, **layer_args))
    clips = _clips(3)
    want = np.stack([_librosa_mel(c, **layer_args) for c in clips])
    scale = want.max()
    for batch_size in (1, 2, 3):
        got = model.predict(clips, batch_size=batch_size, verbose=0)
        # float32 DFT of 512 terms, relative to the largest output.
        assert np.max(np.abs(got - want)) / scale < 1e-5
    assert model.predict(clips[:1], verbose=0).shape == (1, 101, 128)

    head = keras.layers.Dense(2)(keras.layers.Flatten()(model.outputs[0]))
    classifier = keras.Model(model.inputs, head)
    classifier.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = classifier.fit(clips, np.array([0, 1, 0]), batch_size=1, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# -- 2. every export route gives the same builtin, fast graph ------------------------------


def _export_routes(model, tmp_path):
    """``{route: flatbuffer}`` for every way a user converts a Keras model."""
    litert = tmp_path / "keras.tflite"
    model.export(str(litert), format="litert", verbose=False)
    saved = tmp_path / "saved"
    model.export(str(saved), format="tf_saved_model", verbose=False)
    return {
        "spela.export.to_tflite": to_tflite(model),
        "keras model.export(litert)": litert.read_bytes(),
        "TFLiteConverter.from_keras_model": tf.lite.TFLiteConverter.from_keras_model(
            model
        ).convert(),
        "TFLiteConverter.from_saved_model": tf.lite.TFLiteConverter.from_saved_model(
            str(saved)
        ).convert(),
    }


def test_every_export_route_gives_the_factored_dft(tmp_path, record_error):
    layer_args = dict(n_fft=512, hop_length=160, n_mels=64)
    model = _model(spela.MelSpectrogram(SAMPLE_RATE, **layer_args))
    clips = _clips(2)
    want = np.stack([_librosa_mel(c, **layer_args) for c in clips])
    for route, flatbuffer in _export_routes(model, tmp_path).items():
        names = tflite_op_names(flatbuffer)
        _assert_builtin(names)
        assert BUILTIN_FAST_DFT <= set(names), (route, names)
        features = run_tflite(flatbuffer, clips)
        error = np.max(np.abs(features - want)) / want.max()
        record_error(f"export route {route} vs librosa (mel)", error)
        # float32 DFT and filterbank, relative to the largest output.
        assert error < 1e-5, route
        tagged = with_metadata(flatbuffer, {"route": route.encode()})
        assert read_model(tagged).metadata()["route"] == route.encode()
        np.testing.assert_array_equal(run_tflite(tagged, clips), features, err_msg=route)


# -- 3. float16 exports keep amin, top_db and PCEN's eps -----------------------------------


def test_float16_power_to_db_keeps_the_floor():
    model = keras.Sequential([keras.Input((6,)), spela.PowerToDecibel()])
    power = np.array([[0.0, 1e-12, 1e-9, 1e-4, 0.5, 1e-3]], np.float32)
    want = librosa.power_to_db(power.astype(np.float64))
    got = run_tflite(to_tflite(model, quantize="float16"), power)
    assert np.all(np.isfinite(got))
    # dB values are float16-exact constants plus a float32 log: 0.01 dB.
    np.testing.assert_allclose(got, want, atol=0.01)


@pytest.mark.parametrize("kind", ["mel-db", "mfcc", "pcen", "amplitude-db"])
def test_float16_features_on_a_clip_with_a_silent_half(kind, record_error):
    mel_args = dict(sample_rate=SAMPLE_RATE, n_fft=512, hop_length=160, n_mels=64)
    if kind == "mel-db":
        layer = spela.MelSpectrogram(**mel_args, to_db=True)
    elif kind == "amplitude-db":
        layer = spela.MelSpectrogram(**mel_args, power=1.0, to_db=True, top_db=None)
    elif kind == "mfcc":
        layer = spela.MFCC(**mel_args)
    else:
        inputs = keras.Input((SAMPLE_RATE,))
        energy = spela.MelSpectrogram(**mel_args, power=1.0)(inputs)
        layer = keras.Sequential([keras.Model(inputs, energy), spela.PCEN(SAMPLE_RATE, 160)])
    model = layer if kind == "pcen" else _model(layer)
    clips = _clips(2, silent_half=True)
    want = np.asarray(model(clips))
    got = run_tflite(to_tflite(model, quantize="float16"), clips)
    assert np.all(np.isfinite(got))
    spread = want.max() - want.min()
    error = np.max(np.abs(got - want)) / spread
    record_error(f"float16 {kind} vs Keras, relative to the output range", error)
    # float16 stores the window, DFT and mel constants with 11 significant bits:
    # their rounding leaks about -90 dB of the peak into every bin.
    assert error < 2e-3
    if kind.endswith("db"):
        below_peak = want.max(axis=(1, 2), keepdims=True) - want
        for depth, bound in ((30.0, 0.01), (60.0, 0.15)):
            decibels = np.max(np.abs(got - want)[below_peak <= depth])
            record_error(f"float16 {kind} vs Keras within {depth:g} dB of the peak (dB)", decibels)
            assert decibels < bound


# -- 4. gradients are finite on silence ----------------------------------------------------


@pytest.mark.parametrize("backend", ["rfft", "factored", "matmul", "trainable"])
@pytest.mark.parametrize("layer_class", [spela.Spectrogram, spela.MelSpectrogram])
def test_magnitude_gradients_are_finite_on_silence(backend, layer_class):
    options = {"trainable": True} if backend == "trainable" else {"backend": backend}
    if layer_class is spela.MelSpectrogram:
        options["sample_rate"] = SAMPLE_RATE
    layer = layer_class(n_fft=256, hop_length=64, power=1.0, **options)
    signal = tf.Variable(_clips(2, samples=2000, silent_half=True))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(signal))
    gradients = tape.gradient(loss, [signal, *layer.trainable_weights])
    for gradient in gradients:
        assert np.all(np.isfinite(gradient))
    assert np.any(np.asarray(gradients[0]) != 0)


# -- 5. librosa where the docs say librosa -------------------------------------------------


def test_mfcc_of_magnitudes_is_power_to_db_as_librosa(record_error):
    clip = _clips(1)[0]
    layer = spela.MFCC(SAMPLE_RATE, n_mfcc=13, n_fft=512, hop_length=160, n_mels=40, power=1.0)
    got = np.asarray(layer(clip[None]))[0]
    want = librosa.feature.mfcc(
        y=clip.astype(np.float64),
        sr=SAMPLE_RATE,
        n_mfcc=13,
        n_fft=512,
        hop_length=160,
        n_mels=40,
        power=1.0,
    ).T
    error = np.max(np.abs(got - want)) / np.ptp(want)
    record_error("MFCC(power=1) vs librosa, relative to the range", error)
    # float32 log-mel through an orthonormal DCT of 40 bands.
    assert error < 1e-4


def test_default_hop_is_a_quarter_of_win_length():
    clip = _clips(1, samples=4000)[0]
    layer = spela.Spectrogram(n_fft=512, win_length=256)
    assert layer.hop_length == 64
    got = np.asarray(layer(clip[None]))[0]
    want = np.abs(librosa.stft(clip.astype(np.float64), n_fft=512, win_length=256)).T ** 2
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5 * want.max())


@pytest.mark.parametrize("n_fft", [255, 257, 401])
def test_frame_count_for_odd_n_fft(n_fft):
    for samples in (1000, 1001, 1003):
        want = librosa.stft(np.zeros(samples), n_fft=n_fft, hop_length=2).shape[-1]
        assert spela.ops.num_frames(samples, n_fft, 2, True) == want
        layer = spela.Spectrogram(n_fft=n_fft, hop_length=2)
        assert layer.compute_output_shape((1, samples))[1] == want
        assert layer(np.zeros((1, samples), np.float32)).shape[1] == want


def test_pcen_with_a_time_constant_far_below_one_frame():
    energy = 10.0 ** np.random.default_rng(0).uniform(-2, 4, (1, 30, 8))
    got = np.asarray(spela.PCEN(22050, 512, time_constant=1e-5)(energy.astype(np.float32)))
    theirs = librosa.pcen(energy[0].T, sr=22050, hop_length=512, time_constant=1e-5).T
    smoothing = spela.filters.pcen_smoothing_coefficient(22050, 512, 1e-5)
    want = reference.pcen(energy[0].astype(np.float32), smoothing, 0.98, 2.0, 0.5, 1e-6)
    assert np.all(np.isfinite(got))
    # float32 exp/log against the float64 recurrence, relative to the output range.
    np.testing.assert_allclose(got[0], want, atol=2e-5 * np.ptp(want))
    # librosa's own filter is 2e-4 of the range off the exact recurrence here.
    np.testing.assert_allclose(got[0], theirs, atol=5e-4 * np.ptp(want))


# -- 6. no configuration aborts the process ------------------------------------------------


def test_matmul_backend_with_one_frame_and_a_long_kernel_runs():
    code = textwrap.dedent(
        """
        import numpy as np, spela
        for backend in ("matmul", "auto"):
            for trainable in (False, True):
                options = {"trainable": True} if trainable else {"backend": backend}
                layer = spela.STFT(n_fft=2048, hop_length=512, center=False, **options)
                out = layer(np.ones((2, 2048), np.float32))
                assert out.shape == (2, 1, 1025, 2), out.shape
                layer = spela.STFT(n_fft=2048, hop_length=512, **options)
                assert layer(np.ones((2, 3), np.float32)).shape == (2, 1, 1025, 2)
        print("ran")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and "ran" in result.stdout, result.stderr[-2000:]


# -- the route matrix ----------------------------------------------------------------------

FAMILIES = ("stft", "spectrogram", "melspectrogram", "mfcc", "pcen", "decibel")
# Linear outputs are compared relative to their largest magnitude, dB, MFCC and PCEN
# outputs relative to their range (max - min).
LINEAR_FAMILIES = ("stft", "spectrogram")


@st.composite
def route_configs(draw):
    """A layer family, its STFT options and the options of its own."""
    family = draw(st.sampled_from(FAMILIES))
    n_fft = draw(st.sampled_from([64, 100, 255, 256, 400, 512]))
    backends = ["auto", "factored", "matmul"] + (["rfft"] if n_fft & (n_fft - 1) == 0 else [])
    win_length = draw(st.sampled_from([None, (3 * n_fft) // 4]))
    stft = {
        "n_fft": n_fft,
        "hop_length": draw(st.sampled_from([None, n_fft // 3, n_fft // 2])),
        "win_length": win_length,
        "window": draw(st.sampled_from(["hann", "hamming"])),
        "center": draw(st.booleans()),
        "pad_mode": draw(st.sampled_from(["constant", "reflect"])),
        "backend": draw(st.sampled_from(backends)),
    }
    own = {}
    if family in ("spectrogram", "melspectrogram", "decibel", "pcen"):
        own["power"] = 1.0 if family == "pcen" else draw(st.sampled_from([1.0, 2.0]))
    if family in ("melspectrogram", "mfcc", "pcen"):
        own["n_mels"] = draw(st.sampled_from([16, 32]))
    if family == "melspectrogram":
        own["to_db"] = draw(st.booleans())
    if family in ("melspectrogram", "decibel"):
        own["ref"] = draw(st.sampled_from([1.0, "max"]))
        own["top_db"] = draw(st.sampled_from([None, 80.0]))
    if family == "mfcc":
        own["n_mfcc"] = 13
        own["power"] = draw(st.sampled_from([1.0, 2.0]))
    samples = draw(st.integers(min_value=n_fft + 1, max_value=2400))
    silent = draw(st.booleans())
    return family, stft, own, samples, silent


def _route_layer(family, stft, own):
    sr = {"sample_rate": SAMPLE_RATE}
    if family == "stft":
        return spela.STFT(**stft)
    if family == "spectrogram":
        return spela.Spectrogram(**stft, **own)
    if family == "melspectrogram":
        return spela.MelSpectrogram(**sr, **stft, **own)
    if family == "mfcc":
        return spela.MFCC(**sr, **stft, **own)
    if family == "pcen":
        mel = spela.MelSpectrogram(**sr, **stft, **own)
        return keras.Sequential([mel, spela.PCEN(SAMPLE_RATE, mel.hop_length)])
    decibels = spela.PowerToDecibel if own["power"] == 2.0 else spela.AmplitudeToDecibel
    spectrum = spela.Spectrogram(**stft, power=own["power"])
    return keras.Sequential([spectrum, decibels(ref=own["ref"], top_db=own["top_db"])])


def _route_reference(family, stft, own, clip):
    """librosa's output for one clip, laid out as spela's ``(frames, bins[, 2])``."""
    hop = stft["hop_length"] or (stft["win_length"] or stft["n_fft"]) // 4
    options = {
        "n_fft": stft["n_fft"],
        "hop_length": hop,
        "win_length": stft["win_length"],
        "window": stft["window"],
        "center": stft["center"],
        "pad_mode": stft["pad_mode"],
    }
    y, options = reference.librosa_input(clip.astype(np.float64), options)
    if family == "stft":
        spectrum = librosa.stft(y, **options).T
        return np.stack([spectrum.real, spectrum.imag], axis=-1)
    if family in ("spectrogram", "decibel"):
        spectrum = np.abs(librosa.stft(y, **options)) ** own["power"]
        if family == "spectrogram":
            return spectrum.T
        ref = np.max if own["ref"] == "max" else own["ref"]
        to_db = librosa.power_to_db if own["power"] == 2.0 else librosa.amplitude_to_db
        return to_db(spectrum, ref=ref, top_db=own["top_db"]).T
    mel_options = {**options, "sr": SAMPLE_RATE, "n_mels": own["n_mels"], "power": own["power"]}
    if family == "mfcc":
        return librosa.feature.mfcc(y=y, n_mfcc=own["n_mfcc"], **mel_options).T
    mel = librosa.feature.melspectrogram(y=y, **mel_options)
    if family == "pcen":
        return librosa.pcen(mel, sr=SAMPLE_RATE, hop_length=hop).T
    if not own["to_db"]:
        return mel.T
    ref = np.max if own["ref"] == "max" else own["ref"]
    to_db = librosa.power_to_db if own["power"] == 2.0 else librosa.amplitude_to_db
    return to_db(mel, ref=ref, top_db=own["top_db"]).T


def _route_error(family, got, want) -> float:
    if family in LINEAR_FAMILIES or (family == "melspectrogram" and want.min() >= 0):
        return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))
    return float(np.max(np.abs(got - want)) / max(np.ptp(want), 1e-6))


FLOAT16_DB_FLOOR = 70.0  # dB under each clip's peak; see _comparable
FLOAT32_DB_FLOOR = 90.0


def _in_decibels(family, own) -> bool:
    return family == "decibel" or own.get("to_db", False)


def _comparable(family, own, precision, got, want):
    """``(got, want)`` as the route's precision can match them.

    dB outputs are held at a floor under each clip's peak, both of them: below
    it the rounding of the DFT's sums outweighs the bin itself, and a bin of
    random noise can lie arbitrarily deep. float32 sums round to about 1e-7 of
    the frame's peak magnitude (a bin 115 dB under its clip's peak came out
    0.24 dB off, where 90 dB under gives about 0.01), hence ``FLOAT32_DB_FLOOR``;
    float16's constants keep 11 bits, hence ``FLOAT16_DB_FLOOR``. Without
    ``top_db``, ``amin`` puts bins as deep as 100 dB under ``ref``.
    """
    floors = {"float32": FLOAT32_DB_FLOOR, "float16": FLOAT16_DB_FLOOR}
    if precision not in floors or not _in_decibels(family, own):
        return got, want
    floor = want.max(axis=tuple(range(1, want.ndim)), keepdims=True) - floors[precision]
    return np.maximum(got, floor), np.maximum(want, floor)


def _route_bound(family, own, precision) -> float | None:
    """The largest error allowed, relative as :func:`_route_error` defines; None: record only.

    float32 routes: float32 DFT sums of up to 512 terms and float32 logs. float16:
    the window, DFT and mel constants keep 11 significant bits, which leaks about
    -80 to -95 dB of each clip's peak into every bin (less the longer the window);
    per-bin dB outputs of a linear spectrogram show it at bins 60-80 dB below the
    peak (mel bands average it), and are compared above ``FLOAT16_DB_FLOOR``
    (:func:`_comparable`).
    dynamic: 8-bit DFT and filterbank weights put a floor about 40 dB under the
    peak, so dB, MFCC and PCEN outputs are not comparable there (see the README's
    note on 8-bit dynamic range) and only their finiteness is asserted.
    """
    decibels = _in_decibels(family, own)
    if precision == "float32":
        # dB outputs are compared to FLOAT32_DB_FLOOR under the peak, where float32
        # rounding of a bin's power shows as about 0.01 dB (1.1e-4 of the range seen).
        return 1e-3 if decibels else 2e-4
    if precision == "float16":
        return 0.25 if decibels else 3e-3
    linear = family in LINEAR_FAMILIES
    return 1e-2 if linear else None


def _routes(model, clips, tmp_path, rfft):
    """``(route, precision, output)`` for every route a user takes, on ``clips``."""
    yield "eager call", "float32", np.asarray(model(clips))
    yield "tf.function", "float32", np.asarray(tf.function(model)(tf.constant(clips)))
    for batch_size in range(1, 6):
        output = model.predict(clips, batch_size=batch_size, verbose=0)
        yield f"predict(batch_size={batch_size})", "float32", output
    for quantize, precision in ((None, "float32"), ("float16", "float16"), ("dynamic", "dynamic")):
        flatbuffer = to_tflite(model, quantize=quantize, batch_size=None)
        _assert_builtin(tflite_op_names(flatbuffer), rfft)
        yield f"to_tflite({quantize})", precision, run_tflite(flatbuffer, clips)
    path = tmp_path / "keras.tflite"
    model.export(str(path), format="litert", verbose=False)
    flatbuffer = path.read_bytes()
    _assert_builtin(tflite_op_names(flatbuffer), rfft)
    yield "keras model.export(litert)", "float32", run_tflite(flatbuffer, clips)
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    _assert_builtin(tflite_op_names(flatbuffer), rfft)
    yield "TFLiteConverter.from_keras_model", "float32", run_tflite(flatbuffer, clips)


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("SPELA_ROUTE_EXAMPLES", "14")))
@given(config=route_configs(), seed=st.integers(0, 2**16))
# A 75-sample window's Nyquist bin 81 dB under its clip's peak, where the float16
# export's rounding gave -86.4 dB for librosa's -59.8.
@example(
    config=(
        "decibel",
        {
            "n_fft": 100,
            "hop_length": 50,
            "win_length": 75,
            "window": "hann",
            "center": False,
            "pad_mode": "constant",
            "backend": "matmul",
        },
        {"power": 1.0, "ref": 1.0, "top_db": None},
        944,
        False,
    ),
    seed=944,
)
# The Nyquist bin of a 64-point Hann window 115.5 dB under its clip's peak (no top_db),
# where the factored DFT's float32 sums gave -95.19 dB for librosa's -94.94.
@example(
    config=(
        "decibel",
        {
            "n_fft": 64,
            "hop_length": None,
            "win_length": None,
            "window": "hann",
            "center": False,
            "pad_mode": "reflect",
            "backend": "factored",
        },
        {"power": 2.0, "ref": 1.0, "top_db": None},
        649,
        False,
    ),
    seed=362,
)
def test_route_matrix(tmp_path_factory, record_error, config, seed):
    family, stft, own, samples, silent = config
    layer = _route_layer(family, stft, own)
    model = _model(layer, samples)
    clips = _clips(7, samples=samples, seed=seed, silent_half=silent)
    want = np.stack([_route_reference(family, stft, own, clip) for clip in clips])
    tmp_path = tmp_path_factory.mktemp("routes")
    rfft = stft["backend"] == "rfft"
    for route, precision, got in _routes(model, clips, tmp_path, rfft):
        assert got.shape == want.shape, route
        assert np.all(np.isfinite(got)), route
        error = _route_error(family, *_comparable(family, own, precision, got, want))
        record_error(f"route matrix: {route} vs librosa", error)
        record_error(f"route matrix: {family}, {precision} routes vs librosa", error)
        bound = _route_bound(family, own, precision)
        assert bound is None or error < bound, (route, error)

    # One training step and the gradients behind it: finite, on every family.
    head = keras.layers.Dense(2)(keras.layers.Flatten()(model.outputs[0]))
    classifier = keras.Model(model.inputs, head)
    classifier.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = classifier.fit(clips, np.arange(7) % 2, batch_size=3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    signal = tf.Variable(clips)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(classifier(signal))
    for gradient in tape.gradient(loss, [signal, *classifier.trainable_weights]):
        assert np.all(np.isfinite(gradient))


def test_routes_page_op_lists_are_what_the_routes_write(tmp_path):
    page = (Path(__file__).resolve().parent.parent / "docs" / "routes.md").read_text()
    documented = dict(re.findall(r"^- `([^`]+)`: `([A-Z0-9_ ]+)`$", page, flags=re.MULTILINE))
    audio = keras.Input((SAMPLE_RATE,))
    layer = spela.MelSpectrogram(SAMPLE_RATE, n_fft=512, hop_length=160, n_mels=64, to_db=True)
    model = keras.Model(audio, layer(audio))
    written = _export_routes(model, tmp_path)
    labels = {
        "spela.export.to_tflite(model)": "spela.export.to_tflite",
        'model.export(path, format="litert")': "keras model.export(litert)",
        "TFLiteConverter.from_keras_model(model)": "TFLiteConverter.from_keras_model",
        "TFLiteConverter.from_saved_model(dir)": "TFLiteConverter.from_saved_model",
    }
    assert set(documented) == set(labels)
    for label, route in labels.items():
        assert documented[label].split() == tflite_op_names(written[route]), label
