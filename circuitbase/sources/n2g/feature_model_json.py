"""Read and write the JSON of `FeatureModel.to_json()` in the maintained N2G fork
(albertsgarde/Neuron2Graph, `n2g-rs`): serde_json of its `CompactFeatureModel`.

    {"louds": {"lbs": <fid-rs Fid: byte_vec, bit_len, chunks, table>},
     "tokens": [{"token": {"token": u32}, "end_node": f32 | null, "importance": f32 | null}, ...]}

The LOUDS bit string is `10`, then for every node in breadth-first order (the
virtual root first) one `1` per child and a `0`. `tokens` holds two dummy
entries (index 0, and the virtual root), then the nodes in the same order;
children are ordered by token id with the ignore token (u32::MAX) last, as the
Rust BTreeMap orders them. Token ids become strings through the model's vocabulary.

The writer reproduces fid-rs 0.2's rank index (chunks of (log2 n)^2 bits, blocks of
log2(n)/2 bits, a popcount table) so that the file is what n2g-rs itself writes.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from typing import Any

from ...schema.records import RecordError
from .trie import NeuronGraph, TrieNode

IGNORE_ID = 2**32 - 1


def _bits(lbs: dict[str, Any]) -> list[bool]:
    byte_vec, bit_len = lbs["byte_vec"], lbs["bit_len"]
    if (
        not isinstance(byte_vec, list)
        or not isinstance(bit_len, int)
        or bit_len > 8 * len(byte_vec)
    ):
        raise RecordError(
            "louds.lbs needs byte_vec (bytes) and bit_len (at most 8 per byte)", field="louds.lbs"
        )
    return [bool(byte_vec[i // 8] >> (7 - i % 8) & 1) for i in range(bit_len)]


def decode(data: Any, vocab: Sequence[str]) -> NeuronGraph:
    """A NeuronGraph from the parsed JSON; token ids looked up in `vocab` (index = id)."""
    try:
        bits = _bits(data["louds"]["lbs"])
        entries = data["tokens"]
    except (KeyError, TypeError) as err:
        raise RecordError(f"not an N2G FeatureModel JSON (missing {err})", field="louds") from None
    if bits[:2] != [True, False]:
        raise RecordError("the LOUDS bit string must start with 10", field="louds.lbs")
    degrees, count = [], 0
    for bit in bits[2:]:
        if bit:
            count += 1
        else:
            degrees.append(count)
            count = 0
    n_nodes = len(degrees)  # the virtual root included
    if len(entries) != n_nodes + 1 or sum(degrees) != n_nodes - 1:
        raise RecordError(
            f"{len(entries)} token entries do not fit a LOUDS tree of {n_nodes} nodes",
            field="tokens",
        )
    # LOUDS numbers the virtual root 1 and the real nodes from 2: entry i is node i
    nodes = {index: _node(entries[index], index, vocab) for index in range(2, len(entries))}
    children: dict[int, list[TrieNode]] = {}
    next_number = 2
    for number, degree in enumerate(degrees, start=1):
        children[number] = [nodes[i] for i in range(next_number, next_number + degree)]
        next_number += degree
    for number, node in nodes.items():
        node.children = children[number]
    roots = children[1]
    if any(root.is_ignore for root in roots):
        raise RecordError("an activating token cannot be the ignore token", field="tokens")
    return NeuronGraph(roots, rule="deepest")


def _node(entry: Any, index: int, vocab: Sequence[str]) -> TrieNode:
    field = f"tokens[{index}]"
    try:
        token_id = entry["token"]["token"]
        importance, activation = entry["importance"], entry["end_node"]
    except (KeyError, TypeError):
        raise RecordError("needs token.token, end_node and importance", field=field) from None
    for name, value in (("importance", importance), ("end_node", activation)):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise RecordError(f"{name} must be a finite number, got {value!r}", field=field)
    if importance is None:
        raise RecordError("importance must be a number", field=field)
    if token_id == IGNORE_ID:
        return TrieNode(None, float(importance), activation, None)
    if not isinstance(token_id, int) or not 0 <= token_id < len(vocab):
        raise RecordError(
            f"token id {token_id!r} is not in the vocabulary ({len(vocab)} tokens)", field=field
        )
    return TrieNode(vocab[token_id], float(importance), activation, token_id)


def _f32(value: float) -> float:
    """The shortest decimal that reads back as the same f32, as serde_json prints f32s."""
    target = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        candidate = float(f"{target:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == target:
            return candidate
    return target


def _fid(bits: list[bool]) -> dict[str, Any]:
    """fid-rs 0.2 `Fid::from(&[bool])`, field by field, as serde writes it."""
    byte_vec = [
        sum(1 << (7 - i) for i, bit in enumerate(bits[start : start + 8]) if bit)
        for start in range(0, len(bits), 8)
    ]
    n = len(bits)
    log2 = int(math.log2(n))
    chunk_size = max(1, log2 * log2)
    block_size = max(1, log2 // 2)
    chunks, total = [], 0
    for start in range(0, n, chunk_size):
        chunk_bits = bits[start : start + chunk_size]
        blocks, running = [], 0
        for block_start in range(0, len(chunk_bits), block_size):
            block = chunk_bits[block_start : block_start + block_size]
            running += sum(block)
            blocks.append({"value": running, "length": len(block)})
        total += sum(chunk_bits)
        chunks.append({"value": total, "blocks": {"blocks": blocks, "blocks_cnt": len(blocks)}})
    table = [bin(i).count("1") for i in range(1 << block_size)]
    return {
        "byte_vec": byte_vec,
        "bit_len": n,
        "chunks": {"chunks": chunks, "chunks_cnt": len(chunks)},
        "table": {"bit_length": block_size, "table": table},
    }


def encode(graph: NeuronGraph, token_ids: dict[str, int]) -> str:
    """The JSON n2g-rs writes for this graph (for making real-format files and tests)."""

    def token_id(node: TrieNode) -> int:
        return IGNORE_ID if node.token is None else token_ids[node.token]

    def ordered(nodes: list[TrieNode]) -> list[TrieNode]:
        return sorted(nodes, key=token_id)

    bits = [True, False]
    entries: list[dict[str, Any]] = [
        {"token": {"token": IGNORE_ID}, "end_node": None, "importance": None}
    ] * 2
    level = ordered(graph.roots)
    bits += [True] * len(level) + [False]
    while level:
        following: list[TrieNode] = []
        for node in level:
            children = ordered(node.children)
            bits += [True] * len(children) + [False]
            following += children
            entries.append(
                {
                    "token": {"token": token_id(node)},
                    "end_node": None if node.activation is None else _f32(node.activation),
                    "importance": _f32(node.importance),
                }
            )
        level = following
    return json.dumps({"louds": {"lbs": _fid(bits)}, "tokens": entries}, separators=(",", ":"))
