"""How every ``python -m speaker_recognition.*`` command ends: one line per user error.

A command's ``main`` is wrapped by ``command``. User errors (bad files,
bad folders, bad arguments: ``ValueError`` and ``OSError`` and their
subclasses such as ``AudioFileError`` and ``DatasetError``) print one
``error: ...`` line naming the file or argument and exit with status 2;
Ctrl-C and SIGTERM exit with status 130 after the atomic writers have removed
their temporary files. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import functools
import signal
import sys
import threading
from collections.abc import Callable

from spela_tflite.quiet import import_tensorflow_quietly

USER_ERROR_STATUS = 2
INTERRUPTED_STATUS = 130


def describe(error: BaseException) -> str:
    """One line for a user error; OS errors name their file."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def command(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Wrap a command's ``main(argv) -> status`` with the shared error handling."""

    @functools.wraps(main)
    def wrapped(argv: list[str] | None = None) -> int:
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
        try:
            return main(argv)
        except (ValueError, OSError) as error:
            print(f"error: {describe(error)}", file=sys.stderr)
            return USER_ERROR_STATUS
        except KeyboardInterrupt:
            print("error: interrupted; no partial files were left", file=sys.stderr)
            return INTERRUPTED_STATUS
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)

    return wrapped


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--verbose``, which shows TensorFlow's, Keras's and LiteRT's logging."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's, Keras's and LiteRT's logging (hidden by default)",
    )


def start_tensorflow(args: argparse.Namespace) -> None:
    """Import TensorFlow after the arguments are parsed: quietly unless ``--verbose``."""
    import_tensorflow_quietly(args.verbose)
