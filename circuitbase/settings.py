"""Numbers taken from the environment, each checked where it is read.

A setting such as `CIRCUITBASE_QUERY_TIMEOUT=abc` used to end every command in a
traceback from the module that read it; here a value that is not a number in its range
is one line naming the variable and what it takes.
"""

from __future__ import annotations

import math
import os

from .errors import CircuitbaseError


class SettingError(CircuitbaseError):
    """An environment variable circuitbase reads holds a value it cannot use."""


def env_number(
    name: str, default: float, low: float, high: float, *, integer: bool = False
) -> float:
    """`$name` as a number in [low, high] (`default` when unset or empty)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return int(default) if integer else default
    try:
        value: float = int(text) if integer else float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        kind = "a whole number" if integer else "a number"
        raise SettingError(f"${name} must be {kind} from {low:g} to {high:g}, not {text[:40]!r}")
    return value
