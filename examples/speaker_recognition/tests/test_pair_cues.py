"""measurements/pair_cues.py: pitch of known tones, and its threshold decision worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from measurement_scripts import load_script

from speaker_recognition import SAMPLE_RATE


def pair_cues():
    return load_script("pair_cues")


def _harmonic_tone(f0: float, seconds: float = 1.0) -> np.ndarray:
    time = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return sum(0.3 / k * np.sin(2 * np.pi * k * f0 * time) for k in range(1, 11))


def test_median_log_pitch_finds_the_fundamental_of_tones_and_none_in_silence():
    tones = np.stack(
        [_harmonic_tone(f0) for f0 in (110.0, 180.0, 260.0)] + [np.zeros(SAMPLE_RATE)]
    )
    pitches = pair_cues().median_log_pitch(tones, progress=False)
    assert np.exp(pitches[:3]) == pytest.approx([110.0, 180.0, 260.0], rel=0.01)
    assert np.isnan(pitches[3])


def test_threshold_decisions_fit_on_one_half_and_decide_the_other():
    # Worked by hand. Even clips fit the threshold for odd ones: first speaker's
    # 10 and 2 (median 6), second's 0 and 9 (4.5): 5.25, first above; every odd
    # clip falls on its side. Odd clips fit it for even ones: 11.5 and 2, so
    # 6.75: clip 4 (first, 2) and clip 6 (second, 9) fall on the wrong side.
    feature = np.array([10, 11, 0, 1, 2, 12, 9, 3], float)
    is_first = np.array([1, 1, 0, 0, 1, 1, 0, 0], bool)
    decide = pair_cues().threshold_decisions
    assert decide(feature, is_first).tolist() == [1, 1, 1, 1, 0, 1, 0, 1]
    # The side follows the fitted medians: the same clips mirrored are decided alike.
    assert decide(-feature, is_first).tolist() == [1, 1, 1, 1, 0, 1, 0, 1]
    # A clip without a feature is left undecided and out of the fit.
    feature[7] = np.nan
    decided = decide(feature, is_first)
    assert np.isnan(decided[7]) and decided[:7].tolist() == [1, 1, 1, 1, 0, 1, 0]


def test_threshold_decisions_need_both_speakers_in_each_half():
    with pytest.raises(ValueError, match="both speakers"):
        pair_cues().threshold_decisions(np.arange(4.0), np.array([1, 0, 1, 0], bool))
