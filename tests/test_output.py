"""The result table a command prints: straight columns within the width, nothing lost
when a long cell is folded, wide characters counted as the two cells a terminal gives them."""

from __future__ import annotations

import unicodedata

from circuitbase.cli.output import TABLE_WIDTH, render


def cells(line: str) -> int:
    """Terminal cells of a line, counted independently of the renderer."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        for c in line
    )


def body(table: str) -> list[str]:
    return [line for line in table.splitlines() if line.startswith(("┃", "│"))]


def test_long_cells_fold_within_the_width_and_keep_every_character() -> None:
    evidence = "; ".join(f"metric_{i} {i * 0.137:.3g} | {i * 0.071:.3g}" for i in range(12))
    uid = "neuronpedia-headvis/" + "x" * 90 + "/monology/pile-uncopyrighted"  # one long word
    rows = [
        {
            "match": f"model-{i}/L{i}/H{i}",
            "score": 0.5 + i / 100,
            "analysis": uid,
            "evidence": evidence,
            "note": None,
        }
        for i in range(3)
    ]
    table = render(rows, "table")
    lines = table.splitlines()
    assert lines[-1] == "(3 rows)"
    widths = {cells(line) for line in lines[:-1]}
    assert len(widths) == 1 and widths.pop() <= TABLE_WIDTH  # straight, within the width
    columns = [part.strip() for part in body(table)[0].strip("┃").split("┃")]
    assert columns == ["match", "score", "analysis", "evidence", "note"]
    # the folded pieces of each column, read down a row, give back the cell
    first_row = body(table)[1:]
    first_row = first_row[
        : next(i for i, line in enumerate(first_row[1:], 1) if line.split("│")[1].strip())
    ]
    pieces = [[line.split("│")[k].strip() for line in first_row] for k in range(1, 6)]
    assert "".join(pieces[2]) == uid
    assert " ".join(p for p in pieces[3] if p) == evidence
    assert pieces[0][0] == "model-0/L0/H0" and pieces[1][0] == "0.5" and not any(pieces[4])


def test_wide_characters_and_newlines_keep_columns_straight() -> None:
    rows = [
        {"token": "日本語のトークン", "text": "line one\nline two", "n": 1},
        {"token": "e\u0301", "text": "plain", "n": 22},
    ]
    table = render(rows, "table", title="Tokens")
    lines = table.splitlines()
    assert lines[0].strip() == "Tokens"
    assert len({cells(line) for line in lines[1:-1]}) == 1
    assert any("line two" in line for line in lines)


def test_no_rows_is_said() -> None:
    assert render([], "table") == "(0 rows)"
    assert render([], "table", title="Models") == "Models\n(0 rows)"
