"""The training notebook runs top to bottom on a small synthetic dataset."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "train_speaker_recognition.ipynb"


def _texts(outputs) -> list[str]:
    """The text of each stream output and each plain-text display."""
    return [
        o.text if o.output_type == "stream" else o.get("data", {}).get("text/plain", "")
        for o in outputs
    ]


@pytest.mark.slow
def test_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEAKER_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("SPEAKER_EPOCHS", "2")
    monkeypatch.setenv("SPEAKER_CLIPS", "40")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # data figure, curves, confusion, SNR, predictions
    assert (tmp_path / "run" / "export" / "model_int8.tflite").is_file()
    streams = "".join(o.text for o in outputs if o.output_type == "stream")
    for noise in ("I0000", "E0000", "W0000", "oneDNN", "absl", "INFO:", "XNNPACK"):
        assert noise not in streams, noise
    audio = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len([o for o in audio if "<audio" in o["data"]["text/html"]]) >= 3
    assert any("Total params" in text for text in _texts(outputs))
    (training,) = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and "train.train(" in cell.source
    ]
    confusion_per_epoch = [o for o in training.outputs if "image/png" in o.get("data", {})]
    assert len(confusion_per_epoch) == 2  # one figure per epoch
    assert os.environ["SPEAKER_EPOCHS"] == "2"
