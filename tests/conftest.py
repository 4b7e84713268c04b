"""Test configuration: quiet TensorFlow, hypothesis profiles, and a log of worst errors.

Tests call ``record_error(key, value)`` to report a measured error; the
terminal summary prints the worst value seen per key, also under xdist.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=int(os.environ.get("SPELA_HYPOTHESIS_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("default")

_ERROR_LOG = Path(__file__).resolve().parent.parent / ".pytest_cache" / "spela-errors.jsonl"


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):
        _ERROR_LOG.parent.mkdir(parents=True, exist_ok=True)
        _ERROR_LOG.write_text("")


@pytest.fixture(scope="session")
def record_error():
    """Append ``(key, value)`` to the session's error log."""

    def record(key: str, value: float) -> None:
        with _ERROR_LOG.open("a") as log:
            log.write(json.dumps({"key": key, "value": float(value)}) + "\n")

    return record


def pytest_terminal_summary(terminalreporter):
    if not _ERROR_LOG.exists():
        return
    worst: dict[str, tuple[float, int]] = {}
    for line in _ERROR_LOG.read_text().splitlines():
        entry = json.loads(line)
        value, count = worst.get(entry["key"], (0.0, 0))
        worst[entry["key"]] = (max(value, entry["value"]), count + 1)
    if worst:
        terminalreporter.section("worst measured errors (relative unless marked)")
        for key in sorted(worst):
            value, count = worst[key]
            terminalreporter.write_line(f"{key:75s} {value:.3e}  over {count} cases")
