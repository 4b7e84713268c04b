"""The ``spela`` command (kept here for ``python -m spela.cli``; it lives in ``spela_tflite``)."""

import sys

from spela_tflite.command import CommandError, build_parser, main

__all__ = ["CommandError", "build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
