"""Small N2G neuron models in the maintained fork's JSON format, for the tests and the README.

`write_fixtures(folder)` writes `neuron_graphs/toy-6l/<layer>_<neuron>.json`, the
vocabulary and the model's config; tests/data/n2g/ holds the same files, and a test
checks that they are still exactly what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from circuitbase.sources.n2g.feature_model_json import encode
from circuitbase.sources.n2g.trie import NeuronGraph, TrieNode

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


def T(
    token: str | None, importance: float, activation: float | None = None, *children: TrieNode
) -> TrieNode:
    return TrieNode(
        token, importance, activation, None if token is None else VOCAB.index(token), list(children)
    )


NEURONS: dict[tuple[int, int], NeuronGraph] = {
    # fires on " Paris" after " in" (and after " in" + any token + " flew"), weakly alone
    (1, 42): NeuronGraph(
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
    (3, 7): NeuronGraph(
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
    (5, 1000): NeuronGraph(
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


def write_fixtures(folder: Path) -> dict[str, Path]:
    """Write the neuron files, vocabulary and config under `folder`; return their paths."""
    graphs = folder / "neuron_graphs" / MODEL
    graphs.mkdir(parents=True, exist_ok=True)
    ids = {token: i for i, token in enumerate(VOCAB)}
    for (layer, neuron), graph in NEURONS.items():
        (graphs / f"{layer}_{neuron}.json").write_text(encode(graph, ids) + "\n")
    (folder / "vocab.json").write_text(json.dumps(VOCAB, ensure_ascii=False) + "\n")
    (folder / "config.json").write_text(json.dumps(CONFIG) + "\n")
    return {"graphs": graphs, "vocab": folder / "vocab.json", "config": folder / "config.json"}


if __name__ == "__main__":
    write_fixtures(Path(__file__).parent / "data" / "n2g")
