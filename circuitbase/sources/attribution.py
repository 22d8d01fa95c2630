"""Adapter for attribution graphs: circuit-tracer's output in Neuronpedia's graph JSON
(`neuronpedia-graph-schema.json`: `metadata`, `qParams`, `nodes`, `links`).

What each graph node is, and what it becomes:

* a transcoder feature (`cross layer transcoder`, `transcoder`): a dictionary feature of
  the model, `<model>/L<layer>/<set>/F<index>`, so the same feature in two prompts' graphs
  (and in Neuronpedia's dashboards of that set) is one node; a non-empty `clerp` is its
  `label`. The set is the metadata's `info.neuronpedia_source_set` where it names one
  (its dictionaries get their Neuronpedia ids, and the transcoder set, if also named, as
  `transcoder_set`), else `info.transcoder_set` with '/' as '.'. Its identity is read
  twice, from `node_id` (`<layer>_<index>_<ctx>`) and from `feature`, which files encode
  in one of three ways: the Cantor pairing of layer and index (circuit-tracer's files),
  the bare index, or layer x 100000 + index (older Neuronpedia files). The encoding that
  explains every feature of the file is its encoding; a graph where no encoding explains
  them all is refused at the first node the best one does not;
* an MLP reconstruction error: the MLP of its layer (what the transcoder left out there);
* an embedding: the prompt's token at its position;
* a logit: the output token (from `clerp`, `Output "<token>" (p=...)`), and the prompt's
  output node, `(:Token)-[:OUTPUT_NODE {probability, is_target}]->(:Task)`.

Per graph, each node's `influence` (circuit-tracer's cumulative influence: the smaller,
the more of the output it explains), `activation`, position and type are kept on
`(x)-[:MEASURED_BY {analysis, node: <node_id>, ...}]->(:Analysis)`, and each link is a
`CIRCUIT_EDGE {weight, link: "<source> -> <target>"}`. The metadata (prompt, its
tokens, transcoder set, thresholds, generator) are the analysis's parameters. The prompt
is the task, unless the user names one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..schema.aliases import canonical_model
from ..schema.dictionaries import check_set_name, dictionary_record, neuronpedia_source
from ..schema.graph import NodeLabel
from ..schema.nodes import Analysis, Task, Token
from ..schema.records import NodeRecord, NodeRef, RecordError, RelRecord, ref
from ..schema.relationships import CircuitEdge, MeasuredBy, OutputNode
from ..schema.uids import ComponentKind, ComponentUid, UidError
from .files import validate

CITATION = (
    "Ameisen et al. 2025, Circuit Tracing: Revealing Computational Graphs in Language "
    "Models, transformer-circuits.pub; circuit-tracer by Hanna & Piotrowski, "
    "https://github.com/decoderesearch/circuit-tracer"
)
TRANSCODER = ("cross layer transcoder", "transcoder")
ERROR, EMBEDDING, LOGIT = "mlp reconstruction error", "embedding", "logit"
KNOWN_TYPES = (*TRANSCODER, ERROR, EMBEDDING, LOGIT)
_OUTPUT = re.compile(r'Output "(?P<token>.*)" \(p=[^)]*\)', re.DOTALL)
_FEATURE_ID = re.compile(r"(?P<layer>\d+)_(?P<index>\d+)_(?P<ctx>\d+)", re.ASCII)


class GraphNode(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    node_id: str = Field(min_length=1, max_length=200)
    feature: int | None
    layer: str | int
    ctx_idx: int = Field(ge=0)
    feature_type: str
    clerp: str = Field(max_length=1000)
    influence: float | None = None
    activation: float | None = None
    token_prob: float | None = Field(default=None, ge=0.0, le=1.0)
    is_target_logit: bool | None = None


class GraphLink(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    source: str
    target: str
    weight: float


class GraphMetadata(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    slug: str = Field(min_length=1, max_length=200)
    scan: str = Field(min_length=1, max_length=200)
    prompt_tokens: list[str] = Field(min_length=1)
    prompt: str
    info: dict[str, Any] = {}


class AttributionGraph(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metadata: GraphMetadata
    qParams: dict[str, Any] = {}
    nodes: list[GraphNode] = Field(min_length=1)
    links: list[GraphLink]


def is_attribution_graph(data: Any) -> bool:
    return isinstance(data, dict) and {"metadata", "nodes", "links"} <= set(data)


def cantor(a: int, b: int) -> int:
    return (a + b) * (a + b + 1) // 2 + b


# How a file's `feature` numbers a transcoder feature of `layer` with `index`.
FEATURE_ENCODINGS = {
    "cantor(layer, index)": cantor,
    "index": lambda layer, index: index,
    "layer x 100000 + index": lambda layer, index: layer * 100_000 + index,
}


def feature_encoding(graph: AttributionGraph) -> str:
    """The encoding that explains every transcoder node's `feature` (the first, where
    several do), else the one that explains most (the nodes it does not are refused)."""
    pairs = []
    for node in graph.nodes:
        parts = _FEATURE_ID.fullmatch(node.node_id)
        if node.feature_type in TRANSCODER and parts is not None:
            pairs.append((node.feature, int(parts["layer"]), int(parts["index"])))
    fits = {
        name: sum(feature == encode(layer, index) for feature, layer, index in pairs)
        for name, encode in FEATURE_ENCODINGS.items()
    }
    return max(fits, key=lambda name: fits[name])  # max keeps the first of equals


def dictionary_name(transcoder_set: str) -> str:
    """A transcoder set (`mwhanna/gemma-scope-2-1b-pt/transcoder_all/...`) as the dictionary
    part of a feature uid, where '/' separates parts: '/' becomes '.'."""
    return transcoder_set.strip("/").replace("/", ".")


class _Nodes:
    """Graph node id -> what it is in the store, and its per-graph properties."""

    def __init__(self, graph: AttributionGraph, model: str, dictionary: str | None) -> None:
        self.graph, self.model, self.dictionary = graph, model, dictionary
        self.encoding = feature_encoding(graph)
        self.layers: set[int] = set()  # the layers whose dictionaries the graph uses
        self.refs: dict[str, NodeRef] = {}
        self.labels: dict[str, str] = {}  # feature uid -> clerp
        self.outputs: list[tuple[NodeRef, GraphNode]] = []
        self.tokens: list[NodeRecord] = []
        for i, node in enumerate(graph.nodes):
            if node.node_id in self.refs:  # links name nodes by id: a second would rewire them
                raise RecordError(
                    f"node_id {node.node_id!r} is used by two nodes; links could "
                    "not tell them apart",
                    record=f"nodes[{i}] ({node.node_id})",
                    field="node_id",
                )
            try:
                self.refs[node.node_id] = self._place(node)
            except (RecordError, UidError) as err:
                raise RecordError(
                    str(err) if isinstance(err, UidError) else err.reason,
                    record=f"nodes[{i}] ({node.node_id})",
                    field=getattr(err, "field", None) or "node_id",
                ) from None

    def _place(self, node: GraphNode) -> NodeRef:
        if node.feature_type in TRANSCODER:
            return self._feature(node)
        if node.feature_type == ERROR:
            return ref(
                NodeLabel.MLP, str(ComponentUid(self.model, self._layer(node), ComponentKind.MLP))
            )
        if node.feature_type == EMBEDDING:
            tokens = self.graph.metadata.prompt_tokens
            if node.ctx_idx >= len(tokens):
                raise RecordError(
                    f"position {node.ctx_idx} is past the prompt's {len(tokens)} tokens",
                    field="ctx_idx",
                )
            return self._token(tokens[node.ctx_idx])
        if node.feature_type == LOGIT:
            found = _OUTPUT.fullmatch(node.clerp)
            if found is None:
                raise RecordError(
                    f"a logit's clerp names its token as Output \"...\" (p=...), "
                    f"got {node.clerp!r}",
                    field="clerp",
                )
            token = self._token(found["token"])
            self.outputs.append((token, node))
            return token
        raise RecordError(
            f"unknown node type {node.feature_type!r}; known: {', '.join(KNOWN_TYPES)}",
            field="feature_type",
        )

    def _token(self, text: str) -> NodeRef:
        record = Token(text=text).record()
        self.tokens.append(record)
        return record.ref

    @staticmethod
    def _layer(node: GraphNode) -> int:
        if isinstance(node.layer, int) or (isinstance(node.layer, str) and node.layer.isdigit()):
            return int(node.layer)
        raise RecordError(f"layer {node.layer!r} is not a block", field="layer")

    def _feature(self, node: GraphNode) -> NodeRef:
        if self.dictionary is None:
            raise RecordError(
                "transcoder features need their dictionary: the metadata names none "
                "(no info.transcoder_set or info.neuronpedia_source_set, as in older "
                "Neuronpedia downloads); name it with --dictionary, its Neuronpedia source "
                "set (e.g. gemmascope-transcoder-16k) or its transcoder set",
                field="metadata.info.transcoder_set",
            )
        parts = _FEATURE_ID.fullmatch(node.node_id)
        if parts is None:
            raise RecordError("a transcoder node's id is <layer>_<index>_<position>")
        layer, index = int(parts["layer"]), int(parts["index"])
        if layer != self._layer(node) or int(parts["ctx"]) != node.ctx_idx:
            raise RecordError(
                f"node_id says layer {layer}, position {parts['ctx']}; the node "
                f"says layer {node.layer}, position {node.ctx_idx}",
                field="layer",
            )
        expected = FEATURE_ENCODINGS[self.encoding](layer, index)
        if node.feature != expected:
            raise RecordError(
                f"feature {node.feature} is not {self.encoding} = {expected}, "
                "as the file's other features are: node_id and feature disagree",
                field="feature",
            )
        uid = str(ComponentUid(self.model, layer, ComponentKind.FEATURE, index, self.dictionary))
        self.layers.add(layer)
        if node.clerp:
            if self.labels.setdefault(uid, node.clerp) != node.clerp:
                raise RecordError(f"{uid} has two labels in one graph", field="clerp")
        return ref(NodeLabel.FEATURE, uid)


def attribution_records(
    data: Any,
    path: Path,
    *,
    analysis_uid: str | None = None,
    task: str | None = None,
    digest: str | None = None,
    dictionary: str | None = None,
) -> Iterator[NodeRecord | RelRecord]:
    """The records of one attribution graph (already parsed as `data`); `dictionary`
    names its transcoders where its metadata does not (a Neuronpedia source set, or a
    transcoder set with '/')."""
    graph = validate(AttributionGraph, data, file=path, record="the file")
    meta = graph.metadata
    model = canonical_model(meta.scan)
    transcoders = meta.info.get("transcoder_set")
    transcoders = transcoders if isinstance(transcoders, str) and transcoders.strip("/") else None
    source_set = meta.info.get("neuronpedia_source_set")
    source_set = source_set if isinstance(source_set, str) and source_set else None
    if dictionary is not None:
        given_set, given_transcoders = (
            (None, dictionary) if "/" in dictionary.strip("/") else (dictionary, None)
        )
        claimed = source_set or transcoders
        if claimed is not None and claimed not in (given_set, given_transcoders):
            raise RecordError(
                f"--dictionary {dictionary!r}, but the metadata names {claimed!r}",
                file=str(path),
                field="metadata.info",
            )
        source_set, transcoders = source_set or given_set, transcoders or given_transcoders
    try:
        if source_set is not None:
            check_set_name(source_set)
        nodes = _Nodes(
            graph, model, source_set or (dictionary_name(transcoders) if transcoders else None)
        )
    except UidError as err:
        raise RecordError(
            str(err), file=str(path), field="metadata.info.neuronpedia_source_set"
        ) from None
    except RecordError as err:
        raise err.located(file=str(path)) from None
    name = task or meta.prompt
    if len(name) > 200:
        raise RecordError(
            "the prompt is too long to name a task; name one with --task",
            file=str(path),
            field="metadata.prompt",
        )
    analysis = Analysis(
        uid=analysis_uid or f"attribution-graph/{model}/{meta.slug}",
        kind="circuit",
        method="attribution graph (circuit-tracer)",
        models=[model],
        citation=CITATION,
        content_hash=digest,
        params={**meta.model_dump(), "qParams": graph.qParams},
    )
    task_node = Task(name=name, description=meta.prompt).record()
    yield from analysis.records()
    yield task_node
    yield from nodes.tokens
    for layer in sorted(nodes.layers) if nodes.dictionary is not None else ():
        named = {"transcoder_set": transcoders}
        if source_set is not None:
            named |= {
                "neuronpedia": f"{meta.scan}/{neuronpedia_source(layer, source_set)}",
                "set_alias": dictionary_name(transcoders) if transcoders else None,
            }
        yield dictionary_record(model, layer, str(nodes.dictionary), origin=str(path), **named)
    for uid, label in nodes.labels.items():
        yield NodeRecord(NodeLabel.FEATURE, uid, {"label": label}, origin=f"{path}, {uid}")
    target = analysis.record().ref
    for i, node in enumerate(graph.nodes):
        origin = f"{path}, nodes[{i}] ({node.node_id})"
        kept = {
            "node": node.node_id,
            "node_type": node.feature_type,
            "position": node.ctx_idx,
            "influence": node.influence,
            "activation": node.activation,
        }
        yield (
            MeasuredBy(**{**kept, "analysis": analysis.uid})  # the analysis writing it
            .record(nodes.refs[node.node_id], target)
            .at(origin)
        )
    for rank, (token, node) in enumerate(
        sorted(nodes.outputs, key=lambda o: -(o[1].token_prob or 0))
    ):
        yield (
            OutputNode(
                analysis=analysis.uid,
                probability=node.token_prob,
                is_target=node.is_target_logit,
                rank=rank,
                category="logit",
            )
            .record(token, task_node.ref)
            .at(f"{path}, {node.node_id}")
        )
    for i, link in enumerate(graph.links):
        origin = f"{path}, links[{i}]"
        start, end = nodes.refs.get(link.source), nodes.refs.get(link.target)
        if start is None or end is None:
            missing = link.source if start is None else link.target
            raise RecordError(
                f"link to a node the graph does not have: {missing!r}",
                file=str(path),
                record=f"links[{i}]",
                field="source" if start is None else "target",
            )
        yield (
            CircuitEdge(
                analysis=analysis.uid, weight=link.weight, link=f"{link.source} -> {link.target}"
            )
            .record(start, end)
            .at(origin)
        )
