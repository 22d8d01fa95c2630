"""FalkorDB's bulk protocol (`GRAPH.BULK`), encoded from circuitbase's own values.

`falkordb-bulk-loader` reads CSV files and guesses each cell's type: it strips the spaces
around every string (a token ` the` would be stored as `the`), reads a string of digits as
a number and the strings of a list as numbers where they look like one. circuitbase's
values are already typed and checked, so they are encoded here straight into the
server's binary form (FalkorDB's `src/bulk_insert/bulk_insert.c`), which keeps each value
exactly as the writer would send it.

The form: a command `GRAPH.BULK graph [BEGIN] nodes edges node_tokens edge_tokens
token...`; `BEGIN` (first call only) makes a new graph. A token is one label set's (or
one relationship type's) header, a NUL-ended name (labels joined by `:`), a 4-byte
property count and NUL-ended property names, then its entities: for a node, one value
per property; for an edge, its ends' node ids (8 bytes each, nodes numbered from 0 in the
order they were created) and then its values. A value is a type byte (0 null, 1 bool,
2 double, 3 string, 4 long, 5 array) and its payload (1 byte; 8 bytes; NUL-ended UTF-8;
8 bytes; an 8-byte length and that many values). Numbers are little-endian, as the
server reads them from memory on the machines it runs on (x86-64, arm64).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .driver import LoadNode, LoadRel

_NULL = b"\x00"
_BOOL = struct.Struct("<B?")
_DOUBLE = struct.Struct("<Bd")
_LONG = struct.Struct("<Bq")
_ARRAY = struct.Struct("<Bq")
_ENDS = struct.Struct("<qq")
_COUNT = struct.Struct("<I")

TOKEN_BYTES = 8 << 20  # one token's size at most (the server reads each as one string)
CALL_BYTES = 64 << 20  # one command's size at most (Redis refuses a request over 1 GB)


def encode_value(value: Any) -> bytes:
    """A property value in the bulk form; values are checked before they get here (no NUL
    in text, flat lists of one type)."""
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return _BOOL.pack(1, value)
    if isinstance(value, int):
        return _LONG.pack(4, value)
    if isinstance(value, float):
        return _DOUBLE.pack(2, value)
    if isinstance(value, str):
        return b"\x03" + value.encode() + _NULL
    if isinstance(value, (list, tuple)):
        return _ARRAY.pack(5, len(value)) + b"".join(map(encode_value, value))
    raise TypeError(f"a {type(value).__name__} has no bulk form")


def _header(name: str, props: list[str]) -> bytes:
    return (
        name.encode()
        + _NULL
        + _COUNT.pack(len(props))
        + b"".join(prop.encode() + _NULL for prop in props)
    )


def node_token(labels: str, nodes: list[LoadNode]) -> bytes:
    """One token creating `nodes` (all with `labels`), in their order."""
    names = sorted({name for node in nodes for name in node.props})
    body = b"".join(
        b"".join(encode_value(node.props.get(name)) for name in names) for node in nodes
    )
    return _header(labels, names) + body


def edge_token(type_: str, rels: list[LoadRel]) -> bytes:
    """One token creating `rels` (all of `type_`)."""
    names = sorted({name for rel in rels for name in rel.props})
    body = b"".join(
        _ENDS.pack(rel.start, rel.end)
        + b"".join(encode_value(rel.props.get(name)) for name in names)
        for rel in rels
    )
    return _header(type_, names) + body


def tokens(
    entities: Iterable[Any], group: Callable[[Any], str], encode: Callable[[str, list], bytes]
) -> Iterator[tuple[bytes, int]]:
    """(token, how many entities it holds): consecutive entities of one group, cut where a
    token would pass TOKEN_BYTES (measured by a rough size per entity)."""
    pending: list[Any] = []
    name, size = "", 0
    for entity in entities:
        key = group(entity)
        if pending and (key != name or size >= TOKEN_BYTES):
            yield encode(name, pending), len(pending)
            pending, size = [], 0
        name = key
        pending.append(entity)
        size += 16 + sum(len(str(value)) + 9 for value in entity.props.values())
    if pending:
        yield encode(name, pending), len(pending)


def calls(
    nodes: Iterable[LoadNode], rels: Iterable[LoadRel]
) -> Iterator[tuple[list[bytes], int, int, int]]:
    """The commands' arguments: (tokens, nodes, edges, how many of the tokens are node
    tokens), each call under CALL_BYTES; nodes first, in their numbers' order."""
    streams = (
        (tokens(nodes, lambda n: n.labels, node_token), True),
        (tokens(rels, lambda r: r.type, edge_token), False),
    )
    batch: list[bytes] = []
    node_count = edge_count = node_tokens = size = 0
    for stream, of_nodes in streams:
        for token, count in stream:
            if batch and size + len(token) > CALL_BYTES:
                yield batch, node_count, edge_count, node_tokens
                batch, node_count, edge_count, node_tokens, size = [], 0, 0, 0, 0
            batch.append(token)
            size += len(token)
            if of_nodes:
                node_count += count
                node_tokens += 1
            else:
                edge_count += count
    if batch:
        yield batch, node_count, edge_count, node_tokens
