"""How often a voice the model was not trained on gets a confident speaker label in the app.

The Android demo classifies the last second every 250 ms, smooths the
probabilities over windows (exponential moving average, weight 0.5), and names
the most probable speaker when its smoothed probability reaches 0.6 (else
"Unsure"; quieter than -50 dBFS is "No speech"). For a model with a no-one
output (``model.has_no_one_output``; ``"no_one_output"`` in ``model.json``) it
shows "No one speaking" where what the smoothed probabilities leave of 1 reaches
0.6 and exceeds the top speaker's. This module replays that rule on recordings
of synthetic strangers (voices drawn at random from the ranges of the synthetic
set's voices), of noise with no one speaking, and of the enrolled speakers' test
clips, so that the share of confident labels for strangers and for noise (false
accepts) can be read against the share for enrolled speakers, at several
thresholds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE, synthetic

WINDOW_HOP = SAMPLE_RATE // 4  # the app's 250 ms
SMOOTHING_WEIGHT = 0.5
SILENCE_DBFS = -50.0
THRESHOLDS = (0.6, 0.7, 0.8, 0.9)
# With 5 strangers the share labelled moved by several points between models
# of one recipe; 20 (about 900 windows) cost a few seconds more.
STRANGER_COUNT = 20
# Noise alone is played at a level drawn from this range (dBFS, RMS): above the
# app's "No speech" level, up to a loud room.
NOISE_DBFS = (-45.0, -20.0)


def stranger_voices(count: int, seed: int) -> list[synthetic.Voice]:
    """``count`` random voices in the parameter ranges of the enrolled ones."""
    return synthetic.random_voices(count, seed, prefix="Stranger")


def no_one_share(probabilities: np.ndarray) -> np.ndarray:
    """What speakers' probabilities ``(..., speakers)`` leave of 1, at least 0: ``(...)``.

    For a model with a no-one output (``model.has_no_one_output``), the
    probability that no one speaks; for another, rounding.
    """
    return np.maximum(0.0, 1.0 - np.sum(probabilities, axis=-1, dtype=np.float64))


def decisions(
    probabilities_of: Callable[[np.ndarray], np.ndarray], recording: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The app's smoothed top probability and speaker for each 250-ms step of ``recording``.

    A window whose latest 250 ms are silence is left out and clears the
    smoothing, as in the app's ``SpeakerListener``: the next window starts from
    its own probabilities.

    Returns
    -------
    confidence, best, no_one : np.ndarray
        Per window that is not silence: the smoothed top probability, its index,
        and what the smoothed probabilities leave of 1, at least 0 (for a model
        with a no-one output, the probability that no one speaks; for another,
        rounding).
    """
    starts = range(0, recording.size - CLIP_SAMPLES + 1, WINDOW_HOP)
    windows = np.stack([recording[s : s + CLIP_SAMPLES] for s in starts])
    latest = windows[:, -WINDOW_HOP:]
    level = 10 * np.log10(np.mean(latest.astype(np.float64) ** 2, axis=1) + 1e-20)
    probabilities = probabilities_of(windows)
    smoothed, confidence, best, no_one = None, [], [], []
    for p, loud in zip(probabilities, level >= SILENCE_DBFS, strict=True):
        smoothed = (
            p if smoothed is None else (1 - SMOOTHING_WEIGHT) * smoothed + SMOOTHING_WEIGHT * p
        )
        if loud:
            confidence.append(float(smoothed.max()))
            best.append(int(smoothed.argmax()))
            no_one.append(float(no_one_share(smoothed)))
        else:
            smoothed = None  # as the app does after "No speech": the next speaker starts fresh
    return np.array(confidence), np.array(best, dtype=int), np.array(no_one)


def noise_recordings(
    noises: Sequence[np.ndarray], seed: int, seconds: float = 12.0
) -> list[np.ndarray]:
    """Recordings of noise alone, as the app hears a room where no one speaks.

    Parameters
    ----------
    noises : sequence of np.ndarray
        Noise recordings ``(samples,)`` at 16 kHz, e.g. the held-out parts of a
        dataset's noise files (``data.noise_parts(..., "test")``); those shorter
        than one window (1 s) are left out. Their level does not matter.
    seed : int
        Seed of the white noise and of the levels.
    seconds : float
        Length of the white-noise recording, which is always added.

    Returns
    -------
    list of np.ndarray
        float32 recordings, each scaled to an RMS level drawn uniformly from
        ``NOISE_DBFS`` and clipped to [-1, 1].
    """
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(int(seconds * SAMPLE_RATE))
    recordings = []
    for noise in [*(n for n in noises if n.size >= CLIP_SAMPLES), white]:
        noise = np.asarray(noise, np.float64)
        level = 10 ** (rng.uniform(*NOISE_DBFS) / 20)
        scaled = noise * level / (np.sqrt(np.mean(noise**2)) + 1e-12)
        recordings.append(np.clip(scaled, -1.0, 1.0).astype(np.float32))
    return recordings


def confident_rates(
    probabilities_of: Callable[[np.ndarray], np.ndarray],
    enrolled: list[tuple[int, np.ndarray]],
    seed: int,
    strangers: int = STRANGER_COUNT,
    seconds: float = 12.0,
    noises: Sequence[np.ndarray] = (),
    no_one_output: bool = False,
) -> dict:
    """Share of non-silent windows named confidently: strangers, noise alone, enrolled speakers.

    Parameters
    ----------
    probabilities_of : callable
        ``(windows, CLIP_SAMPLES)`` audio to ``(windows, speakers)`` probabilities.
    enrolled : list of (int, np.ndarray)
        Recordings of the enrolled speakers the model did not train on (e.g.
        their test clips, end to end), each with the speaker's label index.
    seed : int
        Seed of the strangers' voices and speech.
    strangers, seconds
        How many strangers, and the length of each one's recording.
    noises : sequence of np.ndarray
        Noise ``(samples,)`` the model did not train on, played alone (``noise_recordings``);
        white noise of ``seconds`` is always among it.
    no_one_output : bool, default False
        Whether the model has a no-one output (``model.has_no_one_output``), so
        that the app may show "No one speaking".

    Returns
    -------
    dict
        ``{"strangers": {threshold: rate}, "noise": {threshold: rate},
        "enrolled": {threshold: rate}, "enrolled_correct": {threshold: rate},
        "stranger_voices": int, "stranger_windows": int, "noise_recordings":
        int, "noise_windows": int, "enrolled_windows": int}`` (thresholds as
        strings), where ``enrolled_correct`` counts only confident labels naming
        the right speaker, and the counts say how many voices, recordings and
        non-silent windows the rates are shares of. With ``no_one_output``,
        also ``"shown_no_one": {"strangers": {threshold: rate}, "noise": ...,
        "enrolled": ...}``: the share of windows on which the app shows "No one
        speaking".
    """
    rng = np.random.default_rng(seed)

    def recording(voice):
        speech = synthetic.synthesize_speech(voice, seconds, rng)
        speech *= 10 ** (rng.uniform(-30.0, -16.0) / 20) / (np.sqrt(np.mean(speech**2)) + 1e-12)
        return np.clip(speech, -1.0, 1.0).astype(np.float32)

    def shares(confidence):
        return {f"{t:g}": float(np.mean(confidence >= t)) for t in THRESHOLDS}

    def shown_no_one(steps):
        confidence = np.concatenate([c for c, _, _ in steps])
        no_one = np.concatenate([n for _, _, n in steps])
        return {
            f"{t:g}": float(np.mean((no_one >= t) & (no_one > confidence))) for t in THRESHOLDS
        }

    voices = stranger_voices(strangers, seed)
    stranger = [decisions(probabilities_of, recording(v)) for v in voices]
    # A stream of its own, so that the strangers' speech does not depend on the noise.
    played = noise_recordings(noises, seed + 1, seconds)
    noise = [decisions(probabilities_of, n) for n in played]
    known = [(index, decisions(probabilities_of, audio)) for index, audio in enrolled]
    stranger_confidence = np.concatenate([c for c, _, _ in stranger])
    noise_confidence = np.concatenate([c for c, _, _ in noise])
    enrolled_confidence = np.concatenate([c for _, (c, _, _) in known])
    enrolled_right = np.concatenate([b == index for index, (_, b, _) in known])
    no_one = {}
    if no_one_output:
        no_one["shown_no_one"] = {
            "strangers": shown_no_one(stranger),
            "noise": shown_no_one(noise),
            "enrolled": shown_no_one([steps for _, steps in known]),
        }
    return {
        "strangers": shares(stranger_confidence),
        "noise": shares(noise_confidence),
        "enrolled": shares(enrolled_confidence),
        "enrolled_correct": {
            f"{t:g}": float(np.mean((enrolled_confidence >= t) & enrolled_right))
            for t in THRESHOLDS
        },
        "stranger_voices": len(voices),
        "stranger_windows": int(stranger_confidence.size),
        "noise_recordings": len(played),
        "noise_windows": int(noise_confidence.size),
        "enrolled_windows": int(enrolled_confidence.size),
        **no_one,
    }


def summary_line(rates: dict, threshold: float = 0.6) -> str:
    """One line of ``confident_rates``'s figures at ``threshold``, for the summaries.

    Shares are given to a tenth of a point, so that 99.6 % of enrolled windows
    named right does not read as all of them.

    Parameters
    ----------
    rates : dict
        The output of ``confident_rates`` (or ``report.json``'s
        ``confident_label_rate``).
    threshold : float, default 0.6
        One of ``THRESHOLDS``: the app's rule names a speaker at or above it.

    Returns
    -------
    str
        E.g. ``"20 strangers named at 0.6 in 37.8% of their windows, noise alone
        in 0.0% of its; enrolled speakers named right in 99.3%"`` (a report
        written before noise alone was measured gives no figure for it), then,
        for a model with a no-one output, ``"; "No one speaking" over noise
        alone in 97.6%, strangers 3.1%, enrolled speakers 0.4%"``.
    """
    key = f"{threshold:g}"
    if key not in rates["strangers"]:
        raise ValueError(f"threshold must be one of {THRESHOLDS}, got {threshold!r}")
    noise = f", noise alone in {rates['noise'][key]:.1%} of its" if "noise" in rates else ""
    line = (
        f"{rates['stranger_voices']} strangers named at {key} in "
        f"{rates['strangers'][key]:.1%} of their windows{noise}; enrolled speakers named "
        f"right in {rates['enrolled_correct'][key]:.1%}"
    )
    if "shown_no_one" in rates:
        shown = rates["shown_no_one"]
        line += (
            f'; "No one speaking" over noise alone in {shown["noise"][key]:.1%}, '
            f"strangers {shown['strangers'][key]:.1%}, "
            f"enrolled speakers {shown['enrolled'][key]:.1%}"
        )
    return line
