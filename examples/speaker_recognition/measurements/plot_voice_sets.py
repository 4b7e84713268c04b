"""Draw how every voice set trained with the room recipe fares against the targets.

Reads ``voice_sets.csv`` (one trained run per row, the figures of MEASUREMENTS.md)
and draws babble + room accuracy at 10 and 5 dB against the separation of each
set's two closest voices (``synthetic.closest_voices``), with the targets
(95 % and 90 %) as lines::

    python examples/speaker_recognition/measurements/plot_voice_sets.py

Columns of the table:

- ``voices``: ``enrolled`` (the synthetic set's own voices) or the
  ``--voice-seed`` of ``synthetic.random_voices``;
- ``seed``: the run's ``--seed``;
- ``clips_per_speaker``: the data set's size;
- ``scaled_voices``: ``yes`` for `make demo`'s recipe with scaled voices as
  strangers, ``no`` for the recipe before them;
- ``clean``, ``room_10db``, ``room_5db``, ``int8_room_10db``, ``int8_room_5db``:
  accuracy in percent, float model unless ``int8``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from speaker_recognition import synthetic
from speaker_recognition.files import atomic_path

HERE = Path(__file__).resolve().parent
TABLE = HERE / "voice_sets.csv"
FIGURE = HERE / "voice_sets.png"
COLUMNS = (
    "voices",
    "seed",
    "clips_per_speaker",
    "scaled_voices",
    "clean",
    "room_10db",
    "room_5db",
    "int8_room_10db",
    "int8_room_5db",
)
# The targets: clean, babble + room at 10 and 5 dB, int8 within this of float.
CLEAN_TARGET, ROOM_10DB_TARGET, ROOM_5DB_TARGET, INT8_LOSS = 99.0, 95.0, 90.0, 1.0
# Closest pairs at least this far apart count as well separated (MEASUREMENTS.md).
WELL_SEPARATED = 1.3


@dataclass(frozen=True)
class VoiceSetRun:
    """One trained run of the room recipe on one set of five voices.

    ``separation`` is the :func:`synthetic.separation` of the set's closest
    pair; accuracies are in percent.
    """

    voices: str
    seed: int
    clips_per_speaker: int
    scaled_voices: bool
    separation: float
    clean: float
    room_10db: float
    room_5db: float
    int8_room_10db: float
    int8_room_5db: float

    @property
    def meets_targets(self) -> bool:
        """Whether the run meets every target of the room recipe."""
        return (
            self.clean >= CLEAN_TARGET
            and self.room_10db >= ROOM_10DB_TARGET
            and self.room_5db >= ROOM_5DB_TARGET
            and self.int8_room_10db >= self.room_10db - INT8_LOSS
            and self.int8_room_5db >= self.room_5db - INT8_LOSS
        )


def voices_of(name: str) -> tuple[synthetic.Voice, ...] | list[synthetic.Voice]:
    """The five voices a ``voices`` cell names (``enrolled`` or a voice seed)."""
    if name == "enrolled":
        return synthetic.VOICES
    return synthetic.random_voices(len(synthetic.VOICES), int(name))


def _cell(row: dict, column: str, kind, where: str):
    text = (row.get(column) or "").strip()
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(
            f"{where}: column {column!r} must be {kind.__name__}, got {text!r}"
        ) from None
    return value


def read_runs(path: str | Path = TABLE) -> list[VoiceSetRun]:
    """The runs listed in a ``voice_sets.csv`` table.

    Parameters
    ----------
    path : str or Path
        A CSV file with the columns of ``COLUMNS``.

    Returns
    -------
    list of VoiceSetRun
        One per row, in the file's order, with the closest pair's separation.

    Raises
    ------
    ValueError
        Naming the file, line and column of a missing column or a bad cell.
    """
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}; a table needs {list(COLUMNS)}")
        runs = []
        for line, row in enumerate(reader, start=2):
            where = f"{path}, line {line}"
            name = (row["voices"] or "").strip()
            if name != "enrolled" and not name.isdigit():
                raise ValueError(
                    f"{where}: voices must be 'enrolled' or a voice seed, got {name!r}"
                )
            scaled = (row["scaled_voices"] or "").strip()
            if scaled not in ("yes", "no"):
                raise ValueError(f"{where}: scaled_voices must be 'yes' or 'no', got {scaled!r}")
            accuracies = {c: _cell(row, c, float, where) for c in COLUMNS[4:]}
            for column, value in accuracies.items():
                if not 0 <= value <= 100:
                    raise ValueError(
                        f"{where}: {column} must be a percentage in [0, 100], got {value}"
                    )
            runs.append(
                VoiceSetRun(
                    voices=name,
                    seed=_cell(row, "seed", int, where),
                    clips_per_speaker=_cell(row, "clips_per_speaker", int, where),
                    scaled_voices=scaled == "yes",
                    separation=synthetic.closest_voices(voices_of(name))[2],
                    **accuracies,
                )
            )
    return runs


def plot_runs(runs: list[VoiceSetRun], path: str | Path) -> None:
    """Babble + room accuracy at 10 and 5 dB per voice set, as PNG.

    The voice sets stand along the horizontal axis in the order of their closest
    pair's separation; each set's runs sit side by side, coloured by clips per
    speaker, shaped by the recipe, filled where every target is met.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    sets = sorted({(run.separation, run.voices) for run in runs}, key=lambda s: (s[0], s[1]))
    position = {name: index for index, (_, name) in enumerate(sets)}
    offsets = {(3000, False): -0.27, (3000, True): -0.09, (6000, False): 0.09, (6000, True): 0.27}
    colours = {3000: "tab:blue", 6000: "tab:orange"}
    markers = {False: "o", True: "^"}
    boundary = sum(separation < WELL_SEPARATED for separation, _ in sets) - 0.5

    figure = Figure(figsize=(13, 7.5))
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, 1, sharex=True)
    panels = (("room_10db", ROOM_10DB_TARGET, "10 dB"), ("room_5db", ROOM_5DB_TARGET, "5 dB"))
    for axis, (column, target, snr) in zip(axes, panels, strict=True):
        for run in runs:
            colour = colours.get(run.clips_per_speaker, "tab:gray")
            offset = offsets.get((run.clips_per_speaker, run.scaled_voices), 0.0)
            axis.scatter(
                position[run.voices] + offset + 0.05 * run.seed,
                getattr(run, column),
                s=48,
                marker=markers[run.scaled_voices],
                edgecolors=colour,
                facecolors=colour if run.meets_targets else "none",
                linewidths=1.4,
            )
        axis.axhline(target, color="tab:red", linestyle="--", linewidth=1)
        axis.axvline(boundary, color="0.5", linestyle=":", linewidth=1)
        axis.set(
            ylabel="accuracy (%)",
            title=f"babble + reverberation + band limit at {snr} (target {target:g} %)",
        )
        axis.grid(alpha=0.3, axis="y")
    axes[1].set_xticks(
        range(len(sets)),
        [f"{'own' if n == 'enrolled' else n}\n{s:.2f}" for s, n in sets],
        fontsize=8,
    )
    axes[1].set_xlabel(
        "voice set (own: the enrolled voices; else its --voice-seed) and the separation of its "
        f"two closest voices; right of the dotted line, {WELL_SEPARATED} or more"
    )

    def key(label: str, marker: str = "o", colour: str = "0.3", filled: bool = True):
        fill = "full" if filled else "none"
        return Line2D(
            [], [], marker=marker, linestyle="", color=colour, fillstyle=fill, label=label
        )

    legend = [
        key("3,000 clips per speaker", "s", colours[3000]),
        key("6,000 clips per speaker", "s", colours[6000]),
        key("before scaled voices", filled=False),
        key("scaled voices (make demo)", "^", filled=False),
        key("filled: every target met"),
    ]
    axes[0].legend(handles=legend, loc="upper left", fontsize=8, ncols=2)
    met = sum(run.meets_targets for run in runs)
    figure.suptitle(
        f"{len(runs)} runs of the room recipe on {len(sets)} voice sets, {met} meeting every "
        "target (clean >= 99 %, int8 within 1 point); a second seed sits just right of the first"
    )
    figure.tight_layout()
    with atomic_path(path) as target:
        figure.savefig(target, format="png", dpi=100)


def main(argv: list[str] | None = None) -> int:
    """Command line: read the table, draw the figure; ``error: ...`` for a bad table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=str(TABLE), help="runs to draw (default: %(default)s)")
    parser.add_argument("--out", default=str(FIGURE), help="PNG to write (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        runs = read_runs(args.table)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    plot_runs(runs, args.out)
    met = sum(run.meets_targets for run in runs)
    print(f"{args.out}: {len(runs)} runs, {met} meet every target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
