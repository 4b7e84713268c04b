"""mkdocs hook: show the speaker-recognition notebook, with its outputs, on the tutorial page.

Before each build (``on_pre_build``) the committed notebook is rendered to
Markdown: its prose, its code, the text it printed, its audio players, and its
figures, which are written to ``docs/img/tutorial/``. The result is appended
to ``tutorial.md`` (``on_page_markdown``), so the page always shows the
notebook as committed.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
NOTEBOOK = DOCS.parent / "examples/speaker_recognition/notebooks/train_speaker_recognition.ipynb"
FIGURES = DOCS / "img" / "tutorial"
PAGE = "tutorial.md"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_rendered = ""


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def _fenced(language: str, text: str) -> str:
    return f"```{language}\n{text.rstrip()}\n```\n"


def _markdown_cell(source: str) -> str:
    """The cell's Markdown with every heading one level deeper (the page has its own title)."""
    lines, in_code = [], False
    for line in source.splitlines():
        in_code ^= line.startswith("```")
        lines.append(f"#{line}" if line.startswith("#") and not in_code else line)
    return "\n".join(lines) + "\n"


def _as_displayed(text: str) -> str:
    """Stream text as a terminal shows it: a carriage return rewrites its line (progress bars)."""
    return "\n".join(line.split("\r")[-1] for line in _ANSI.sub("", text).split("\n"))


def _coalesced(outputs: list[dict]) -> list[dict]:
    """Consecutive outputs of one stream joined into one, as Jupyter displays them."""
    joined: list[dict] = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (
            output["output_type"] == "stream"
            and previous is not None
            and previous["output_type"] == "stream"
            and previous["name"] == output["name"]
        ):
            previous["text"] += _text(output["text"])
        else:
            joined.append(
                {**output, "text": _text(output["text"])} if "text" in output else output
            )
    return joined


def _outputs(cell_number: int, outputs: list[dict]) -> list[str]:
    parts = []
    for number, output in enumerate(_coalesced(outputs)):
        data = output.get("data", {})
        if output["output_type"] == "stream":
            parts.append(_fenced("text", _as_displayed(output["text"])))
        elif "image/png" in data:
            name = f"cell{cell_number:02d}_{number:02d}.png"
            (FIGURES / name).write_bytes(base64.b64decode(_text(data["image/png"])))
            parts.append(f"![output of cell {cell_number}](img/tutorial/{name})\n")
        elif "text/html" in data:
            parts.append(_text(data["text/html"]).strip() + "\n")
        elif "text/plain" in data:
            parts.append(_fenced("text", _text(data["text/plain"])))
    return parts


def render(notebook: dict) -> str:
    """Markdown for ``notebook`` (nbformat 4 as parsed JSON); writes its figures."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    for old in FIGURES.glob("*.png"):
        old.unlink()
    parts = []
    for number, cell in enumerate(notebook["cells"]):
        source = _text(cell["source"])
        if cell["cell_type"] == "markdown":
            parts.append(_markdown_cell(source))
        elif cell["cell_type"] == "code":
            parts.append(_fenced("python", source))
            parts.extend(_outputs(number, cell.get("outputs", [])))
    return "\n".join(parts)


def on_pre_build(config, **kwargs) -> None:
    global _rendered
    _rendered = render(json.loads(NOTEBOOK.read_text(encoding="utf-8")))


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    if page.file.src_path != PAGE:
        return markdown
    return f"{markdown.rstrip()}\n\n{_rendered}"
