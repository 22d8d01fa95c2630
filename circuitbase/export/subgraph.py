"""Take a subgraph out of the store as a `networkx.MultiDiGraph`, with every property.

Two ways in: the neighbourhood of a node (`around`), or the nodes a query
template's rows name (`from_rows`). Every export format is written from this
graph, so a notebook user gets the same thing as the CLI.

Node ids are `Label:key` (e.g. `Neuron:gpt2-small/L3/N5`, `Token: the`), since a
token's text and a concept's name may be the same string. Each node keeps its
labels in the `labels` attribute; each edge its type in `type`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx

from ..queries.names import checked_value
from ..queries.show import resolve
from ..schema.graph import COMPONENT_LABELS, NODE_KEY, NodeLabel, RelType, primary_label
from ..schema.records import RecordError
from ..store.base import GraphStore, Row

MAX_HOPS = 4


def node_id(label: NodeLabel, key: str) -> str:
    return f"{label.value}:{key}"


def _add_node(graph: nx.MultiDiGraph, labels: Sequence[str], props: dict[str, Any]) -> str:
    label = primary_label(labels)
    ident = node_id(label, props[NODE_KEY[label]])
    graph.add_node(ident, labels=sorted(labels), **props)
    return ident


def with_their_analyses(store: GraphStore, graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """`graph` and the Analysis node of every fact in it: what an export read back needs,
    since an import takes a fact only with its analysis in the same file."""
    cited = {
        attrs["analysis"]
        for _, _, attrs in graph.edges(data=True)
        if isinstance(attrs.get("analysis"), str)
    }
    missing = {uid for uid in cited if node_id(NodeLabel.ANALYSIS, uid) not in graph}
    if not missing:
        return graph
    whole = graph.copy()
    for row in store.nodes(NodeLabel.ANALYSIS, missing):
        _add_node(whole, row["labels"], row["props"])
    return whole


def fetch_nodes(store: GraphStore, wanted: dict[NodeLabel, set[str]]) -> nx.MultiDiGraph:
    """The given nodes and every relationship between two of them."""
    graph = nx.MultiDiGraph()
    for label, keys in wanted.items():
        for row in store.nodes(label, keys):
            _add_node(graph, row["labels"], row["props"])
    for label, keys in wanted.items():
        key = NODE_KEY[label]
        for row in store.outgoing(label, keys):
            b_label = primary_label(row["b_labels"])
            target = node_id(b_label, row["b"][NODE_KEY[b_label]])
            if target in graph:
                graph.add_edge(
                    node_id(label, row["a"][key]), target, type=row["type"], **row["props"]
                )
    return graph


def around(
    store: GraphStore,
    uid: str,
    hops: int = 1,
    *,
    rel_types: Sequence[RelType] = (),
    labels: Sequence[NodeLabel] = (),
    model: str | None = None,
    analysis: str | None = None,
    expand_structural: bool = False,
) -> nx.MultiDiGraph:
    """The nodes within `hops` of `uid` and the relationships among them, filtered.

    `rel_types` limits the paths walked; `labels` and `model` the nodes kept (the
    centre is always kept); `analysis` the fact-bearing relationships kept.

    Context relationships (a component's model, an analysis's links: `RelSpec.context`)
    are walked from the centre only, never through a node reached on the way, unless
    `expand_structural`: otherwise a second hop through IN_MODEL brings every component
    of the model. The models of the components kept are added (when IN_MODEL is walked,
    as it is by default), so a figure can name them.
    """
    if not 1 <= hops <= MAX_HOPS:
        raise RecordError(f"--hops must be 1 to {MAX_HOPS}, got {hops}")
    label, uid = resolve(store, uid)  # the one resolver `show` uses: near matches on a miss
    asked = [RelType(t) for t in rel_types] or list(RelType)
    rows = _walk(store, label, uid, hops, asked, rel_types, expand_structural)
    wanted: dict[NodeLabel, set[str]] = {label: {uid}}
    for row in rows:
        found = primary_label(row["labels"])
        if labels and found not in labels:
            continue
        if model and row["props"].get("model") not in (None, model):
            continue
        wanted.setdefault(found, set()).add(row["props"][NODE_KEY[found]])
    if RelType.IN_MODEL in asked and (not labels or NodeLabel.MODEL in labels):
        _add_models(store, wanted, rows, label, uid)
    graph = fetch_nodes(store, wanted)
    _keep_edges(graph, {RelType(t).value for t in rel_types}, analysis)
    return graph


def _walk(
    store: GraphStore,
    label: NodeLabel,
    uid: str,
    hops: int,
    asked: list[RelType],
    rel_types: Sequence[RelType],
    expand_structural: bool,
) -> list[Row]:
    """The nodes reached: fact relationships walked `hops` deep, context ones one hop from
    the centre (every hop, with `expand_structural`)."""
    if expand_structural:
        return store.neighbourhood(label, uid, hops, [RelType(t) for t in rel_types])
    facts = [t for t in asked if not t.spec.context]
    context = [t for t in asked if t.spec.context]
    rows = store.neighbourhood(label, uid, hops, facts) if facts else []
    if context:
        rows += store.neighbourhood(label, uid, 1, context)
    return rows


def _add_models(
    store: GraphStore,
    wanted: dict[NodeLabel, set[str]],
    rows: list[Row],
    label: NodeLabel,
    uid: str,
) -> None:
    """The models of the components kept (and of the centre), so that a figure names them."""
    models = {row["props"]["model"] for row in rows if row["props"].get("model")}
    if label in COMPONENT_LABELS:
        models.add(uid.split("/")[0])
    found = store.existing_keys(NodeLabel.MODEL, sorted(models))
    if found:
        wanted.setdefault(NodeLabel.MODEL, set()).update(found)


def _keep_edges(graph: nx.MultiDiGraph, types: set[str], analysis: str | None) -> None:
    """Only relationships of `types` (all, if none given) and of `analysis` (facts of
    other analyses go; structure, which cites none, stays)."""
    graph.remove_edges_from(
        [
            (a, b, k)
            for a, b, k, attrs in graph.edges(keys=True, data=True)
            if (types and attrs.get("type") not in types)
            or (analysis and attrs.get("analysis") not in (None, analysis))
        ]
    )


def of_analysis(store: GraphStore, analysis: str) -> nx.MultiDiGraph:
    """What one analysis found (a circuit, a probe table, ...): the nodes its facts touch,
    their models, and its facts among them."""
    rows = store.nodes_of_analysis(analysis)
    if not rows:
        checked_value(store, NodeLabel.ANALYSIS, None, analysis, "analysis")
        raise RecordError(f"no facts of an analysis {analysis!r} in the store")
    wanted: dict[NodeLabel, set[str]] = {}
    for row in rows:
        found = primary_label(row["labels"])
        wanted.setdefault(found, set()).add(row["props"][NODE_KEY[found]])
    models = {row["props"]["model"] for row in rows if row["props"].get("model")}
    if models:
        wanted.setdefault(NodeLabel.MODEL, set()).update(models)
    graph = fetch_nodes(store, wanted)
    graph.remove_edges_from(
        [
            (a, b, k)
            for a, b, k, used in graph.edges(keys=True, data="analysis")
            if used is not None and used != analysis
        ]
    )
    return graph


def from_rows(
    store: GraphStore, rows: Sequence[Row], params: dict[str, Any] | None = None
) -> nx.MultiDiGraph:
    """The nodes whose uid or name appears as a value in `rows` (or in the query's `params`,
    e.g. the concept asked about), and the edges among them."""
    values: set[str] = set()
    for row in [*rows, params or {}]:
        for value in row.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    values.add(item)
    wanted: dict[NodeLabel, set[str]] = {}
    for label in NodeLabel:
        if label in (NodeLabel.TOKEN, NodeLabel.PATTERN_NODE):
            continue  # token strings and trie nodes would match too much incidental text
        found = store.existing_keys(label, sorted(values))
        if found:
            wanted[label] = found
    graph = fetch_nodes(store, wanted)
    # A row summarises facts it does not list (a concept's neurons in n_models): the
    # analyses of the facts at the nodes it names are behind it, and are cited.
    graph.graph["analyses"] = sorted(
        store.analyses_at(
            {
                label: keys
                for label, keys in wanted.items()
                if label not in (NodeLabel.MODEL, NodeLabel.ANALYSIS)
            }
        )
    )
    return graph
