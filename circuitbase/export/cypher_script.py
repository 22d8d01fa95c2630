"""The Cypher export format, written by `export --format cypher`: one statement per line,
`MERGE` for a node and `MATCH ... MERGE` for a relationship, every value a literal (its
reader, for `import cypher`, is `sources/exports.py`, which never runs a script)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from ..schema.graph import NODE_KEY, RelType, label_clause, primary_label
from ..schema.records import RecordError
from ..sources.exports import ESCAPES
from .formats import importable

HEADER = "// circuitbase subgraph export: one statement per line; run in order."


def cypher_literal(value: Any) -> str:
    """A Cypher literal for a property value; strings escaped, never spliced raw."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        # Every character that could end a line for some reader is escaped, so that one
        # statement is one line whatever the values hold.
        escaped = "".join(
            ESCAPES.get(c, c)
            if c in ESCAPES or c.isprintable() or c == " "
            else f"\\u{ord(c):04x}"
            if ord(c) <= 0xFFFF
            else f"\\U{ord(c):08x}"
            for c in value
        )
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(cypher_literal(v) for v in value) + "]"
    raise RecordError(f"cannot write a {type(value).__name__} as a Cypher literal")


def _map_literal(props: dict[str, Any]) -> str:
    for name in props:
        if not name.isidentifier():
            raise RecordError(f"property name {name!r} is not an identifier")
    return (
        "{"
        + ", ".join(f"{k}: {cypher_literal(v)}" for k, v in sorted(props.items()) if v is not None)
        + "}"
    )


def write_cypher(graph: nx.MultiDiGraph, path: Path) -> None:
    """One MERGE statement per line, so the script is idempotent and easy to split."""
    lines = [HEADER]
    graph = importable(graph)  # what circuitbase derives is left out: import refuses it
    for _, attrs in sorted(graph.nodes(data=True)):
        label = primary_label(attrs["labels"])
        key = NODE_KEY[label]
        props = {k: v for k, v in attrs.items() if k not in ("labels", key)}
        lines.append(
            f"MERGE (n{label_clause(label)} {{{key}: {cypher_literal(attrs[key])}}}) "
            f"SET n += {_map_literal(props)};"
        )
    for a, b, attrs in graph.edges(data=True):
        start, end = graph.nodes[a], graph.nodes[b]
        s_label, e_label = primary_label(start["labels"]), primary_label(end["labels"])
        type_ = RelType(attrs["type"])
        props = {k: v for k, v in attrs.items() if k != "type"}
        identity = {k: props[k] for k in type_.spec.identity if k in props}
        lines.append(
            f"MATCH (a{label_clause(s_label)} {{{NODE_KEY[s_label]}: "
            f"{cypher_literal(start[NODE_KEY[s_label]])}}}), "
            f"(b{label_clause(e_label)} {{{NODE_KEY[e_label]}: {cypher_literal(end[NODE_KEY[e_label]])}}}) "
            f"MERGE (a)-[r:{type_.value} {_map_literal(identity)}]->(b) SET r += {_map_literal(props)};"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
