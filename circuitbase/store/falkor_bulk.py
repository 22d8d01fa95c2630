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
property count and NUL-ended property names (here: those of each of its entities, in
their order), then its entities: for a node, one value
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
    in text, flat lists of one type). By exact type: `bool` is not taken for `int`."""
    kind = type(value)
    if kind is str:
        return b"\x03" + value.encode() + _NULL
    if kind is int:
        return _LONG.pack(4, value)
    if kind is float:
        return _DOUBLE.pack(2, value)
    if kind is bool:
        return _BOOL.pack(1, value)
    if value is None:
        return _NULL
    if kind is list or kind is tuple:
        return _ARRAY.pack(5, len(value)) + b"".join(map(encode_value, value))
    raise TypeError(f"a {kind.__name__} has no bulk form")


def _header(name: str, props: tuple[str, ...]) -> bytes:
    return (
        name.encode()
        + _NULL
        + _COUNT.pack(len(props))
        + b"".join(prop.encode() + _NULL for prop in props)
    )


def _node(node: LoadNode, names: tuple[str, ...]) -> bytes:
    props = node.props
    return b"".join([encode_value(props[name]) for name in names])


def _edge(rel: LoadRel, names: tuple[str, ...]) -> bytes:
    props = rel.props
    return _ENDS.pack(rel.start, rel.end) + b"".join([encode_value(props[name]) for name in names])


def tokens(
    entities: Iterable[Any], group: Callable[[Any], str], encode: Callable[[Any, tuple], bytes]
) -> Iterator[tuple[bytes, int]]:
    """(token, how many entities it holds): consecutive entities of one group (label set
    or type) with the same property names, cut where a token would pass TOKEN_BYTES."""
    pending: list[bytes] = []
    key: tuple[str, tuple[str, ...]] = ("", ())
    size = 0
    for entity in entities:
        names = tuple(entity.props)
        this = (group(entity), names)
        if pending and (this != key or size >= TOKEN_BYTES):
            yield _header(*key) + b"".join(pending), len(pending)
            pending, size = [], 0
        key = this
        encoded = encode(entity, names)
        pending.append(encoded)
        size += len(encoded)
    if pending:
        yield _header(*key) + b"".join(pending), len(pending)


def calls(
    nodes: Iterable[LoadNode], rels: Iterable[LoadRel]
) -> Iterator[tuple[list[bytes], int, int, int]]:
    """The commands' arguments: (tokens, nodes, edges, how many of the tokens are node
    tokens), each call under CALL_BYTES; nodes first, in their numbers' order."""
    streams = (
        (tokens(nodes, lambda n: n.labels, _node), True),
        (tokens(rels, lambda r: r.type, _edge), False),
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
