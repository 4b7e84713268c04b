"""The synthetic dataset: layout, formats, and that loudness does not give speakers away."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io.wavfile

from speaker_recognition import synthetic


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return synthetic.write_dataset(
        tmp_path_factory.mktemp("syn") / "16000_pcm_speeches",
        clips_per_speaker=12,
        seed=1,
        progress=False,
    )


def test_layout_and_formats(dataset):
    speakers = sorted(p.name for p in dataset.iterdir() if not p.name.startswith(("_", "o")))
    assert speakers == sorted(v.name for v in synthetic.VOICES)
    for name in speakers:
        files = sorted((dataset / name).glob("*.wav"), key=lambda p: int(p.stem))
        assert [int(p.stem) for p in files] == list(range(12))
        for path in files[:3]:
            rate, samples = scipy.io.wavfile.read(path)
            assert (rate, samples.dtype, samples.shape) == (16000, np.int16, (16000,))
    noise = list((dataset / "_background_noise_").glob("*.wav"))
    noise += list((dataset / "other").glob("*.wav"))
    assert len(noise) == 6
    for path in noise:
        rate, samples = scipy.io.wavfile.read(path)
        assert rate != 16000 and samples.size > 5 * rate


def test_loudness_ranges_of_speakers_overlap(dataset):
    levels = {}
    for voice in synthetic.VOICES:
        rms = [
            np.sqrt(np.mean((scipy.io.wavfile.read(p)[1] / 32768.0) ** 2))
            for p in (dataset / voice.name).glob("*.wav")
        ]
        levels[voice.name] = (min(rms), max(rms))
    assert max(low for low, _ in levels.values()) < min(high for _, high in levels.values())


def test_refuses_a_non_empty_folder(dataset):
    with pytest.raises(FileExistsError, match="not empty"):
        synthetic.write_dataset(dataset, clips_per_speaker=3, progress=False)
    assert synthetic.main([str(dataset), "--clips-per-speaker", "3"]) == 2


def test_same_seed_same_audio(tmp_path):
    a = synthetic.write_dataset(tmp_path / "a", clips_per_speaker=3, seed=5, progress=False)
    b = synthetic.write_dataset(tmp_path / "b", clips_per_speaker=3, seed=5, progress=False)
    assert (a / "Anna" / "2.wav").read_bytes() == (b / "Anna" / "2.wav").read_bytes()


def test_random_voices_stay_in_the_range_of_the_fixed_ones(tmp_path):
    from dataclasses import astuple

    voices = synthetic.random_voices(5, seed=11)
    assert voices == synthetic.random_voices(5, seed=11)
    assert voices != synthetic.random_voices(5, seed=12)
    fixed = np.array([astuple(v)[1:] for v in synthetic.VOICES])
    for voice in voices:
        values = np.array(astuple(voice)[1:])
        assert (values >= fixed.min(0)).all() and (values <= fixed.max(0)).all()
    data_dir = synthetic.write_dataset(
        tmp_path / "other", clips_per_speaker=2, seed=1, progress=False, voices=voices[:2]
    )
    assert sorted(p.name for p in data_dir.iterdir() if not p.name.startswith(("_", "o"))) == [
        "Voice1",
        "Voice2",
    ]


def test_separation_counts_tract_and_pitch_in_their_spreads():
    from dataclasses import replace

    base = synthetic.VOICES[2]
    spread = base.pitch_spread
    # 3 formant spreads apart in tract and 4 pitch spreads apart in pitch: a 3-4-5 triangle.
    other = replace(
        base,
        name="Other",
        tract_scale=base.tract_scale * np.exp(3 * synthetic.FORMANT_JITTER),
        pitch_hz=base.pitch_hz * np.exp(4 * spread),
    )
    assert synthetic.separation(base, other) == pytest.approx(5.0)
    assert synthetic.separation(other, base) == pytest.approx(5.0)
    assert synthetic.separation(base, replace(base, tilt=0.1, name="Tilted")) == 0.0

    near = replace(
        base, name="Near", tract_scale=base.tract_scale * np.exp(0.5 * synthetic.FORMANT_JITTER)
    )
    first, second, distance = synthetic.closest_voices([other, base, near])
    assert (first.name, second.name, distance) == ("Chen", "Near", pytest.approx(0.5))
    with pytest.raises(ValueError, match="voices must hold at least two"):
        synthetic.closest_voices([base])


def test_command_names_the_closest_voices(tmp_path, capsys):
    assert (
        synthetic.main([str(tmp_path / "d"), "--clips-per-speaker", "1", "--voice-seed", "5"]) == 0
    )
    line = capsys.readouterr().out.splitlines()[-1]
    # Voice-seed 5 draws two voices 0.2 % apart in vocal tract at the same median pitch.
    assert line.startswith("closest voices: Voice1 and Voice5, separation 0.05 ")
    assert "vocal tracts 0.2 % apart" in line
