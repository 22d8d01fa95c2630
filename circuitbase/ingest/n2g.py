"""Adapter for Neuron-to-Graph neuron models (Foote et al. 2023, arXiv 2304.12918, 2305.19911).

Reads the JSON that `FeatureModel.to_json()` writes in the maintained N2G fork, one
file per neuron, named `<layer>_<neuron>.json` or kept in a `<layer>_<neuron>/`
folder (the layout N2G's scripts use under `neuron_graphs/<model>/`). The trie is
stored faithfully enough to predict the neuron's activations from the database:

    (:Neuron)-[:HAS_PATTERN {analysis}]->(:Pattern {uid, rule, n_nodes})
    (:Pattern)-[:TRIE_ROOT]->(:PatternNode)-[:TRIE_CHILD]->(:PatternNode) ...
    (:PatternNode {token, token_id, ignore, importance, activation, depth, position})
        -[:MATCHES_TOKEN]->(:Token {text})
    (:Neuron)-[:ACTIVATES_ON {analysis, activation}]->(:Token)   the cross-model summary

A PatternNode's uid is its pattern's uid plus its path of child positions, so the
trie's order (exact tokens first, the ignore node last) is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..n2g.feature_model_json import decode
from ..n2g.trie import NeuronGraph
from ..schema.graph import NodeLabel, RelType, token_uid
from ..schema.nodes import Analysis, Token
from ..schema.records import NodeRecord, RecordError, RelRecord, node, ref, rel
from ..schema.relationships import ActivatesOn
from ..schema.uids import neuron_uid
from .files import read_json

CITATION = ("Foote, Nanda, Kran, Konstas, Cohen, Barez. Neuron to Graph: Interpreting Language "
            "Model Neurons at Scale. arXiv:2305.19911 (2023); N2G: arXiv:2304.12918")
_NEURON_NAME = re.compile(r"^(\d+)_(\d+)$")


def neuron_of(path: Path) -> tuple[int, int]:
    """(layer, neuron) from `<layer>_<neuron>.json` or a `<layer>_<neuron>/` folder."""
    for name in (path.stem, path.parent.name):
        found = _NEURON_NAME.match(name)
        if found:
            return int(found[1]), int(found[2])
    raise RecordError("cannot tell which neuron this is: name the file <layer>_<neuron>.json "
                      "or put it in a <layer>_<neuron>/ folder", file=str(path))


def model_of(path: Path) -> str | None:
    """The model from a `neuron_graphs/<model>/...` path, as N2G's scripts lay them out."""
    parts = path.resolve().parts
    if "neuron_graphs" in parts[:-1]:
        index = parts.index("neuron_graphs")
        if index + 1 < len(parts) - 1:
            return parts[index + 1]
    return None


def analysis_for(model: str, uid: str | None = None) -> Analysis:
    return Analysis(uid=uid or f"n2g/{model}", kind="n2g", models=[model], citation=CITATION,
                    method="Neuron-to-Graph (FeatureModel JSON of the maintained N2G fork)")


def pattern_records(neuron: str, graph: NeuronGraph, analysis: str,
                    origin: str) -> Iterator[NodeRecord | RelRecord]:
    pattern = f"{neuron}/n2g/{analysis}"
    nodes = list(graph.nodes())
    yield node(NodeLabel.PATTERN, pattern, rule=graph.rule, n_nodes=len(nodes),
               n_activating=len(graph.roots))
    yield rel(RelType.HAS_PATTERN, ref(NodeLabel.NEURON, neuron), ref(NodeLabel.PATTERN, pattern),
              analysis=analysis).model_copy(update={"origin": origin})
    for path, trie_node in nodes:
        uid = f"{pattern}/{'.'.join(map(str, path))}"
        yield node(NodeLabel.PATTERN_NODE, uid, pattern=pattern, token=trie_node.token,
                   token_id=trie_node.token_id, ignore=trie_node.is_ignore,
                   importance=trie_node.importance, activation=trie_node.activation,
                   depth=len(path) - 1, position=path[-1])
        parent = (ref(NodeLabel.PATTERN, pattern), RelType.TRIE_ROOT) if len(path) == 1 else \
            (ref(NodeLabel.PATTERN_NODE, f"{pattern}/{'.'.join(map(str, path[:-1]))}"),
             RelType.TRIE_CHILD)
        yield rel(parent[1], parent[0], ref(NodeLabel.PATTERN_NODE, uid))
        if not trie_node.is_ignore:
            token = Token(text=trie_node.token).record()
            yield token
            yield rel(RelType.MATCHES_TOKEN, ref(NodeLabel.PATTERN_NODE, uid), token.ref)
    for text, activation in graph.activating_tokens().items():
        yield ActivatesOn(analysis=analysis, activation=activation).record(
            ref(NodeLabel.NEURON, neuron), ref(NodeLabel.TOKEN, token_uid(text)))


def n2g_records(path: Path, *, vocab: list[str], model: str | None = None,
                analysis_uid: str | None = None) -> list[NodeRecord | RelRecord]:
    """The records of one neuron's N2G JSON; RecordError names file and field on bad input."""
    path = Path(path)
    model = model or model_of(path)
    if model is None:
        raise RecordError("which model? give --model (or keep files under neuron_graphs/<model>/)",
                          file=str(path))
    layer, index = neuron_of(path)
    try:
        graph = decode(read_json(path), vocab)
    except RecordError as err:
        raise err.located(file=str(path)) from None
    analysis = analysis_for(model, analysis_uid)
    records: list[NodeRecord | RelRecord] = [
        analysis.record(), rel(RelType.ABOUT, analysis.record().ref, ref(NodeLabel.MODEL, model))]
    neuron = neuron_uid(model, layer, index)
    try:
        records += pattern_records(neuron, graph, analysis.uid, f"{path}")
    except RecordError as err:
        raise err.located(file=str(path)) from None
    return [r.model_copy(update={"origin": str(path)}) if r.origin is None else r for r in records]
