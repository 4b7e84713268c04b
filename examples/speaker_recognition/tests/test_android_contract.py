"""Contract with the Android app's Kotlin core: same floats, same labels, same model facts.

The Python side writes a fixture WAV, the float vector the training pipeline makes of
it, ``labels.txt``/``model.json`` and a model carrying its facts from the real export
code; then the Kotlin core's JUnit tests (``android_demo/core/run-tests.sh``) read them
and must agree exactly.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from speaker_recognition import SAMPLE_RATE, convert, data
from speaker_recognition.files import write_json_atomically
from speaker_recognition.wavfile import read_wav, write_wav

RUN_TESTS = Path(__file__).resolve().parents[3] / "android_demo" / "core" / "run-tests.sh"
KAGGLE_SPEAKERS = [
    "Nelson_Mandela",
    "Benjamin_Netanyahu",
    "Magaret_Tarcher",
    "Julia_Gillard",
    "Jens_Stoltenberg",
]


def write_fixtures(directory: Path) -> None:
    """The files the Kotlin ContractTest reads."""
    rng = np.random.default_rng(7)
    t = np.arange(int(1.5 * SAMPLE_RATE)) / SAMPLE_RATE
    voice = 0.4 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    samples = np.clip(voice + 0.05 * rng.standard_normal(t.size), -1.0, 1.0)
    samples[:4] = [-1.0, 32767 / 32768, 1 / 32768, -1 / 32768]  # extremes and the smallest steps
    write_wav(directory / "fixture.wav", samples, SAMPLE_RATE)
    floats = read_wav(directory / "fixture.wav", SAMPLE_RATE).samples  # the training reader
    floats.astype("<f4").tofile(directory / "fixture_floats.f32")

    layout = directory / "16000_pcm_speeches"
    for name in [*KAGGLE_SPEAKERS, "_background_noise_", "other"]:
        (layout / name).mkdir(parents=True)
    labels = data.discover_labels(layout)
    data.write_labels(directory / "labels.txt", labels)
    (directory / "expected_labels.txt").write_text("\n".join(sorted(KAGGLE_SPEAKERS)) + "\n")
    sizes = {"model.tflite": 1000, "model_int8.tflite": 500}
    facts = convert.model_facts(labels, "small_cnn", sizes, no_one_output=True)
    write_json_atomically(directory / "model.json", facts)

    # A model carrying the facts as the export writes them, and one of another export.
    model_bytes = _tiny_model_bytes(len(labels))
    inside = convert.model_facts(labels, "small_cnn", no_one_output=True)
    (directory / "model.tflite").write_bytes(convert.with_facts_inside(model_bytes, inside))
    other = convert.model_facts(labels[::-1], "small_cnn", no_one_output=False)
    (directory / "model_other.tflite").write_bytes(convert.with_facts_inside(model_bytes, other))


def _tiny_model_bytes(speakers: int) -> bytes:
    """A small float32 ``.tflite`` from 1-s clips to ``speakers`` probabilities."""
    import keras

    from spela.export import to_tflite

    inputs = keras.Input((SAMPLE_RATE,))
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Reshape((100, 160))(inputs))
    outputs = keras.layers.Dense(speakers, activation="softmax")(pooled)
    return to_tflite(keras.Model(inputs, outputs))


def test_fixture_floats_are_pcm16_over_32768(tmp_path):
    write_fixtures(tmp_path)
    pcm = np.fromfile(tmp_path / "fixture.wav", dtype="<i2")[22:]  # after the 44-byte header
    floats = np.fromfile(tmp_path / "fixture_floats.f32", dtype="<f4")
    np.testing.assert_array_equal(floats, pcm.astype(np.float32) / np.float32(32768))
    assert floats[0] == -1.0 and floats[2] == 1 / 32768


@pytest.mark.slow
def test_kotlin_core_reads_the_same_floats_and_labels(tmp_path):
    if shutil.which("kotlinc") is None:
        message = (
            "kotlinc not found: the Kotlin core's JUnit tests did not run "
            "(apt-get install kotlin junit4; .ci/run installs them)"
        )
        if os.environ.get("SPELA_REQUIRE_KOTLIN") == "1":
            pytest.fail(message)
        pytest.skip(message)
    write_fixtures(tmp_path)
    environment = {
        **os.environ,
        "SPELA_CONTRACT_DIR": str(tmp_path),
        "CORE_BUILD_DIR": str(tmp_path / "build"),
    }
    result = subprocess.run(
        ["bash", str(RUN_TESTS)], capture_output=True, text=True, env=environment, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    passed = re.search(r"OK \((\d+) tests\)", output)
    assert passed and int(passed.group(1)) >= 32, output


ANDROID = RUN_TESTS.parents[1]


def test_gradle_wrapper_pins_the_gradle_the_android_plugin_needs():
    """`./gradlew` works from a clone: the wrapper is committed, executable, and its pinned
    Gradle is the one the build files and the README name for the Android Gradle plugin."""
    gradlew = ANDROID / "gradlew"
    assert gradlew.is_file() and os.access(gradlew, os.X_OK)
    with zipfile.ZipFile(ANDROID / "gradle" / "wrapper" / "gradle-wrapper.jar") as jar:
        assert "org/gradle/wrapper/GradleWrapperMain.class" in jar.namelist()
    properties = (ANDROID / "gradle" / "wrapper" / "gradle-wrapper.properties").read_text()
    (gradle,) = re.findall(r"distributionUrl=.*/gradle-([\d.]+)-bin\.zip", properties)
    build = (ANDROID / "build.gradle.kts").read_text()
    (plugin,) = re.findall(r'id\("com\.android\.application"\) version "([\d.]+)"', build)
    readme = (ANDROID / "README.md").read_text()
    assert f"Gradle {gradle}" in readme and f"plugin {plugin}" in readme
    assert gradle in build
    # The Android Gradle plugin 9 needs Gradle 9 and compiles Kotlin itself.
    assert int(plugin.split(".")[0]) == 9 and int(gradle.split(".")[0]) >= 9
    app = (ANDROID / "app" / "build.gradle.kts").read_text()
    assert 'id("org.jetbrains.kotlin.android")' not in app and "kotlinOptions" not in app
