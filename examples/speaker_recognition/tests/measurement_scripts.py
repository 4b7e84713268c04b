"""The scripts of ``measurements/``, loaded as modules for the tests (they are not a package)."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

MEASUREMENTS_DIR = Path(__file__).resolve().parents[1] / "measurements"


@functools.cache
def load_script(name: str):
    """The module of ``measurements/<name>.py``, loaded once."""
    spec = importlib.util.spec_from_file_location(name, MEASUREMENTS_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
