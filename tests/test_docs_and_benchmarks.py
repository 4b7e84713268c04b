"""The documentation builds strictly, and the benchmark runs end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples/speaker_recognition/notebooks/train_speaker_recognition.ipynb"


@pytest.mark.slow
def test_docs_build_strictly(tmp_path):
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reference = (tmp_path / "reference" / "index.html").read_text()
    for name in ("MelSpectrogram", "PCEN", "to_tflite", "mel_filterbank"):
        assert name in reference
    # Class headings carry their signature; no raw reST roles or private bases show.
    signatures = [
        re.sub("<[^>]+>", "", code)
        for code in re.findall(r'doc-signature highlight">(.*?)</code>', reference, re.S)
    ]
    assert any(text.startswith("Spectrogram(") and "n_fft=2048" in text for text in signatures)
    for page in tmp_path.rglob("*.html"):
        text = page.read_text()
        for leak in (":func:", ":class:", ":mod:", ":meth:", "_SpectralLayer", "_LegacyLayer"):
            assert leak not in text, (page, leak)
    # The gallery is drawn by the build from the code; spela stays close to librosa there.
    for name in ("spectrogram", "mel_spectrogram", "mfcc", "delta", "pcen", "masking"):
        assert (tmp_path / "img" / "gallery" / f"{name}.png").stat().st_size > 10_000, name
    differences = json.loads((ROOT / "docs" / "img" / "gallery" / "differences.json").read_text())
    for name, figures in differences.items():
        assert figures["max_abs_difference"] <= 1e-4 * figures["max_abs_value"] + 3e-3, name
    # The tutorial page shows the committed notebook with its outputs: every figure, the
    # audio players and the model summary.
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    outputs = [output for cell in cells for output in cell.get("outputs", [])]
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(figures) >= 8, "the notebook is committed without its figures"
    tutorial = (tmp_path / "tutorial" / "index.html").read_text()
    shown = re.findall(r'src="\.\./img/tutorial/(cell\d+_\d+\.png)"', tutorial)
    assert len(shown) == len(figures)
    for name in shown:
        assert (tmp_path / "img" / "tutorial" / name).stat().st_size > 5_000, name
    assert tutorial.count("<audio") >= 3
    assert "Total params" in tutorial


@pytest.mark.slow
def test_benchmark_quick_run(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = (tmp_path / "benchmarks.md").read_text()
    assert "keras.layers.MelSpectrogram TFLite" in page and "librosa" in page
    assert "Machine:" in page and "## In short" in page
    assert "target" not in page  # targets are the benchmark's own business, printed only
    assert "(target " in result.stdout
    assert (tmp_path / "img" / "benchmarks.png").stat().st_size > 10_000
