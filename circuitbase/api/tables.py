"""Result rows drawn as text: a table in box-drawing characters, JSON or CSV. The
command line prints them; a notebook's results (`api.results`) show themselves with them
in a terminal."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from typing import Any

from ..export.formats import csv_cell

FORMATS = ("table", "json", "csv")
TABLE_WIDTH = 160  # cells: two 80-column terminals side by side, or one wide one


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
            # a cell a spreadsheet would run as a formula is neutralised, as export's are
            writer.writerow({k: csv_cell(_cell(row.get(k))) for k in columns})
        return buffer.getvalue().rstrip("\n")
    count = f"({len(rows)} row{'s' * (len(rows) != 1)})"
    if not columns:  # no rows, or rows without a value
        return f"{title}\n{count}" if title else count
    return (
        box_table(columns, [[_cell(row.get(k)) for k in columns] for row in rows], title=title)
        + "\n"
        + count
    )


def box_table(
    columns: Sequence[str],
    cells: Sequence[Sequence[str]],
    *,
    width: int = TABLE_WIDTH,
    title: str | None = None,
) -> str:
    """A table in box-drawing characters, at most `width` cells wide, long cells folded
    onto more lines (at spaces where they can be).

    Written here rather than drawn by rich: rich's table costs 0.15-0.2 s for a few dozen
    folded rows (its import included), a third of a quick question's whole run."""
    widths = _column_widths(columns, cells, width - 3 * len(columns) - 1)

    def line(left: str, fill: str, joint: str, right: str) -> str:
        return left + joint.join(fill * (w + 2) for w in widths) + right

    out = [line("┏", "━", "┳", "┓"), *_table_row(columns, widths, "┃"), line("┡", "━", "╇", "┩")]
    for row in cells:
        out += _table_row(row, widths, "│")
    out.append(line("└", "─", "┴", "┘"))
    if title:
        out.insert(0, title.center(sum(widths) + 3 * len(widths) + 1).rstrip())
    return "\n".join(out)


def _column_widths(columns: Sequence[str], cells: Sequence[Sequence[str]], room: int) -> list[int]:
    """Each column's natural width (its longest line), the widest ones cut to a common
    cap when together they exceed `room`; no column narrower than 4 cells or its header's
    longest word."""
    natural = [
        max(
            [
                _width(part)
                for text in (name, *(row[i] for row in cells))
                for part in text.split("\n")
            ]
        )
        for i, name in enumerate(columns)
    ]
    floor = [
        min(n, max(4, *(_width(w) for w in name.split()))) for n, name in zip(natural, columns)
    ]
    if sum(natural) <= room:
        return natural

    def total(cap: int) -> int:
        return sum(max(f, min(n, cap)) for n, f in zip(natural, floor))

    low, high = 1, max(natural)  # the widest cap that fits: total() grows with the cap
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if total(middle) <= room else (low, middle - 1)
    return [max(f, min(n, low)) for n, f in zip(natural, floor)]


def _table_row(values: Sequence[str], widths: Sequence[int], bar: str) -> list[str]:
    folded = [_fold(value, width) for value, width in zip(values, widths)]
    height = max(len(lines) for lines in folded)
    return [
        bar
        + bar.join(
            f" {_pad(lines[i] if i < len(lines) else '', width)} "
            for lines, width in zip(folded, widths)
        )
        + bar
        for i in range(height)
    ]


def _fold(text: str, width: int) -> list[str]:
    """`text`'s lines, each cut into pieces at most `width` cells wide, at spaces where a
    word fits, inside a word where it does not (in time linear in the text)."""
    pieces: list[str] = []
    for paragraph in text.split("\n"):
        current, used = "", 0
        for word in paragraph.split(" "):
            size = _width(word)
            if current and used + 1 + size <= width:
                current, used = f"{current} {word}", used + 1 + size
                continue
            if current:
                pieces.append(current)
            current, used = word, size
            if size > width:  # a word wider than the column: cut it where it must be
                cuts = _cut(word, width)
                pieces += cuts[:-1]
                current = cuts[-1]
                used = _width(current)
        pieces.append(current)
    return pieces


def _cut(word: str, width: int) -> list[str]:
    """`word` in consecutive pieces of at most `width` cells (a wide character that does
    not fit starts the next piece)."""
    pieces, start, used = [], 0, 0
    for i, char in enumerate(word):
        size = _char_width(char)
        if used + size > width and i > start:
            pieces.append(word[start:i])
            start, used = i, 0
        used += size
    pieces.append(word[start:])
    return pieces


def _width(text: str) -> int:
    """Terminal cells: East Asian wide and full-width characters take two, combining
    marks none."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


def _char_width(char: str) -> int:
    if char.isascii():
        return 1
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
