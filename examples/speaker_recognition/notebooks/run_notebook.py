"""Execute the training notebook in place, so that the committed copy shows its outputs.

Usage (from the repository root, after ``make`` has installed the venv)::

    python examples/speaker_recognition/notebooks/run_notebook.py

The notebook runs with its defaults (synthetic voices, 15 epochs) in this
folder; its run folder ``runs/notebook`` is not committed. The notebook is
replaced only when every cell ran without error.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from tqdm import tqdm

from speaker_recognition.files import write_text_atomically

FOLDER = Path(__file__).resolve().parent
NOTEBOOK = FOLDER / "train_speaker_recognition.ipynb"


def main() -> int:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=3600, kernel_name="python3", resources={"metadata": {"path": FOLDER}}
    )
    started = time.perf_counter()
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    with client.setup_kernel():
        for index, cell in enumerate(tqdm(notebook.cells, desc="cells", unit="cell")):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
    for cell in code_cells:
        cell.metadata.pop("execution", None)
    write_text_atomically(NOTEBOOK, nbformat.writes(notebook) + "\n")
    print(f"executed {len(code_cells)} cells in {time.perf_counter() - started:.0f} s: {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
