"""The Cypher export format: written by `export --format cypher`, read by `import cypher`.

An exported script is one statement per line, in two shapes only:

    MERGE (n:Label {key: LITERAL}) SET n += {name: LITERAL, ...};
    MATCH (a:Label {key: LITERAL}), (b:Label {key: LITERAL}) MERGE (a)-[r:TYPE {..}]->(b) SET r += {..};

Importing a script never runs it: each line is parsed into a record (labels and
relationship types must be the schema's, literals are values only), and the records
go through the same planner and writer as every ingest, so a script that is
malformed anywhere, or names what the schema does not have, writes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import networkx as nx

from ..schema.graph import NODE_KEY, NodeLabel, RelType, label_clause, primary_label
from ..schema.imported import checked
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from ..sources.files import read_text

HEADER = "// circuitbase subgraph export: one statement per line; run in order."
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}


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
            _ESCAPES.get(c, c)
            if c in _ESCAPES or c.isprintable() or c == " "
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


# --- reading -----------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?'
    r'|-?inf|nan)|(?P<word>[A-Za-z_][A-Za-z_0-9]*)|(?P<punct>->|\+=|[-(){}\[\]:,;]))'
)


class _Parser:
    """A strict reader of the two statement shapes above; anything else is a RecordError."""

    def __init__(self, line: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(line):
            if line[position:].strip() == "":
                break
            found = _TOKEN.match(line, position)
            if not found:
                raise RecordError(f"unexpected text at column {position + 1}")
            kind = found.lastgroup or ""
            self.tokens.append((kind, found.group(kind)))
            position = found.end()
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None, kind: str | None = None) -> str:
        if self.at >= len(self.tokens):
            raise RecordError(f"the statement ends early (expected {expected or kind})")
        found_kind, text = self.tokens[self.at]
        if (expected is not None and text != expected) or (kind is not None and found_kind != kind):
            raise RecordError(f"expected {expected or kind}, found {text!r}")
        self.at += 1
        return text

    def expect(self, *words: str) -> None:
        """The next tokens must be exactly `words`."""
        for word in words:
            self.take(word)

    def end(self) -> None:
        self.take(";")
        if self.at != len(self.tokens):
            raise RecordError(f"unexpected {self.peek()!r} after the statement")

    def literal(self) -> Any:
        kind, text = self.tokens[self.at] if self.at < len(self.tokens) else ("", "")
        if kind == "string":
            self.at += 1
            return _unescape(text[1:-1])
        if kind == "number":
            self.at += 1
            return float(text) if any(c in text for c in ".eEin") else int(text)
        if text in ("true", "false"):
            self.at += 1
            return text == "true"
        if text == "[":
            self.at += 1
            items = []
            while self.peek() != "]":
                items.append(self.literal())
                if self.peek() != "]":
                    self.take(",")
            self.take("]")
            return items
        raise RecordError(f"expected a value, found {text!r}")

    def mapping(self) -> dict[str, Any]:
        self.take("{")
        found: dict[str, Any] = {}
        while self.peek() != "}":
            name = self.take(kind="word")
            if name in found:
                raise RecordError(f"property {name!r} is given twice")
            self.take(":")
            found[name] = self.literal()
            if self.peek() != "}":
                self.take(",")
        self.take("}")
        return found

    def node(self, var: str) -> tuple[NodeLabel, Any]:
        """`(var:Label[:Label] {key: LITERAL})`: the allow-listed label and the key value."""
        self.take("(")
        self.take(var)
        names = []
        while self.peek() == ":":
            self.take(":")
            names.append(self.take(kind="word"))
        label = _label(names)
        props = self.mapping()
        if list(props) != [NODE_KEY[label]]:
            raise RecordError(f"a {label.value} is matched by {NODE_KEY[label]!r} alone")
        self.take(")")
        return label, props[NODE_KEY[label]]


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _UNESCAPES:
            out.append(_UNESCAPES[nxt])
            i += 2
        elif nxt in "uU":
            width = 4 if nxt == "u" else 8
            out.append(chr(int(body[i + 2 : i + 2 + width], 16)))
            i += 2 + width
        else:
            raise RecordError(f"unknown escape \\{nxt} in a string")
    return "".join(out)


def _label(names: list[str]) -> NodeLabel:
    for label in NodeLabel:
        if label_clause(label) == "".join(f":{n}" for n in names):
            return label
    raise RecordError(f"label {':'.join(names)!r} is not in circuitbase's schema")


def _statement(line: str, origin: str) -> NodeRecord | RelRecord:
    parser = _Parser(line)
    first = parser.take(kind="word")
    if first == "MERGE":
        label, key = parser.node("n")
        parser.expect("SET", "n", "+=")
        props = parser.mapping()
        parser.end()
        return NodeRecord(label=label, key=key, props=props, origin=origin)
    if first == "MATCH":
        start = parser.node("a")
        parser.take(",")
        end = parser.node("b")
        parser.expect("MERGE", "(", "a", ")", "-", "[", "r", ":")
        name = parser.take(kind="word")
        try:
            type_ = RelType(name)
        except ValueError:
            raise RecordError(
                f"relationship type {name!r} is not in circuitbase's schema"
            ) from None
        identity = parser.mapping()
        parser.expect("]", "->", "(", "b", ")", "SET", "r", "+=")
        props = parser.mapping()
        parser.end()
        if any(props.get(k) != v for k, v in identity.items()):
            raise RecordError("the relationship's identity and its properties disagree")
        return RelRecord(type=type_, start=ref(*start), end=ref(*end), props=props, origin=origin)
    raise RecordError(
        f"only the MERGE and MATCH ... MERGE lines that `export --format cypher` "
        f"writes can be imported, not {first!r}"
    )


def read_cypher(path: Path) -> list[NodeRecord | RelRecord]:
    """Records that recreate an exported Cypher script; nothing in it is run."""
    records: list[NodeRecord | RelRecord] = []
    for number, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            records.append(_statement(line, f"{path}, line {number}"))
        except RecordError as err:
            raise err.located(file=str(path), record=f"line {number}") from None
    return checked(records)  # each record's origin names the file
