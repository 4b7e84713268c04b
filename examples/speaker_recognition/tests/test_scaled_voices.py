"""Strangers in the training stream (``data.augment``): scaled voices (``data.scale_voice``)
and noise alone."""

from __future__ import annotations

import numpy as np
import pytest

from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE, data

TIME = np.arange(CLIP_SAMPLES) / SAMPLE_RATE


def tone(frequency: float, amplitude: float = 0.1) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * frequency * TIME)).astype(np.float32)


def spectrum(clip) -> np.ndarray:
    """Power per 1-Hz bin under a Hann window, so a tone between bins stays in a few."""
    return np.abs(np.fft.rfft(np.asarray(clip, np.float64) * np.hanning(CLIP_SAMPLES))) ** 2


def peak_hz(clip) -> float:
    return float(np.argmax(spectrum(clip))) * SAMPLE_RATE / CLIP_SAMPLES


def share_outside_peak(clip, bins: int = 4) -> float:
    power = spectrum(clip)
    peak = int(np.argmax(power))
    return float(1 - power[max(peak - bins, 0) : peak + bins + 1].sum() / power.sum())


@pytest.mark.parametrize("factor", [0.8, 0.92, 1.0, 1.1, 1.25])
def test_scale_voice_moves_a_tone_by_the_factor_without_a_jump(factor):
    clip = tone(440.0)
    scaled = np.asarray(data.scale_voice(clip, factor))
    assert scaled.shape == (CLIP_SAMPLES,)
    assert peak_hz(scaled) == pytest.approx(440.0 * factor, abs=1.0)
    power = spectrum(scaled)
    assert power[2000:].sum() < 1e-5 * power.sum()  # nothing broadband, as a click would be
    # Mirrored past the clip's end, the signal turns back instead of jumping: no step
    # is larger than the steepest slope of the scaled tone.
    steepest = 0.1 * 2 * np.pi * 440.0 * factor / SAMPLE_RATE
    assert np.max(np.abs(np.diff(scaled))) <= steepest * 1.01


def test_scale_voice_by_one_is_the_clip():
    clip = np.random.default_rng(0).uniform(-0.5, 0.5, CLIP_SAMPLES).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(data.scale_voice(clip, 1.0)), clip)


def stream_of(clips, labels, **options):
    import tensorflow as tf

    return data.augment(
        tf.data.Dataset.from_tensor_slices((clips, labels)),
        np.zeros((0, CLIP_SAMPLES), np.float32),
        seed=5,
        gain_db=0.0,
        **options,
    )


def test_strangers_take_their_share_a_scaled_voice_and_the_stranger_label():
    count, frequency = 400, 500.0
    clips = np.tile(tone(frequency), (count, 1))
    labels = np.arange(count, dtype=np.int32) % 4
    out = [(np.asarray(c), int(y)) for c, y in stream_of(clips, labels, stranger_probability=0.25)]
    strangers = [c for c, y in out if y == data.STRANGER_LABEL]
    # Binomial spread of the share over 400 clips at 0.25: 0.022.
    assert len(strangers) / count == pytest.approx(0.25, abs=0.07)
    ratios = np.array([peak_hz(c) / frequency for c in strangers])
    up, down = ratios[ratios > 1], 1 / ratios[ratios < 1]
    slack = 1.0 / frequency  # the peak is read to the nearest 1-Hz bin
    for shift in (up, down):
        assert shift.size > 0.3 * ratios.size  # both directions, about equally
        assert np.all((shift >= 1.04 - slack) & (shift <= 1.15 + slack))
    for (clip, label), given in zip(out, labels, strict=True):
        if label != data.STRANGER_LABEL:
            assert label == given
            np.testing.assert_array_equal(clip, clips[0])


def test_strangers_hear_babble_of_any_speaker():
    # One speaker: its own clips have no other speaker's babble to take, but a
    # stranger is nobody, so every pool clip is another voice to it.
    count = 60
    clips = np.tile(tone(500.0), (count, 1))
    pool = (0.1 * np.random.default_rng(2).standard_normal((8, CLIP_SAMPLES))).astype(np.float32)
    out = stream_of(
        clips,
        np.zeros(count, np.int32),
        stranger_probability=0.5,
        babble_probability=1.0,
        babble_snr_db=(10.0, 10.0),
        babble_clips=pool,
        babble_labels=np.zeros(len(pool), np.int32),
    )
    outside = {data.STRANGER_LABEL: [], 0: []}
    for clip, label in out:
        outside[int(label)].append(share_outside_peak(clip))
    assert outside[0] and outside[data.STRANGER_LABEL]
    assert max(outside[0]) < 1e-3  # the speaker's own clips: the tone alone
    # Babble at 10 dB SNR is a tenth of the tone's power, nearly all of it off the peak.
    assert min(outside[data.STRANGER_LABEL]) == pytest.approx(1 / 11, abs=0.02)


def test_targets_are_one_hot_equal_for_strangers_or_zero_for_no_one():
    np.testing.assert_array_equal(np.asarray(data.targets(2, 5)), [0, 0, 1, 0, 0])
    np.testing.assert_allclose(np.asarray(data.targets(data.STRANGER_LABEL, 4)), [0.25] * 4)
    np.testing.assert_array_equal(np.asarray(data.targets(data.NO_ONE_LABEL, 4)), [0] * 4)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"stranger_probability": 1.5}, "stranger_probability must be in"),
        ({"stranger_scale": (0.9, 1.2)}, "stranger_scale must be two factors"),
        ({"stranger_scale": (1.3, 1.2)}, "stranger_scale must be two factors"),
        ({"stranger_scale": (1.1, 2.5)}, "stranger_scale must be two factors"),
        ({"noise_alone_probability": -0.1}, "noise_alone_probability must be in"),
        ({"noise_alone_dbfs": (-20.0, -40.0)}, "noise_alone_dbfs must be two levels"),
        ({"noise_alone_dbfs": (-20.0, 3.0)}, "noise_alone_dbfs must be two levels"),
    ],
)
def test_stranger_options_are_checked(options, message):
    clips = np.zeros((2, CLIP_SAMPLES), np.float32)
    with pytest.raises(ValueError, match=message):
        stream_of(clips, np.zeros(2, np.int32), **options)


def test_noise_alone_takes_its_share_a_level_in_range_and_the_no_one_label():
    import tensorflow as tf

    count = 600
    rng = np.random.default_rng(3)
    clips = (0.1 * rng.standard_normal((count, CLIP_SAMPLES))).astype(np.float32)
    labels = np.arange(count, dtype=np.int32) % 4
    # Three noise windows that no speech clip resembles: tones, each at its own pitch.
    bank = np.stack([tone(f, 0.3) for f in (120.0, 250.0, 700.0)])
    options = {"seed": 9, "gain_db": 3.0, "noise_probability": 0.5}
    dataset = tf.data.Dataset.from_tensor_slices((clips, labels))
    before = list(data.augment(dataset, bank, **options))
    after = list(data.augment(dataset, bank, noise_alone_probability=0.2, **options))
    alone = [i for i, (_, label) in enumerate(after) if int(label) == data.NO_ONE_LABEL]
    # Binomial spread of the share over 600 clips at 0.2: 0.016.
    assert len(alone) / count == pytest.approx(0.2, abs=0.05)
    for i in alone:
        noise = np.asarray(after[i][0], np.float64)
        level = 10 * np.log10(np.mean(noise**2))
        assert -45.0 - 1e-3 <= level <= -15.0 + 1e-3
        # A window of the bank: one of the tones up to a gain, all its power at its peak.
        assert share_outside_peak(noise) < 1e-3
        assert min(abs(peak_hz(noise) - f) for f in (120.0, 250.0, 700.0)) <= 1.0
    # Each window is taken about as often as the others.
    windows = [
        int(np.argmin([abs(peak_hz(after[i][0]) - f) for f in (120, 250, 700)])) for i in alone
    ]
    assert min(np.bincount(windows, minlength=3)) > len(alone) / 6
    # Every clip that noise alone leaves is the clip of a stream without it.
    assert len(after) == len(before) == count
    for i, ((clip, label), (clip_before, label_before)) in enumerate(
        zip(after, before, strict=True)
    ):
        if i not in alone:
            assert int(label) == int(label_before)
            np.testing.assert_array_equal(np.asarray(clip), np.asarray(clip_before))


def test_noise_alone_is_white_noise_when_there_are_no_noise_files():
    count = 40
    clips = np.tile(tone(500.0), (count, 1))
    out = list(stream_of(clips, np.zeros(count, np.int32), noise_alone_probability=1.0))
    assert all(int(label) == data.NO_ONE_LABEL for _, label in out)
    for clip, _ in out:
        clip = np.asarray(clip, np.float64)
        assert share_outside_peak(clip) > 0.99
        # White: neighbouring samples are uncorrelated (a 500-Hz tone gives 0.98).
        assert abs(np.corrcoef(clip[:-1], clip[1:])[0, 1]) < 0.05
