"""Print result rows as a rich table, JSON or CSV; ask before deleting."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import click

from ..errors import CircuitbaseError

FORMATS = ("table", "json", "csv")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def render(rows: Sequence[dict[str, Any]], fmt: str, *, title: str | None = None) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False, default=str)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})
        return buffer.getvalue().rstrip("\n")
    from rich.console import Console  # only tables need rich: JSON and CSV start faster
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(k)) for k in columns))
    console = Console(file=io.StringIO(), width=160, force_terminal=False)
    console.print(table)
    return console.file.getvalue().rstrip("\n") + f"\n({len(rows)} row{'s' * (len(rows) != 1)})"


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
    return params


def ask_first(yes: bool, question: str, refusal: str) -> None:
    """Ask before a command deletes anything (unless `--yes`); a no ends it with `refusal`
    as its one error line, nothing changed."""
    if not yes and not click.confirm(question, default=False):
        raise CircuitbaseError(refusal)
