"""How well pitch alone tells two voices apart, against the trained model, in a room.

For a training run and two of its speakers, this rebuilds the report's test
clips in babble + room at one SNR (``train.room_test_copies``: the clips
behind ``report.json``'s figures) and compares, on the clips of those two
speakers:

- the model's decision between them: which of the two speakers' probabilities
  is higher;
- a decision from pitch alone: each clip's median log f0 over its voiced
  frames (``librosa.pyin``, 70-400 Hz), against a threshold halfway between
  the two speakers' medians, fitted on alternate clips and tested on the
  others (both ways round);

on the clean clips and on the degraded ones, and how often pitch decides
right the degraded clips the model gets wrong; then the model's decision on
clean clips through the test's rooms alone (``train.room_alone_copies``:
reverberation, channel, both), with no babble. Where pitch is right on them
no more often than a coin, the model's errors are not a pitch cue it leaves
unused::

    python examples/speaker_recognition/measurements/pair_cues.py runs/other_voices Voice3 Voice4

It needs ``librosa`` (``pip install librosa``; the development install has it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE, train
from speaker_recognition.commands import add_verbose_option, command, start_tensorflow
from speaker_recognition.files import read_json_object

PITCH_RANGE_HZ = (70.0, 400.0)
PITCH_FRAME, PITCH_HOP = 1024, 160
CONDITION = "babble + room"


def median_log_pitch(clips: np.ndarray, progress: bool = True) -> np.ndarray:
    """Each clip's median natural-log f0 over its voiced frames (``librosa.pyin``).

    Parameters
    ----------
    clips : np.ndarray
        ``(n, samples)`` audio at ``SAMPLE_RATE``.
    progress : bool, default True
        Show a progress bar (about 0.1 s per 1-s clip on one core).

    Returns
    -------
    np.ndarray
        ``(n,)`` float64, log of Hz; NaN for a clip without a voiced frame.
    """
    import librosa

    pitches = np.full(len(clips), np.nan)
    for i, clip in enumerate(tqdm(clips, desc="pitch", unit="clip", disable=not progress)):
        f0, voiced, _ = librosa.pyin(
            np.asarray(clip, np.float64),
            fmin=PITCH_RANGE_HZ[0],
            fmax=PITCH_RANGE_HZ[1],
            sr=SAMPLE_RATE,
            frame_length=PITCH_FRAME,
            hop_length=PITCH_HOP,
        )
        f0 = f0[voiced & np.isfinite(f0)]
        if len(f0):
            pitches[i] = np.median(np.log(f0))
    return pitches


def threshold_decisions(feature: np.ndarray, is_first: np.ndarray) -> np.ndarray:
    """Whether a one-number threshold, fitted on the other half, decides each clip right.

    Clips alternate between two halves. On each half, the threshold lies
    halfway between the medians of the two speakers' ``feature`` in the other
    half, on the side that half's medians say; the clip is decided right when
    it falls on its own speaker's side.

    Parameters
    ----------
    feature : np.ndarray
        ``(n,)`` one number per clip; NaN where there is none.
    is_first : np.ndarray
        ``(n,)`` bool: the clip is the first speaker's (else the second's).
        Each half must hold clips of both speakers with a feature.

    Returns
    -------
    np.ndarray
        ``(n,)`` float64: 1.0 right, 0.0 wrong, NaN where ``feature`` is NaN.

    Raises
    ------
    ValueError
        If a half lacks a clip of either speaker with a feature.
    """
    feature = np.asarray(feature, np.float64)
    is_first = np.asarray(is_first, bool)
    known = np.isfinite(feature)
    halves = np.arange(len(feature)) % 2 == 0
    right = np.full(len(feature), np.nan)
    for fit in (halves, ~halves):
        first = feature[fit & known & is_first]
        second = feature[fit & known & ~is_first]
        if not len(first) or not len(second):
            raise ValueError("each half of the clips needs clips of both speakers with a feature")
        middle = (np.median(first) + np.median(second)) / 2
        first_above = np.median(first) > middle
        tested = ~fit & known
        right[tested] = ((feature[tested] > middle) == first_above) == is_first[tested]
    return right


def share(values: np.ndarray) -> str:
    """The mean of the defined (non-NaN) 0/1 values as a percentage, and how many there are."""
    values = values[np.isfinite(values)]
    if not len(values):
        return "no clip"
    return f"{100 * values.mean():.1f} % of {len(values)}"


def reported_accuracy(run_dir: Path, snr_db: float) -> float | None:
    """``report.json``'s babble + room accuracy at ``snr_db`` (a fraction), if it has one."""
    path = run_dir / "report.json"
    if not path.is_file():
        return None
    by_condition = read_json_object(path).get("accuracy_by_condition", {})
    value = by_condition.get(CONDITION, {}).get(f"{snr_db:g}")
    return float(value) if isinstance(value, (int, float)) else None


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a training run folder (train's --out)")
    parser.add_argument("first", help="one speaker of the run's labels")
    parser.add_argument("second", help="another speaker of the run's labels")
    parser.add_argument("--snr", type=float, default=5.0, help="babble's SNR in dB (default 5)")
    add_verbose_option(parser)
    args = parser.parse_args(argv)
    try:
        import librosa  # noqa: F401
    except ImportError:
        raise ValueError("pair_cues.py needs librosa: pip install librosa") from None
    run = train.load_run(args.run)
    names = run["labels"]
    for voice in (args.first, args.second):
        if voice not in names:
            raise ValueError(f"{voice!r} is not a speaker of {args.run}: {', '.join(names)}")
    if args.first == args.second:
        raise ValueError("first and second must be two different speakers")
    start_tensorflow(args)
    model = train.load_run_model(args.run, len(names))
    clips, labels = train.run_split(run, "test").sample(train.REPORT_CLIPS)
    no_noise_files = np.zeros((0, CLIP_SAMPLES), np.float32)
    degraded = train.room_test_copies(clips, labels, no_noise_files, run["seed"])(
        CONDITION, args.snr
    )
    first, second = names.index(args.first), names.index(args.second)
    pair = np.flatnonzero((labels == first) | (labels == second))
    is_first = labels[pair] == first
    print(f"{len(pair)} test clips of {args.first} and {args.second}, of {len(labels)}")
    reported = reported_accuracy(args.run, args.snr)

    def model_decisions(version: np.ndarray) -> tuple[float, np.ndarray]:
        """Every speaker's accuracy in %, and per pair clip whether its right voice wins."""
        probabilities = train.predict(model, version)
        accuracy = 100 * float((probabilities.argmax(1) == labels).mean())
        return accuracy, (probabilities[pair, first] > probabilities[pair, second]) == is_first

    for name, version in (("clean", clips), (f"{CONDITION} at {args.snr:g} dB", degraded)):
        accuracy, model_right = model_decisions(version)
        pitch = median_log_pitch(version[pair])
        pitch_right = threshold_decisions(pitch, is_first)
        print(f"{name}: every speaker {accuracy:.1f} %")
        if version is degraded and reported is not None:
            print(f"  (report.json: {100 * reported:.1f} %)")
        print(f"  between the two, the model: {share(model_right.astype(float))}")
        print(f"  between the two, pitch alone: {share(pitch_right)}")
        print(
            f"  median f0: {args.first} {np.exp(np.nanmedian(pitch[is_first])):.0f} Hz, "
            f"{args.second} {np.exp(np.nanmedian(pitch[~is_first])):.0f} Hz"
        )
    # The loop ends on the degraded clips: pitch on the model's errors there.
    print(
        "  of the clips the model decides wrong between the two, pitch alone decides right "
        f"{share(pitch_right[~model_right])}"
    )
    print("room alone (clean clips, no babble):")
    for name, version in train.room_alone_copies(clips, run["seed"]):
        accuracy, model_right = model_decisions(version)
        print(
            f"  {name}: every speaker {accuracy:.1f} %; "
            f"between the two, the model: {share(model_right.astype(float))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
