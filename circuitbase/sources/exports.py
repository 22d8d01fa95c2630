"""circuitbase's own export formats read back, for `import`: the Cypher script that
`export --format cypher` writes and the GraphML that `export --format graphml` writes.

An exported Cypher script is one statement per line, in two shapes only:

    MERGE (n:Label {key: LITERAL}) SET n += {name: LITERAL, ...};
    MATCH (a:Label {key: LITERAL}), (b:Label {key: LITERAL}) MERGE (a)-[r:TYPE {..}]->(b) SET r += {..};

Importing a script never runs it: each line is parsed into a record (labels and
relationship types must be the schema's, literals are values only). GraphML holds only
scalar attributes, so list properties are written as JSON text and named in the graph
attribute `circuitbase_json_attributes` (JSON_ATTRS), which the reader decodes. The
records of either go through the same planner and writer as every ingest, each rebuilt
through the model an adapter uses (`schema.imported.checked`), so a file that is
malformed anywhere, or names what the schema does not have, writes nothing.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import networkx as nx

from ..schema.graph import NODE_KEY, NodeLabel, RelType, label_clause, primary_label
from ..schema.imported import checked
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from .files import read_text
from .formats import Format

JSON_ATTRS = "circuitbase_json_attributes"
# A string literal's escapes: what the writer replaces, and how the reader reads them back.
ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}


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
        nxt = body[i + 1 : i + 2]  # the tokenizer never ends a string on a lone backslash
        if nxt in _UNESCAPES:
            out.append(_UNESCAPES[nxt])
            i += 2
        elif nxt in ("u", "U"):
            width = 4 if nxt == "u" else 8
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not all(d in string.hexdigits for d in digits):
                raise RecordError(f"\\{nxt} must be followed by {width} hex digits, not {digits!r}")
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise RecordError(f"\\{nxt}{digits} is not a Unicode code point")
            out.append(chr(code))
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


# --- GraphML ------------------------------------------------------------------------------


def _refuse_repeated_ids(path: Path) -> None:
    """A node id used twice is refused: networkx would merge the two nodes' attributes
    into one, so the second would silently rewrite the first (and its edges)."""
    from xml.etree.ElementTree import ParseError, iterparse

    seen: set[str] = set()
    try:
        for _, element in iterparse(path):
            if element.tag.rsplit("}", 1)[-1] == "node":
                ident = element.get("id")
                if ident in seen:
                    raise RecordError(
                        f"node id {ident!r} is used by two nodes",
                        file=str(path),
                        record=f"node {ident}",
                        field="id",
                    )
                seen.add(ident or "")
            element.clear()
    except ParseError as err:
        raise RecordError(f"not a readable GraphML file: {err}", file=str(path)) from None


def read_graphml(path: Path) -> list[NodeRecord | RelRecord]:
    """Records that recreate an exported GraphML subgraph (through the usual planner and writer)."""
    _refuse_repeated_ids(path)
    try:
        graph = nx.read_graphml(path, force_multigraph=True)
    except Exception as err:  # networkx raises several parser errors
        raise RecordError(f"not a readable GraphML file: {err}", file=str(path)) from None
    encoded = set(filter(None, graph.graph.get(JSON_ATTRS, "").split(",")))

    def decode(attrs: dict[str, Any]) -> dict[str, Any]:
        return {k: json.loads(v) if k in encoded else v for k, v in attrs.items()}

    records: list[NodeRecord | RelRecord] = []
    refs = {}
    for ident, raw in graph.nodes(data=True):
        origin = f"node {ident}"
        try:
            attrs = decode(raw)
            labels = attrs.pop("labels")
            if not isinstance(labels, list):
                raise TypeError(labels)
            label = primary_label(labels)
            key = attrs.pop(NODE_KEY[label])
        except (KeyError, IndexError, ValueError, TypeError, json.JSONDecodeError):
            raise RecordError(
                "a node needs `labels` from circuitbase's schema and its key",
                file=str(path),
                record=origin,
                field="labels",
            ) from None
        refs[ident] = ref(label, key)
        records.append(NodeRecord(label=label, key=key, props=attrs, origin=f"{path}, {origin}"))
    for a, b, raw in graph.edges(data=True):
        origin = f"edge {a} -> {b}"
        try:
            attrs = decode(raw)
            type_ = RelType(attrs.pop("type"))
        except (KeyError, ValueError, json.JSONDecodeError):
            raise RecordError(
                f"relationship type {raw.get('type')!r} is not in circuitbase's schema",
                file=str(path),
                record=origin,
                field="type",
            ) from None
        records.append(
            RelRecord(
                type=type_, start=refs[a], end=refs[b], props=attrs, origin=f"{path}, {origin}"
            )
        )
    return checked(records)  # each record's origin names the file


GRAPHML = Format(
    name="graphml",
    summary="Load an exported GraphML file (checked and merged like any ingest).",
    details="""\b
    Example:
      circuitbase --db ./other-kb import graphml fr.graphml""",
    reader=read_graphml,
    suffixes=(".graphml",),
    additive=True,
)
CYPHER = Format(
    name="cypher",
    summary="Load an exported Cypher script: parsed into records and checked like any "
    "ingest, never run.",
    details="""Only the statement shapes `export --format cypher` writes are read.

    \b
    Example:
      circuitbase --db ./other-kb import cypher fr.cypher""",
    reader=read_cypher,
    suffixes=(".cypher",),
    additive=True,
)
