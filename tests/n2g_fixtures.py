"""Small N2G neuron models in the maintained fork's JSON format, for the tests and the README.

`write_fixtures(folder)` writes `neuron_graphs/toy-6l/<layer>_<neuron>.json`, the
vocabulary and the model's config; tests/data/n2g/ holds the same files, and a test
checks that they are still exactly what this writes.

The files are written here, from the format's definition, without circuitbase's own
encoder (`sources/n2g/feature_model_json.py`): serde_json of n2g-rs's
`CompactFeatureModel`, a LOUDS trie (albertsgarde/Neuron2Graph; fid-rs 0.2 for the bit
vector). A test then holds circuitbase's reader and writer to these files, so that a
mistake in one is not mirrored by the other.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

MODEL = "toy-6l"
CONFIG = {
    "model_name": MODEL,
    "n_layers": 6,
    "d_model": 64,
    "n_heads": 4,
    "d_mlp": 2048,
    "d_vocab": 32,
    "act_fn": "gelu",
}
VOCAB = [
    "<|endoftext|>",
    " the",
    " in",
    " Paris",
    " London",
    " flew",
    " to",
    " we",
    " met",
    "(",
    ")",
    " x",
    " y",
    ",",
    ".",
    " of",
    " a",
    " city",
    " river",
    " bank",
    " money",
    " is",
    " was",
    " big",
    " old",
    " France",
    " England",
    " capital",
    " and",
    " he",
    " she",
    "\n",
]


# A trie node: (token or None for the ignore token, importance, activation or None, children)
Node = tuple[str | None, float, float | None, list]


def T(
    token: str | None, importance: float, activation: float | None = None, *children: Node
) -> Node:
    return (token, importance, activation, list(children))


NEURONS: dict[tuple[int, int], list[Node]] = {
    # fires on " Paris" after " in" (and after " in" + any token + " flew"), weakly alone
    (1, 42): (
        [
            T(
                " Paris",
                1.0,
                0.3,
                T(" in", 0.8, 0.9),
                T(None, 0.0, None, T(" in", 0.6, None, T(" flew", 0.55, 0.7))),
            ),
            T(" London", 0.9, None, T(" in", 0.7, 0.4)),
        ]
    ),
    # fires on ")" when an "(" was one or two tokens back
    (3, 7): (
        [
            T(
                ")",
                1.0,
                None,
                T("(", 0.9, 0.8),
                T(None, 0.0, None, T("(", 0.85, 0.75), T(",", 0.5, 0.2)),
            )
        ]
    ),
    # a "river bank" versus "money bank" neuron
    (5, 1000): (
        [
            T(
                " bank",
                1.0,
                None,
                T(" river", 0.95, 1.0, T(" the", 0.3, 0.9)),
                T(" money", 0.4, 0.1),
            ),
            T(" river", 0.7, 0.2),
        ]
    ),
}


IGNORE = 2**32 - 1  # u32::MAX: the ignore token's id, ordered after every real token


def node_count(roots: list[Node]) -> int:
    return sum(1 + node_count(children) for _, _, _, children in roots)


def _f32(value: float) -> float:
    """What serde_json prints for an f32: the shortest decimal that reads back as it."""
    single = struct.unpack("<f", struct.pack("<f", value))[0]
    return next(
        float(text)
        for text in (f"{single:.{digits}g}" for digits in range(1, 10))
        if struct.unpack("<f", struct.pack("<f", float(text)))[0] == single
    )


def _rank_index(bits: list[int]) -> dict:
    """fid-rs 0.2's `Fid` as serde writes it: the bytes (most significant bit first), and
    the rank index: chunks of (log2 n)^2 bits holding cumulative counts of ones, each
    split into blocks of log2(n) / 2 bits counting ones within the chunk, and a table of
    the popcount of every block value."""
    n = len(bits)
    chunk_bits = max(1, int(math.log2(n)) ** 2)
    block_bits = max(1, int(math.log2(n)) // 2)
    padded = bits + [0] * (-n % 8)
    byte_vec = [int("".join(map(str, padded[i : i + 8])), 2) for i in range(0, n, 8)]
    chunks = []
    for begin in range(0, n, chunk_bits):
        chunk = bits[begin : begin + chunk_bits]
        ends = list(range(block_bits, len(chunk), block_bits)) + [len(chunk)]
        blocks = [
            {"value": sum(chunk[:end]), "length": end - (ends[i - 1] if i else 0)}
            for i, end in enumerate(ends)
        ]
        chunks.append(
            {
                "value": sum(bits[: begin + len(chunk)]),
                "blocks": {"blocks": blocks, "blocks_cnt": len(blocks)},
            }
        )
    return {
        "byte_vec": byte_vec,
        "bit_len": n,
        "chunks": {"chunks": chunks, "chunks_cnt": len(chunks)},
        "table": {
            "bit_length": block_bits,
            "table": [bin(v).count("1") for v in range(2**block_bits)],
        },
    }


def feature_model_json(roots: list[Node]) -> str:
    """The JSON n2g-rs writes for a trie: LOUDS bits `10`, then per node in breadth-first
    order (the virtual root first) a 1 per child and a 0; `tokens` holds two dummy entries
    (index 0 and the virtual root), then each node's token id, end activation and
    importance, in the same order; children ordered by token id, as a BTreeMap is."""

    def by_id(node: Node) -> int:
        return IGNORE if node[0] is None else VOCAB.index(node[0])

    dummy = {"token": {"token": IGNORE}, "end_node": None, "importance": None}
    bits, tokens = [1, 0], [dummy, dummy]
    queue = [sorted(roots, key=by_id)]  # the virtual root's children
    for siblings in queue:
        bits += [1] * len(siblings) + [0]
        for token, importance, activation, children in siblings:
            tokens.append(
                {
                    "token": {"token": IGNORE if token is None else VOCAB.index(token)},
                    "end_node": None if activation is None else _f32(activation),
                    "importance": _f32(importance),
                }
            )
            queue.append(sorted(children, key=by_id))
    louds = {"lbs": _rank_index(bits)}
    return json.dumps({"louds": louds, "tokens": tokens}, separators=(",", ":"))


def write_fixtures(folder: Path) -> dict[str, Path]:
    """Write the neuron files, vocabulary and config under `folder`; return their paths."""
    graphs = folder / "neuron_graphs" / MODEL
    graphs.mkdir(parents=True, exist_ok=True)
    for (layer, neuron), roots in NEURONS.items():
        (graphs / f"{layer}_{neuron}.json").write_text(feature_model_json(roots) + "\n")
    (folder / "vocab.json").write_text(json.dumps(VOCAB, ensure_ascii=False) + "\n")
    (folder / "config.json").write_text(json.dumps(CONFIG) + "\n")
    return {"graphs": graphs, "vocab": folder / "vocab.json", "config": folder / "config.json"}


if __name__ == "__main__":
    write_fixtures(Path(__file__).parent / "data" / "n2g")
