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
from functools import cache, lru_cache
from pathlib import Path

from pydantic import ValidationError

from ..n2g.feature_model_json import decode
from ..n2g.trie import NeuronGraph
from ..schema.graph import NodeLabel, RelType
from ..schema.nodes import Analysis, Token
from ..schema.records import NodeRecord, RecordError, RelRecord, node, record_error, ref, rel
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


@cache
def analysis_records(model: str, uid: str | None = None) -> tuple[Analysis, list[NodeRecord | RelRecord]]:
    """One analysis per model and uid for a whole ingest, however many files it reads."""
    analysis = Analysis(uid=uid or f"n2g/{model}", kind="n2g", models=[model], citation=CITATION,
                    method="Neuron-to-Graph (FeatureModel JSON of the maintained N2G fork)")
    record = analysis.record()
    return analysis, [record, rel(RelType.ABOUT, record.ref, ref(NodeLabel.MODEL, model))]


@lru_cache(maxsize=1 << 16)
def _token(text: str) -> NodeRecord:
    return Token(text=text).record()


def token_record(text: str, origin: str) -> NodeRecord:
    """A Token node, checked once per distinct text (common tokens recur across neurons)."""
    try:
        return _token(text).at(origin)
    except ValidationError as err:
        raise record_error(err, record=origin) from None


def pattern_records(neuron: str, graph: NeuronGraph, analysis: str,
                    origin: str) -> Iterator[NodeRecord | RelRecord]:
    pattern = f"{neuron}/n2g/{analysis}"
    nodes = list(graph.nodes())
    yield node(NodeLabel.PATTERN, pattern, origin=origin, rule=graph.rule, n_nodes=len(nodes),
               n_activating=len(graph.roots))
    yield rel(RelType.HAS_PATTERN, ref(NodeLabel.NEURON, neuron), ref(NodeLabel.PATTERN, pattern),
              origin=origin, analysis=analysis)
    for path, trie_node in nodes:
        uid = f"{pattern}/{'.'.join(map(str, path))}"
        this = ref(NodeLabel.PATTERN_NODE, uid)
        yield node(NodeLabel.PATTERN_NODE, uid, origin=origin, token=trie_node.token,
                   token_id=trie_node.token_id, ignore=trie_node.is_ignore,
                   importance=trie_node.importance, activation=trie_node.activation,
                   depth=len(path) - 1, position=path[-1])
        if len(path) == 1:
            yield rel(RelType.TRIE_ROOT, ref(NodeLabel.PATTERN, pattern), this, origin=origin)
        else:
            parent = ref(NodeLabel.PATTERN_NODE, f"{pattern}/{'.'.join(map(str, path[:-1]))}")
            yield rel(RelType.TRIE_CHILD, parent, this, origin=origin)
        if not trie_node.is_ignore:
            token = token_record(trie_node.token, origin)
            yield token
            yield rel(RelType.MATCHES_TOKEN, this, token.ref, origin=origin)
    for text, activation in graph.activating_tokens().items():
        fact = ActivatesOn(analysis=analysis, activation=activation)
        yield fact.record(ref(NodeLabel.NEURON, neuron), token_record(text, origin).ref).at(origin)


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
    analysis, records = analysis_records(model, analysis_uid)
    neuron = neuron_uid(model, layer, index)
    return [*records, *pattern_records(neuron, graph, analysis.uid, str(path))]
