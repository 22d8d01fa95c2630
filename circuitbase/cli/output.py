"""Parse `--param` values and ask before deleting; result rows are drawn by `api.tables`
(`render`, re-exported here for the commands)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import click

from ..api.tables import FORMATS, TABLE_WIDTH, render
from ..errors import CircuitbaseError
from ..schema.records import INT64

__all__ = ["FORMATS", "TABLE_WIDTH", "ask_first", "parse_params", "render"]


def parse_params(values: Sequence[str], *, typed: bool) -> dict[str, Any]:
    """`--param NAME=VALUE` pairs. For a template (`typed`) the text is kept: the template
    converts it to the declared type. For ad hoc Cypher, VALUE is read as JSON where it
    parses (numbers, lists, true), else kept as text."""
    params: dict[str, Any] = {}
    for text in values:
        name, sep, raw = text.partition("=")
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint="--param")
        if typed:
            params[name] = raw
            continue
        try:
            params[name] = json.loads(raw)
        except json.JSONDecodeError:
            params[name] = raw
        if bad := _unsendable_number(params[name]):
            raise click.BadParameter(
                f"{name}: {bad} is not a finite number within 64 bits, the only numbers "
                "a store takes",
                param_hint="--param",
            )
    return params


def _unsendable_number(value: Any) -> str | None:
    """The first number in a parameter that no store takes (past 64 bits, NaN,
    infinite), as text; JSON reads any integer and `Infinity`."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next(filter(None, map(_unsendable_number, items)), None)


def ask_first(yes: bool, question: str, refusal: str) -> None:
    """Ask before a command deletes anything (unless `--yes`); a no ends it with `refusal`
    as its one error line, nothing changed."""
    if not yes and not click.confirm(question, default=False):
        raise CircuitbaseError(refusal)
