"""Room conditions: impulse responses, phone channels, babble, and their tf.data augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE, data, room, synthetic


def _rt60(response: np.ndarray) -> float:
    """Reverberation time from Schroeder's backward integral, fitted from -5 to -25 dB (x3)."""
    tail = response.astype(np.float64).copy()
    tail[0] = 0.0  # the direct path is not part of the decay
    energy = np.cumsum(tail[::-1] ** 2)[::-1]
    decay = 10 * np.log10(energy / energy[0] + 1e-300)
    t = np.arange(decay.size) / SAMPLE_RATE
    fitted = (decay <= -5) & (decay >= -25)
    slope = np.polyfit(t[fitted], decay[fitted], 1)[0]
    return -60.0 / slope


def test_impulse_responses_have_the_stated_decay_and_direct_path():
    responses = room.impulse_responses(24, seed=5)
    assert responses.shape == (24, room.IMPULSE_SAMPLES)
    assert (responses[:, 0] == 1.0).all()
    for response in responses:
        assert 0.08 <= _rt60(response) <= 0.9
        reverberant = np.sum(response[1:].astype(np.float64) ** 2)
        drr = 10 * np.log10(1.0 / reverberant)
        assert room.DRR_RANGE_DB[0] - 0.01 <= drr <= room.DRR_RANGE_DB[1] + 0.01
    assert not np.array_equal(responses, room.impulse_responses(24, seed=6))


def test_channels_cut_low_and_high_frequencies():
    channels = room.channel_responses(16, seed=3)
    frequencies = np.fft.rfftfreq(room.FFT_LENGTH, 1 / SAMPLE_RATE)
    at = {f: np.argmin(np.abs(frequencies - f)) for f in (50, 1000, 7900)}
    for channel in channels:
        assert 20 * np.log10(channel[at[50]] / channel[at[1000]]) < -6
        assert 20 * np.log10(channel[at[7900]] / channel[at[1000]]) < -3
        assert abs(20 * np.log10(channel[at[1000]])) < 0.5  # tilt pivots at 1 kHz


def test_degrade_keeps_the_level_and_tensorflow_agrees():
    rng = np.random.default_rng(0)
    clips = (0.1 * rng.standard_normal((3, CLIP_SAMPLES))).astype(np.float32)
    impulses = room.impulse_responses(3, seed=1)
    channels = room.channel_responses(3, seed=2)
    degraded = room.degrade(clips, impulses, channels)
    np.testing.assert_allclose(np.std(degraded, axis=1), np.std(clips, axis=1), rtol=0.02)
    for i in range(3):
        same = np.asarray(room.tf_degrade(clips[i], impulses[i], channels[i]))
        np.testing.assert_allclose(same, degraded[i], atol=1e-4)


def test_degrade_in_chunks_equals_one_clip_at_a_time():
    count = room.DEGRADE_CHUNK * 2 + 3
    rng = np.random.default_rng(1)
    clips = (0.1 * rng.standard_normal((count, CLIP_SAMPLES))).astype(np.float32)
    impulses = room.impulse_responses(count, seed=3)
    channels = room.channel_responses(count, seed=4)
    together = room.degrade(clips, impulses, channels)
    for i in (0, room.DEGRADE_CHUNK - 1, room.DEGRADE_CHUNK, count - 1):
        alone = room.degrade(clips[i : i + 1], impulses[i : i + 1], channels[i : i + 1])
        np.testing.assert_array_equal(together[i], alone[0])


def test_degrade_with_picks_equals_degrading_with_the_gathered_rooms():
    count = room.DEGRADE_CHUNK + 9
    rng = np.random.default_rng(2)
    clips = (0.1 * rng.standard_normal((count, CLIP_SAMPLES))).astype(np.float32)
    impulses = room.impulse_responses(5, seed=3)
    channels = room.channel_responses(5, seed=4)
    picks = rng.integers(5, size=count)
    np.testing.assert_array_equal(
        room.degrade(clips, impulses, channels, picks),
        room.degrade(clips, impulses[picks], channels[picks]),
    )
    with pytest.raises(ValueError, match="picks must give one room per clip: 3 for"):
        room.degrade(clips, impulses, channels, picks[:3])


def _room_test_material(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    clips = (0.1 * rng.standard_normal((count, CLIP_SAMPLES))).astype(np.float32)
    labels = np.arange(count) % 4
    noise_bank = (0.2 * rng.standard_normal((6, CLIP_SAMPLES))).astype(np.float32)
    return clips, labels, noise_bank


def test_room_predictions_degrade_each_condition_as_stated():
    from speaker_recognition import train

    clips, labels, noise_bank = _room_test_material(room.DEGRADE_CHUNK + 6)
    seen = []

    def probabilities_of(batch):
        seen.append(batch.copy())
        return np.tile(np.eye(4)[0], (len(batch), 1))

    train.room_predictions(probabilities_of, clips, labels, noise_bank, seed=5)
    # The reference builds every condition in one piece, from the stated draws.
    rng = np.random.default_rng(5 + 7)
    white = rng.standard_normal(clips.shape).astype(np.float32)
    voices = room.babble(clips, labels, clips, labels, 5 + 8)
    impulses = room.impulse_responses(train.TEST_ROOMS, 5 + 1001)
    channels = room.channel_responses(train.TEST_ROOMS, 5 + 1002)
    picks = rng.integers(train.TEST_ROOMS, size=len(clips))
    expected = [clips]
    for condition in train.ROOM_CONDITIONS:
        for snr in train.SNR_LEVELS_DB:
            if condition == "noise files":
                windows = np.random.default_rng(5).integers(len(noise_bank), size=len(clips))
                others = noise_bank[windows]
            else:
                others = white if condition == "white noise" else voices
            pairs = zip(clips, others, strict=True)
            mixed = np.stack([data.mix_at_snr(c, o, snr) for c, o in pairs])
            if condition == "babble + room":
                mixed = room.degrade(mixed, impulses[picks], channels[picks])
            expected.append(mixed)
    assert len(seen) == len(expected)
    for got, want in zip(seen, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    # The copies on their own, as measurements/pair_cues.py takes them: the same clips.
    degraded = train.room_test_copies(clips, labels, noise_bank, seed=5)
    np.testing.assert_array_equal(degraded("babble + room", 5.0), expected[-2])
    with pytest.raises(ValueError, match="condition must be one of"):
        degraded("thunder", 5.0)


def test_room_alone_copies_put_clean_clips_through_the_stated_rooms_alone():
    from speaker_recognition import train

    clips, _, _ = _room_test_material(12)
    impulses = room.impulse_responses(train.TEST_ROOMS, 3 + 1001)
    channels = room.channel_responses(train.TEST_ROOMS, 3 + 1002)
    picks = np.random.default_rng(3 + 9).integers(train.TEST_ROOMS, size=len(clips))
    dry = np.zeros_like(impulses)
    dry[:, 0] = 1.0
    flat = np.ones_like(channels)
    copies = dict(train.room_alone_copies(clips, seed=3))
    assert list(copies) == ["reverberation", "channel", "both"]
    for name, impulse_bank, channel_bank in (
        ("reverberation", impulses, flat),
        ("channel", dry, channels),
        ("both", impulses, channels),
    ):
        want = room.degrade(clips, impulse_bank[picks], channel_bank[picks])
        np.testing.assert_array_equal(copies[name], want, err_msg=name)
    # A lone direct path and a flat channel change nothing but rounding.
    unchanged = room.degrade(clips, dry[picks], flat[picks])
    np.testing.assert_allclose(unchanged, clips, atol=1e-5)


def _peak_traced_bytes(function) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_room_reports_hold_one_degraded_copy_at_a_time():
    import keras

    from speaker_recognition import train

    # numpy's allocations are traced; the models' own (TensorFlow's) are not.
    clips, labels, noise_bank = _room_test_material(640)
    clip_bytes = clips.nbytes
    model = keras.Sequential([keras.Input((CLIP_SAMPLES,)), keras.layers.Dense(4, "softmax")])
    peaks = {
        "room_predictions": _peak_traced_bytes(
            lambda: train.room_predictions(
                lambda batch: np.zeros((len(batch), 4), np.float32),
                clips,
                labels,
                noise_bank,
                seed=1,
            )
        ),
        "room_alone": _peak_traced_bytes(lambda: train.room_alone(model, clips, labels, seed=1)),
    }
    # Inherent: the white noise, the babble and a level's mixture and room copy
    # (4 x the clips) for room_predictions, one room copy for room_alone, and a
    # chunk's spectra in degrade (about 50 MB, whatever the number of clips).
    chunk_spectra = 3 * room.DEGRADE_CHUNK * (room.FFT_LENGTH // 2 + 1) * 16
    assert peaks["room_predictions"] < 4.5 * clip_bytes + chunk_spectra, peaks
    assert peaks["room_alone"] < 1.5 * clip_bytes + chunk_spectra, peaks


def test_babble_mixes_only_other_speakers():
    pool = np.eye(12, CLIP_SAMPLES, dtype=np.float32)  # clip k is an impulse at sample k
    labels = np.arange(12) % 4
    voices = room.babble(pool, labels, pool, labels, seed=0)
    for mixture, label in zip(voices, labels, strict=True):
        used = np.flatnonzero(mixture[:12])
        assert 1 <= used.size <= 4
        assert (labels[used] != label).all()


def test_pipeline_babble_keeps_the_label_and_the_target():
    rng = np.random.default_rng(1)
    clips = (0.05 * rng.standard_normal((12, CLIP_SAMPLES))).astype(np.float32)
    labels = np.arange(12, dtype=np.int32) % 3
    pipeline = data.train_pipeline(
        clips,
        labels,
        np.zeros((0, CLIP_SAMPLES), np.float32),
        batch_size=4,
        seed=2,
        gain_db=0.0,
        babble_probability=1.0,
        babble_snr_db=(10.0, 10.0),
    )
    basis = clips.T.astype(np.float64)  # random clips are nearly orthogonal
    for x, y in [b for _, b in zip(range(3), pipeline, strict=False)]:
        for mixed, label in zip(np.asarray(x), np.asarray(y), strict=True):
            weights = np.linalg.lstsq(basis, mixed.astype(np.float64), rcond=None)[0]
            target = int(np.argmax(weights))
            assert labels[target] == label
            others = np.flatnonzero(np.abs(weights) > 0.05)
            others = others[others != target]
            assert 1 <= others.size <= 4 and (labels[others] != label).all()
            added = mixed - clips[target]
            snr = 10 * np.log10(np.mean(clips[target] ** 2) / np.mean(added**2))
            assert snr == pytest.approx(10.0, abs=0.1)


def test_app_rule_smooths_then_thresholds_as_the_kotlin_core_does():
    from speaker_recognition import strangers

    # Two classes; windows alternate between confident A and confident B: smoothing at
    # weight 0.5 keeps the top probability below 0.8 after the first window.
    recording = np.full(CLIP_SAMPLES + 5 * strangers.WINDOW_HOP, 0.1, np.float32)
    recording[-strangers.WINDOW_HOP :] = 0.0  # the last window ends in silence

    def probabilities_of(windows):
        rows = [[0.9, 0.1] if i % 2 == 0 else [0.1, 0.9] for i in range(len(windows))]
        return np.array(rows)

    confidence, best, no_one = strangers.decisions(probabilities_of, recording)
    assert len(confidence) == 5  # 6 windows, the silent one left out
    # By hand: [.9 .1], [.5 .5], [.7 .3], [.4 .6], [.65 .35].
    np.testing.assert_allclose(confidence, [0.9, 0.5, 0.7, 0.6, 0.65])
    assert best.tolist() == [0, 0, 0, 1, 0]
    np.testing.assert_allclose(no_one, 0.0, atol=1e-12)  # rows that sum to 1 leave nothing
    voices = strangers.stranger_voices(3, seed=1)
    assert {v.name for v in voices}.isdisjoint(v.name for v in synthetic.VOICES)


def test_app_rule_starts_fresh_after_silence_as_the_speaker_listener_does():
    from speaker_recognition import strangers

    # Four windows; the second ends in silence, so the app resets its smoother there.
    recording = np.full(CLIP_SAMPLES + 3 * strangers.WINDOW_HOP, 0.1, np.float32)
    recording[CLIP_SAMPLES : CLIP_SAMPLES + strangers.WINDOW_HOP] = 0.0
    rows = np.array([[0.9, 0.1], [0.1, 0.9], [0.3, 0.7], [0.9, 0.1]])

    confidence, best, _ = strangers.decisions(lambda windows: rows[: len(windows)], recording)
    # By hand: [.9 .1]; silence (reset); [.3 .7] afresh; [.6 .4]. Carried through the
    # silence instead, the third window would read [.4 .6].
    np.testing.assert_allclose(confidence, [0.9, 0.7, 0.6])
    assert best.tolist() == [0, 1, 0]


def test_app_rule_smooths_what_a_no_one_model_leaves_to_no_one():
    from speaker_recognition import strangers

    recording = np.full(CLIP_SAMPLES + 3 * strangers.WINDOW_HOP, 0.1, np.float32)
    # Speakers' rows of a model with a no-one output: they sum to 0.2, 0.2, 0.9, 0.9.
    rows = np.array([[0.1, 0.1], [0.15, 0.05], [0.8, 0.1], [0.8, 0.1]])

    confidence, best, no_one = strangers.decisions(lambda windows: rows[: len(windows)], recording)
    # By hand, smoothed: [.1 .1], [.125 .075], [.4625 .0875], [.63125 .09375].
    np.testing.assert_allclose(confidence, [0.1, 0.125, 0.4625, 0.63125])
    np.testing.assert_allclose(no_one, [0.8, 0.8, 0.45, 0.275])
    assert best.tolist() == [0, 0, 0, 0]


def test_confident_rates_say_how_often_the_app_shows_no_one_for_a_no_one_model():
    from speaker_recognition import strangers

    def no_one_over_quiet_sound(windows):
        # Speakers' probabilities of a model with a no-one output: no one (0.7) over
        # windows under -30 dBFS, the first speaker (0.9) over louder ones.
        level = 10 * np.log10(np.mean(windows.astype(np.float64) ** 2, axis=1))
        return np.where((level < -30)[:, None], [0.2, 0.1], [0.9, 0.05])

    speech = np.full(2 * CLIP_SAMPLES, 0.3, np.float32)  # -10.5 dBFS
    hum = np.full(3 * CLIP_SAMPLES, 0.001, np.float32)
    kwargs = dict(seed=4, strangers=1, seconds=2.0, noises=[hum])
    without = strangers.confident_rates(no_one_over_quiet_sound, [(0, speech)], **kwargs)
    assert "shown_no_one" not in without
    rates = strangers.confident_rates(
        no_one_over_quiet_sound, [(0, speech)], no_one_output=True, **kwargs
    )
    assert {k: v for k, v in rates.items() if k != "shown_no_one"} == without
    shown = rates["shown_no_one"]
    # Noise alone plays at -45 to -20 dBFS: each of its windows is either quiet (no one
    # at 0.7) or loud (the first speaker at 0.9); the app shows no one at 0.6 and 0.7 on
    # exactly the windows it does not name the speaker on.
    assert rates["noise"]["0.6"] < 1
    for threshold in ("0.6", "0.7"):
        assert shown["noise"][threshold] == pytest.approx(1 - rates["noise"]["0.6"])
    assert shown["noise"]["0.8"] == 0.0
    assert shown["enrolled"] == {"0.6": 0.0, "0.7": 0.0, "0.8": 0.0, "0.9": 0.0}
    line = strangers.summary_line(rates)
    assert line.startswith(strangers.summary_line(without))
    assert f'"No one speaking" over noise alone in {shown["noise"]["0.6"]:.1%}' in line


def test_confident_rates_count_strangers_and_enrolled_apart():
    from speaker_recognition import strangers

    def sure_of_the_first(windows):
        return np.tile([0.85, 0.15], (len(windows), 1))

    speech = (0.1 * np.random.default_rng(0).standard_normal(3 * CLIP_SAMPLES)).astype(np.float32)
    rates = strangers.confident_rates(
        sure_of_the_first, [(0, speech), (1, speech)], seed=2, strangers=2, seconds=3.0
    )
    assert rates["strangers"] == {"0.6": 1.0, "0.7": 1.0, "0.8": 1.0, "0.9": 0.0}
    assert rates["enrolled"] == rates["strangers"]
    assert rates["enrolled_correct"] == {"0.6": 0.5, "0.7": 0.5, "0.8": 0.5, "0.9": 0.0}
    # Two loud 3-s recordings, 1-s windows every 250 ms: 9 windows each.
    assert rates["enrolled_windows"] == 18
    assert rates["stranger_voices"] == 2
    assert 0 < rates["stranger_windows"] <= 18
    # White noise of `seconds` is always played; here it is all the noise there is.
    assert rates["noise_recordings"] == 1 and rates["noise_windows"] == 9
    assert rates["noise"] == rates["strangers"]


def test_confident_rates_play_noise_alone_at_a_room_level():
    from speaker_recognition import strangers

    heard = []

    def sure_of_constant_sound(windows):
        # Confident of speaker 0 for a window that never changes sign (the hum
        # below), unsure for anything else; every window's level is kept.
        heard.append(10 * np.log10(np.mean(windows.astype(np.float64) ** 2, axis=1)))
        constant = np.all(windows > 0, axis=1) | np.all(windows < 0, axis=1)
        return np.where(constant[:, None], [0.9, 0.1], [0.5, 0.5])

    speech = (0.1 * np.random.default_rng(0).standard_normal(2 * CLIP_SAMPLES)).astype(np.float32)
    hum = np.full(3 * CLIP_SAMPLES, 0.001, np.float32)
    too_short = np.full(CLIP_SAMPLES - 1, 0.5, np.float32)
    rates = strangers.confident_rates(
        sure_of_constant_sound,
        [(0, speech)],
        seed=4,
        strangers=1,
        seconds=2.0,
        noises=[hum, too_short],
    )
    # The hum's 9 windows (3 s, 1-s windows every 250 ms) and the white noise's 5 (2 s);
    # the part shorter than a window is left out.
    assert rates["noise_recordings"] == 2 and rates["noise_windows"] == 14
    assert rates["noise"]["0.6"] == pytest.approx(9 / 14)
    assert rates["strangers"]["0.6"] == 0.0 and rates["enrolled"]["0.6"] == 0.0
    # One call per recording: the stranger, the hum, the white noise, the enrolled speech.
    assert [len(levels) for levels in heard[1:]] == [9, 5, 5]
    hum_levels, white_levels = heard[1], heard[2]
    low, high = strangers.NOISE_DBFS
    for levels in (hum_levels, white_levels):
        assert np.all((levels > low - 0.5) & (levels < high + 0.5))
    assert np.ptp(hum_levels) < 1e-6  # one level for the whole hum


def test_noise_alone_leaves_the_strangers_speech_as_it_was():
    from speaker_recognition import strangers

    def first_sample_of(windows):
        return np.stack([np.abs(windows[:, 0]), 1 - np.abs(windows[:, 0])], axis=1)

    speech = np.full(2 * CLIP_SAMPLES, 0.1, np.float32)
    without = strangers.confident_rates(first_sample_of, [(0, speech)], seed=6, strangers=3)
    noise = [np.ones(5 * CLIP_SAMPLES, np.float32)]
    with_noise = strangers.confident_rates(
        first_sample_of, [(0, speech)], seed=6, strangers=3, noises=noise
    )
    assert with_noise["strangers"] == without["strangers"]
    assert with_noise["stranger_windows"] == without["stranger_windows"]
    assert with_noise["noise_recordings"] == without["noise_recordings"] + 1


def test_room_recipe_puts_the_room_on_four_clips_in_five():
    import tensorflow as tf

    from speaker_recognition import train

    # Each clip is a click at sample 100: untouched, everything after sample 200 is
    # silent; through a room, the reverberant tail fills it.
    count = 600
    clips = np.zeros((count, CLIP_SAMPLES), np.float32)
    clips[:, 100] = 0.5
    recipe = {k: v for k, v in train.ROOM_AUGMENTATION.items() if not k.startswith("babble")}
    stream = data.augment(
        tf.data.Dataset.from_tensor_slices((clips, np.zeros(count, np.int32))),
        np.zeros((0, CLIP_SAMPLES), np.float32),
        seed=3,
        gain_db=0.0,
        impulses=room.impulse_responses(train.TRAIN_ROOMS, seed=1),
        channels=room.channel_responses(train.TRAIN_ROOMS, seed=2),
        **recipe,
    )
    tails = np.array([np.sum(np.asarray(clip)[200:] ** 2) for clip, _ in stream])
    reverberated = np.mean(tails > 1e-6)
    # Binomial spread of the share over 600 clips at 0.8: 0.016.
    assert reverberated == pytest.approx(0.8, abs=0.05)


def test_summary_line_keeps_a_tenth_of_a_point():
    from speaker_recognition import strangers

    rates = {
        "strangers": {"0.6": 0.5577, "0.8": 0.1923},
        "enrolled_correct": {"0.6": 0.99575, "0.8": 0.9473},
        "stranger_voices": 20,
    }
    line = strangers.summary_line(rates)
    assert "20 strangers named at 0.6 in 55.8% of their windows;" in line  # no noise measured
    assert "named right in 99.6%" in line  # rounded to whole points it read 100%
    assert "19.2%" in strangers.summary_line(rates, 0.8)
    with pytest.raises(ValueError, match="threshold must be one of"):
        strangers.summary_line(rates, 0.75)
    rates["noise"] = {"0.6": 0.0123, "0.8": 0.0}
    assert "55.8% of their windows, noise alone in 1.2% of its;" in strangers.summary_line(rates)
