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

from ...schema.graph import NodeLabel, RelType
from ...schema.nodes import Analysis, Token
from ...schema.records import NodeRecord, RecordError, RelRecord, node, record_error, ref, rel
from ...schema.relationships import ActivatesOn
from ...schema.uids import neuron_uid
from ..files import read_json, read_text
from ..formats import Format, Option, analysis_option
from .feature_model_json import decode
from .graphviz_dot import drawn_nodes, parse_dot
from .trie import NeuronGraph
from .vocab import load_vocab

CITATION = (
    "Foote, Nanda, Kran, Konstas, Cohen, Barez. Neuron to Graph: Interpreting Language "
    "Model Neurons at Scale. arXiv:2305.19911 (2023); N2G: arXiv:2304.12918"
)
_NEURON_NAME = re.compile(r"^(\d+)_(\d+)$")


def neuron_of(path: Path) -> tuple[int, int]:
    """(layer, neuron) from `<layer>_<neuron>.json` or a `<layer>_<neuron>/` folder."""
    for name in (path.stem, path.parent.name):
        found = _NEURON_NAME.match(name)
        if found:
            return int(found[1]), int(found[2])
    raise RecordError(
        "cannot tell which neuron this is: name the file <layer>_<neuron>.json "
        "or put it in a <layer>_<neuron>/ folder",
        file=str(path),
    )


def model_of(path: Path) -> str | None:
    """The model from a `neuron_graphs/<model>/...` path, as N2G's scripts lay them out."""
    parts = path.resolve().parts
    if "neuron_graphs" in parts[:-1]:
        index = parts.index("neuron_graphs")
        if index + 1 < len(parts) - 1:
            return parts[index + 1]
    return None


FORMS = {
    "json": ("n2g", "Neuron-to-Graph (FeatureModel JSON of the maintained N2G fork)"),
    "graphviz": (
        "n2g-graphviz",
        "Neuron-to-Graph (graphviz `graph` files of the original "
        "script: colour-quantized, node-collapsed picture)",
    ),
}


@cache
def analysis_records(
    model: str, uid: str | None = None, form: str = "json"
) -> tuple[Analysis, list[NodeRecord | RelRecord]]:
    """One analysis per model, form and uid for a whole ingest, however many files it reads."""
    prefix, method = FORMS[form]
    analysis = Analysis(
        uid=uid or f"{prefix}/{model}", kind="n2g", models=[model], citation=CITATION, method=method
    )
    return analysis, analysis.records()


@lru_cache(maxsize=1 << 16)
def _token(text: str) -> NodeRecord:
    return Token(text=text).record()


def token_record(text: str, origin: str) -> NodeRecord:
    """A Token node, checked once per distinct text (common tokens recur across neurons)."""
    try:
        return _token(text).at(origin)
    except ValidationError as err:
        raise record_error(err, record=origin) from None


def pattern_head(
    neuron: str, analysis: str, origin: str, **props: object
) -> tuple[str, list[NodeRecord | RelRecord]]:
    """A neuron's Pattern node (uid, records) for one analysis, in either N2G form."""
    pattern = f"{neuron}/n2g/{analysis}"
    return pattern, [
        node(NodeLabel.PATTERN, pattern, origin=origin, **props),
        rel(
            RelType.HAS_PATTERN,
            ref(NodeLabel.NEURON, neuron),
            ref(NodeLabel.PATTERN, pattern),
            origin=origin,
            analysis=analysis,
        ),
    ]


def activation_facts(
    neuron: str, activations: dict[str, float], analysis: str, origin: str
) -> Iterator[RelRecord]:
    """The ACTIVATES_ON summary cross-model queries use: token text -> activation."""
    for text, activation in activations.items():
        fact = ActivatesOn(analysis=analysis, activation=activation)
        yield fact.record(ref(NodeLabel.NEURON, neuron), token_record(text, origin).ref).at(origin)


def pattern_records(
    neuron: str, graph: NeuronGraph, analysis: str, origin: str
) -> Iterator[NodeRecord | RelRecord]:
    nodes = list(graph.nodes())
    pattern, head = pattern_head(
        neuron, analysis, origin, rule=graph.rule, n_nodes=len(nodes), n_activating=len(graph.roots)
    )
    yield from head
    tokens: set[str] = set()  # each Token node once a file (a trie repeats its tokens)
    for path, trie_node in nodes:
        uid = f"{pattern}/{'.'.join(map(str, path))}"
        this = ref(NodeLabel.PATTERN_NODE, uid)
        yield node(
            NodeLabel.PATTERN_NODE,
            uid,
            origin=origin,
            token=trie_node.token,
            token_id=trie_node.token_id,
            ignore=trie_node.is_ignore,
            importance=trie_node.importance,
            activation=trie_node.activation,
            depth=len(path) - 1,
            position=path[-1],
        )
        if len(path) == 1:
            yield rel(RelType.TRIE_ROOT, ref(NodeLabel.PATTERN, pattern), this, origin=origin)
        else:
            parent = ref(NodeLabel.PATTERN_NODE, f"{pattern}/{'.'.join(map(str, path[:-1]))}")
            yield rel(RelType.TRIE_CHILD, parent, this, origin=origin)
        if trie_node.token is not None:  # not the ignore token
            token = token_record(trie_node.token, origin)
            if token.key not in tokens:
                tokens.add(token.key)
                yield token
            yield rel(RelType.MATCHES_TOKEN, this, token.ref, origin=origin)
    yield from activation_facts(neuron, graph.activating_tokens(), analysis, origin)


def _neuron_and_model(path: Path, model: str | None) -> tuple[str, str]:
    model = model or model_of(path)
    if model is None:
        raise RecordError(
            "which model? give --model (or keep files under neuron_graphs/<model>/)", file=str(path)
        )
    layer, index = neuron_of(path)
    return neuron_uid(model, layer, index), model


def is_graphviz(path: Path) -> bool:
    """N2G's script names its DOT file `graph` (no suffix) inside `<layer>_<neuron>/`."""
    return path.name == "graph" or path.suffix.lower() in (".dot", ".gv")


def n2g_records(
    path: Path,
    *,
    vocab: list[str] | None,
    model: str | None = None,
    analysis_uid: str | None = None,
) -> list[NodeRecord | RelRecord]:
    """The records of one neuron's N2G file, either form; RecordError names file and field."""
    path = Path(path)
    if is_graphviz(path):
        return graphviz_records(path, model=model, analysis_uid=analysis_uid)
    if vocab is None:
        raise RecordError(
            "N2G's JSON stores token ids: give the model's vocabulary (--vocab)", file=str(path)
        )
    neuron, model = _neuron_and_model(path, model)
    try:
        graph = decode(read_json(path), vocab)
    except RecordError as err:
        raise err.located(file=str(path)) from None
    analysis, records = analysis_records(model, analysis_uid)
    return [*records, *pattern_records(neuron, graph, analysis.uid, str(path))]


def graphviz_records(
    path: Path, *, model: str | None = None, analysis_uid: str | None = None
) -> list[NodeRecord | RelRecord]:
    """What N2G's picture of a neuron shows (see graphviz_dot.py for what it loses):
    its drawn nodes and edges as a Pattern with rule `graphviz`, which `n2g predict`
    refuses, and ACTIVATES_ON for the depth-0 tokens, which cross-model queries use."""
    path = Path(path)
    neuron, model = _neuron_and_model(path, model)
    text = read_text(path)
    try:
        dot = parse_dot(text)
        drawn = drawn_nodes(dot)
    except RecordError as err:
        raise err.located(file=str(path)) from None
    analysis, shared = analysis_records(model, analysis_uid, "graphviz")
    records = list(shared)  # the cached list is shared by every file of the ingest
    origin = str(path)
    roots = [n for n in drawn if n.depth == 0]
    pattern, head = pattern_head(
        neuron, analysis.uid, origin, rule="graphviz", n_nodes=len(drawn), n_activating=len(roots)
    )
    records += head
    uid = {n.id: f"{pattern}/g{n.id}" for n in drawn}
    tokens: set[str] = set()
    for n in drawn:
        this = ref(NodeLabel.PATTERN_NODE, uid[n.id])
        value = {"activation": n.scale} if n.depth == 0 else {"importance": n.scale}
        records.append(
            node(
                NodeLabel.PATTERN_NODE,
                uid[n.id],
                origin=origin,
                token=n.token,
                exact_token=n.exact_token,
                depth=n.depth,
                end=n.is_end,
                **value,
            )
        )
        token = token_record(n.token, origin)
        if token.key not in tokens:  # each Token node once a file
            tokens.add(token.key)
            records.append(token)
        records.append(rel(RelType.MATCHES_TOKEN, this, token.ref, origin=origin))
        if n.depth == 0:
            records.append(
                rel(RelType.TRIE_ROOT, ref(NodeLabel.PATTERN, pattern), this, origin=origin)
            )
    depth = {n.id: n.depth for n in drawn}
    for parent, child, _ in dot.edges:
        if parent not in uid or child not in uid:
            raise RecordError(
                f"edge {parent} -> {child} names a node that is not drawn", file=origin
            )
        if depth[child] != depth[parent] + 1:  # so no edge loops back: the picture is a trie
            raise RecordError(
                f"edge {parent} -> {child} goes from depth {depth[parent]} to "
                f"{depth[child]}; a trie edge goes one level deeper",
                file=origin,
            )
        records.append(
            rel(
                RelType.TRIE_CHILD,
                ref(NodeLabel.PATTERN_NODE, uid[parent]),
                ref(NodeLabel.PATTERN_NODE, uid[child]),
                origin=origin,
            )
        )
    best: dict[str, float] = {}
    for n in roots:
        best[n.token] = max(best.get(n.token, 0.0), n.scale)
    return records + list(activation_facts(neuron, best, analysis.uid, origin))


FORMAT = Format(
    name="n2g",
    summary="Neuron-to-Graph neuron models, one per neuron, named <layer>_<neuron>.json or kept "
    "in <layer>_<neuron>/ folders.",
    details="""FeatureModel.to_json() files (the maintained fork), or the `graph` DOT files the
    original script renders (a lossy picture: no predictions).

    \b
    Examples:
      circuitbase ingest n2g neuron_graphs/gpt2-small/ --vocab vocab.json
      circuitbase ingest n2g 3_1234.json --model gpt2-small --vocab tokenizer.json
      circuitbase ingest n2g neuron_graphs/solu-6l-pile/3_15/graph""",
    reader=n2g_records,
    suffixes=(".json", ".dot", ".gv"),
    names=("graph",),
    options=(
        Option(
            "--vocab",
            "vocab",
            "The model's vocabulary: a JSON list of token strings, vocab.json or "
            "tokenizer.json (N2G's JSON stores token ids; graphviz files need none).",
            "file",
            load=load_vocab,
        ),
        Option(
            "--model", "model", "The model (default: from a neuron_graphs/<model>/ path).", "model"
        ),
        analysis_option("n2g/<model>"),
    ),
)
