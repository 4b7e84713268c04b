"""Argument checks shared by spela_tflite and spela (private)."""

from __future__ import annotations

import numbers


def _check_positive_int(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int, if it is an integer (not a bool) in ``[minimum, maximum]``."""
    allowed = (
        f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return int(value)
