"""The table every benchmark prints: phase, items, seconds, items per second."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_table(title: str, rows: list[tuple[str, int, float]]) -> None:
    table = Table(title=title)
    for column in ("phase", "items", "seconds", "items/s"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for phase, items, seconds in rows:
        table.add_row(phase, f"{items:,}", f"{seconds:.1f}", f"{items / seconds:,.0f}")
    Console().print(table)
