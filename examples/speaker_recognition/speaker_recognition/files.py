"""Atomic file writing: a temporary file beside the target, then a rename.

Every file gets the permissions the process umask gives new files (as ``open``
would), and a temporary file is removed if anything interrupts the write: an
error, Ctrl-C, or SIGTERM (the commands turn SIGTERM into an interrupt).
``read_json_object`` reads back the JSON files the commands write.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


class OutputPathError(ValueError):
    """An output cannot be written where it was asked for (the message names the path)."""


def new_file_permissions() -> int:
    """The mode ``open`` gives a new file: ``0o666`` less the process umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def make_folder(path: str | os.PathLike) -> Path:
    """Create the folder ``path`` and its parents, or say clearly why it cannot be.

    Raises
    ------
    OutputPathError
        If ``path`` or one of its parents is a file, or the folder cannot be created.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputPathError(f"cannot create folder {path}: part of it is a file") from None
    except OSError as error:
        raise OutputPathError(f"cannot create folder {path}: {error.strerror or error}") from None
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer; renamed to ``path`` when the block ends.

    If the block raises (or is interrupted), the temporary file is removed and
    ``path`` keeps its old contents.

    Raises
    ------
    OutputPathError
        If ``path`` is a folder or its folder cannot be created or written.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"cannot write {path}: it is a folder")
    make_folder(path.parent)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".tmp"
        )
    except OSError as error:
        raise OutputPathError(f"cannot write {path}: {error.strerror or error}") from None
    temporary = Path(temporary)
    try:
        os.fchmod(handle, new_file_permissions())
        os.close(handle)
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """UTF-8 text version of ``write_bytes_atomically``."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_json_atomically(path: str | os.PathLike, value) -> None:
    """Pretty-printed JSON version of ``write_bytes_atomically``."""
    write_text_atomically(path, json.dumps(value, indent=2) + "\n")


def read_json_object(path: str | os.PathLike, describe: str = "") -> dict:
    """The JSON object held in the file ``path``.

    Raises
    ------
    ValueError
        Naming the file (after ``describe``, e.g. ``"model facts file "``), if
        it is not UTF-8 JSON or holds something other than an object.
    """
    return parse_json_object(Path(path).read_bytes(), f"{describe}{path}")


def parse_json_object(data: bytes, source: str) -> dict:
    """The JSON object in the UTF-8 bytes ``data``.

    Raises
    ------
    ValueError
        Naming ``source``, if ``data`` is not UTF-8 JSON or holds something
        other than an object.
    """
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{source} is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{source} must hold a JSON object, got {type(value).__name__}")
    return value
