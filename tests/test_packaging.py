"""Packaging as a user meets it: which release pip picks, and what the sdist carries."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import spela
from spela_tflite.command import main

ROOT = Path(__file__).resolve().parent.parent


def _fake_wheel(folder: Path, version: str) -> Path:
    """A wheel of ``spela`` at ``version``, standing in for an older release on an index."""
    path = folder / f"spela-{version}-py3-none-any.whl"
    info = f"spela-{version}.dist-info"
    files = {
        "spela/__init__.py": f'__version__ = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: spela\nVersion: {version}\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def _build(kind: str, folder: Path) -> Path:
    """Build this checkout's sdist or wheel with the installed setuptools (no network)."""
    code = (
        f"import sys; from setuptools import build_meta as b; print(b.build_{kind}(sys.argv[1]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return folder / result.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_pip_picks_this_release_over_0_0_5_and_the_sdist_carries_the_tests(tmp_path):
    # One test builds both: two builds at once would share the checkout's build folders.
    sdist = _build("sdist", tmp_path)
    with tarfile.open(sdist) as archive:
        names = {Path(*Path(name).parts[1:]).as_posix() for name in archive.getnames()}
    assert {name for name in names if name.startswith("tests/test_")}, "no tests in the sdist"
    for helper in ("tests/conftest.py", "tests/reference.py", "tests/strategies.py"):
        assert helper in names, helper

    index = tmp_path / "index"
    index.mkdir()
    _fake_wheel(index, "0.0.5")
    wheel = _build("wheel", index)
    assert wheel.name == f"spela-{spela.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        assert "spela_tflite/command.py" in archive.namelist()
        entry_points = archive.read(f"spela-{spela.__version__}.dist-info/entry_points.txt")
    assert "spela = spela_tflite.command:main" in entry_points.decode()
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "spela",
            "--dry-run",
            "--no-deps",
            "--ignore-installed",
            "--no-index",
            "--find-links",
            str(index),
            "--quiet",
            "--report",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    chosen = [item["metadata"]["version"] for item in json.loads(report.stdout)["install"]]
    assert chosen == [spela.__version__], chosen


def test_version_is_a_final_release_above_0_0_5():
    # A final release is digits and dots only (PEP 440): no a/b/rc/dev suffix.
    final = re.fullmatch(r"\d+(\.\d+)*", spela.__version__)
    assert final, spela.__version__
    assert tuple(int(part) for part in final.group(0).split(".")) > (0, 0, 5)


def test_version_option(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.startswith("spela ")
