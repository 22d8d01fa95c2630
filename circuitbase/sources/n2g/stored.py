"""Rebuild a neuron's N2G trie from the database alone, and predict with it."""

from __future__ import annotations

from ...schema.records import RecordError
from ...store.base import GraphStore
from .trie import RULES, NeuronGraph, TrieNode


def load_graph(store: GraphStore, neuron: str, analysis: str | None = None) -> NeuronGraph:
    patterns = store.patterns_of(neuron, analysis)
    if not patterns:
        raise RecordError(
            f"no N2G pattern stored for {neuron}"
            + (f" from analysis {analysis!r}" if analysis else "")
        )
    if len(patterns) > 1:
        names = ", ".join(p["analysis"] for p in patterns)
        raise RecordError(
            f"{neuron} has N2G patterns from several analyses ({names}); choose one with --analysis"
        )
    pattern = patterns[0]
    if pattern["rule"] == "graphviz":
        raise RecordError(
            f"{neuron}'s pattern came from N2G's graphviz picture, which merges "
            "equal tokens at each depth and drops ignored positions, so it cannot "
            "predict activations; ingest the neuron's JSON form for that"
        )
    if pattern["rule"] not in RULES:
        raise RecordError(
            f"pattern {pattern['uid']} has an unknown prediction rule {pattern['rule']!r}"
        )
    rows = store.pattern_trie(pattern["uid"])
    prefix = len(pattern["uid"]) + 1
    by_path: dict[tuple[int, ...], TrieNode] = {}
    for row in sorted(rows, key=lambda r: tuple(map(int, r["uid"][prefix:].split(".")))):
        path = tuple(map(int, row["uid"][prefix:].split(".")))
        by_path[path] = TrieNode(
            None if row["ignore"] else row["token"],
            row["importance"],
            row["activation"],
            row["token_id"],
        )
        if len(path) > 1:
            by_path[path[:-1]].children.append(by_path[path])
    roots = [n for p, n in sorted(by_path.items()) if len(p) == 1]
    return NeuronGraph(roots, rule=pattern["rule"])


def predict(
    store: GraphStore, neuron: str, tokens: list[str], analysis: str | None = None
) -> list[float]:
    return load_graph(store, neuron, analysis).predict(tokens)
