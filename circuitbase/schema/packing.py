"""How the lists of a packed relationship type (`RelSpec.packed`: a feature's evidence, its
logits and histograms, and each activation example's tokens and values) are stored: each
list as one text, not as a list of values.

A dictionary feature's examples are most of its bytes: twenty examples of 64 tokens are
2,560 values, and a server keeps each value of a list as its own cell (FalkorDB 16 bytes
and an allocation per text; 3.7 KB an example, three quarters of a feature). One text per
list is a fifth of that and is written and read in one piece.

A packed list is `MARK`, a letter for the type of its values, then the values:

    \\x1es["the"," cat"]     text: JSON, every character kept
    \\x1ef0,0,2.375,1e-05     numbers: each the shortest text that reads back as the same
                             64-bit float (`repr`, a trailing `.0` dropped): lossless, and
                             as precise as the source wrote it (Neuronpedia writes three
                             decimals, which 32-bit floats would not keep; mostly zeros,
                             which little-endian doubles would spend 8 bytes on)
    \\x1ei3,-1,7              integers
    \\x1eb1001                booleans
    \\x1ef                    an empty list (of any type)

The planner packs each row (ingest/scratch.py), so every write path stores what `pack`
gives; the store's reads of whole facts (`show`, exports, the explorer) give back what
`unpack` gives, so only `query run --cypher` sees the texts. A stored text
of a packed type that begins with MARK is always a packed list: a source's text cannot
(MARK is a control character, refused in most texts, and `pack` refuses a text that
begins with it).
"""

from __future__ import annotations

import json
from typing import Any

from .graph import RelType
from .records import RecordError

MARK = "\x1e"  # ASCII's record separator
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def pack(props: dict[str, Any]) -> dict[str, Any]:
    """`props` with each list as its packed text (other values as they are). A text that
    begins with MARK is refused: read back, it would be taken for a list."""
    found = False
    for name, value in props.items():
        if type(value) is list:
            found = True
        elif type(value) is str and value.startswith(MARK):
            raise RecordError(
                "a text beginning with ASCII's record separator (\\x1e) is refused here: "
                "it is how circuitbase stores lists",
                field=name,
            )
    if not found:
        return props
    return {name: packed(value) if type(value) is list else value for name, value in props.items()}


def packed(values: list) -> str:
    """One list as its packed text (its values all of one type, as the records' checks
    leave every list: text, floats, integers or booleans)."""
    if not values:
        return MARK + "f"
    first = type(values[0])
    if first is str:
        return MARK + "s" + _DUMPS(values)
    if first is float:
        text = ",".join(map(repr, values)) + ","
        return MARK + "f" + text.replace(".0,", ",")[:-1]
    if first is bool:
        return MARK + "b" + "".join("1" if v else "0" for v in values)
    return MARK + "i" + ",".join(map(str, values))


def unpack(props: dict[str, Any]) -> dict[str, Any]:
    """`props` with each packed text read back as its list."""
    if not any(isinstance(v, str) and v.startswith(MARK) for v in props.values()):
        return props
    return {name: unpacked(value) for name, value in props.items()}


def unpacked(value: Any) -> Any:
    """A packed text's list; any other value as it is."""
    if not isinstance(value, str) or not value.startswith(MARK):
        return value
    kind, text = value[1:2], value[2:]
    if not text:
        return []
    if kind == "s":
        return json.loads(text)
    if kind == "f":
        return [float(v) for v in text.split(",")]
    if kind == "i":
        return [int(v) for v in text.split(",")]
    return [c == "1" for c in text]


def unpacked_facts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows {type, props, ...} of relationships, the props of packed types unpacked (in
    place): the store's reads of whole facts give lists as lists."""
    names = {type_.value for type_ in RelType if type_.spec.packed}
    for row in rows:
        if row.get("type") in names and row.get("props"):
            row["props"] = unpack(row["props"])
    return rows
