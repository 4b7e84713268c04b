"""The table and figure of every voice set trained, against MEASUREMENTS.md's own figures."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from measurement_scripts import load_script

EXAMPLE = Path(__file__).resolve().parents[1]
TABLE = EXAMPLE / "measurements" / "voice_sets.csv"
MEASUREMENTS = (EXAMPLE / "MEASUREMENTS.md").read_text(encoding="utf-8")


def _script():
    return load_script("plot_voice_sets")


def _rows() -> list[dict]:
    with open(TABLE, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _passages(text: str) -> list[str]:
    """Table rows and prose paragraphs, bold marks and line breaks removed."""
    passages = []
    for block in re.split(r"\n\s*\n", text.replace("**", "")):
        if block.lstrip().startswith("|"):
            passages.extend(block.splitlines())
        else:
            passages.append(" ".join(block.split()))
    return passages


def test_every_run_of_the_table_is_one_that_measurements_reports():
    passages = _passages(MEASUREMENTS)
    for row in _rows():
        room = f"{row['room_10db']} / {row['room_5db']}"
        int8 = f"{row['int8_room_10db']} / {row['int8_room_5db']} %"
        assert any(room in passage and int8 in passage for passage in passages), (
            f"voices {row['voices']}, seed {row['seed']}, {row['clips_per_speaker']} clips: "
            f"no passage of MEASUREMENTS.md gives {room} and int8 {int8}"
        )


def test_separations_are_the_ones_measurements_lists():
    # MEASUREMENTS.md's table of closest pairs, one row per voice set.
    listed = {
        ("enrolled" if name == "the synthetic set's own" else name.strip("`").split()[-1]): value
        for name, value in re.findall(
            r"^\| (the synthetic set's own|`--voice-seed \d+`) \| [^|]+ \| [^|]+ \| [^|]+ \| "
            r"([\d.]+) \|",
            MEASUREMENTS,
            flags=re.MULTILINE,
        )
    }
    runs = _script().read_runs(TABLE)
    assert {run.voices for run in runs} <= set(listed)
    for run in runs:
        assert f"{run.separation:.2f}" == listed[run.voices], run.voices


def test_the_figure_is_drawn_and_counts_the_runs_that_meet_every_target(tmp_path, capsys):
    # The targets by hand: clean >= 99, 10 dB >= 95, 5 dB >= 90, int8 at most 1 point below.
    met = 0
    for row in _rows():
        clean, r10, r5, i10, i5 = (
            float(row[c])
            for c in ("clean", "room_10db", "room_5db", "int8_room_10db", "int8_room_5db")
        )
        met += clean >= 99 and r10 >= 95 and r5 >= 90 and i10 >= r10 - 1 and i5 >= r5 - 1
    out = tmp_path / "figure.png"
    assert _script().main(["--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        capsys.readouterr().out.strip() == f"{out}: {len(_rows())} runs, {met} meet every target"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]


def test_the_readme_shows_the_committed_figure():
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    assert "](measurements/voice_sets.png)" in readme
    assert (EXAMPLE / "measurements" / "voice_sets.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "edit, message",
    [
        (("91.7", "high"), ", line 2: column 'room_5db' must be float, got 'high'"),
        (("91.7", "191.7"), ", line 2: room_5db must be a percentage in [0, 100], got 191.7"),
        (("enrolled", "Anna"), ", line 2: voices must be 'enrolled' or a voice seed, got 'Anna'"),
        ((",no,", ",maybe,"), ", line 2: scaled_voices must be 'yes' or 'no', got 'maybe'"),
        (("room_5db,", ""), ": missing columns ['room_5db']"),
    ],
)
def test_a_bad_table_gets_one_error_line_naming_the_file_and_line(tmp_path, capsys, edit, message):
    text = TABLE.read_text(encoding="utf-8")
    table = tmp_path / "runs.csv"
    table.write_text(text.replace(*edit, 1), encoding="utf-8")
    out = tmp_path / "figure.png"
    assert _script().main(["--table", str(table), "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {table}{message}") and error.count("\n") == 1
    assert not out.exists()


def test_a_missing_table_is_named(tmp_path, capsys):
    missing = tmp_path / "absent.csv"
    assert _script().main(["--table", str(missing), "--out", str(tmp_path / "f.png")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and str(missing) in error and error.count("\n") == 1
