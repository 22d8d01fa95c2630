"""Write a subgraph as GraphML, GEXF, node-link JSON, CSV or a Cypher script, and read the
GraphML and Cypher back, so an export can be loaded into another store unchanged.

GraphML and GEXF hold only scalar attributes, so list properties are written as
JSON text and named in the graph attribute `circuitbase_json_attributes`, which
the reader uses to turn them back into lists.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import networkx as nx

from ..schema.graph import NODE_KEY, REL_KEY, RelType, label_clause
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from .subgraph import primary_label

JSON_ATTRS = "circuitbase_json_attributes"


def _scalar_graph(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy whose attributes are all scalars (lists become JSON text, None is dropped)."""
    flat = nx.MultiDiGraph()
    encoded: set[str] = set()

    def flatten(attrs: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, value in attrs.items():
            if isinstance(value, (list, dict)):
                encoded.add(name)
                out[name] = json.dumps(value, ensure_ascii=False)
            elif value is not None:
                out[name] = value
        return out

    for ident, attrs in graph.nodes(data=True):
        flat.add_node(ident, **flatten(attrs))
    for a, b, attrs in graph.edges(data=True):
        flat.add_edge(a, b, **flatten(attrs))
    flat.graph[JSON_ATTRS] = ",".join(sorted(encoded))
    return flat


def write_graphml(graph: nx.MultiDiGraph, path: Path) -> None:
    nx.write_graphml(_scalar_graph(graph), path)


def write_gexf(graph: nx.MultiDiGraph, path: Path) -> None:
    flat = _scalar_graph(graph)
    for ident, attrs in flat.nodes(data=True):
        attrs.setdefault("label", attrs.get("name") or ident)
    nx.write_gexf(flat, path)


def write_json(graph: nx.MultiDiGraph, path: Path) -> None:
    data = nx.node_link_data(graph, edges="edges")
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def write_csv(graph: nx.MultiDiGraph, path: Path) -> tuple[Path, Path]:
    """`<path>.nodes.csv` and `<path>.edges.csv`; list values as JSON text."""
    stem = path.with_suffix("")
    nodes_path, edges_path = Path(f"{stem}.nodes.csv"), Path(f"{stem}.edges.csv")
    flat = _scalar_graph(graph)
    node_columns = sorted({k for _, attrs in flat.nodes(data=True) for k in attrs})
    with open(nodes_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["id", *node_columns])
        writer.writeheader()
        for ident, attrs in flat.nodes(data=True):
            writer.writerow({"id": ident, **attrs})
    edge_columns = sorted({k for _, _, attrs in flat.edges(data=True) for k in attrs})
    with open(edges_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["source", "target", *edge_columns])
        writer.writeheader()
        for a, b, attrs in flat.edges(data=True):
            writer.writerow({"source": a, "target": b, **attrs})
    return nodes_path, edges_path


def cypher_literal(value: Any) -> str:
    """A Cypher literal for a property value; strings escaped, never spliced raw."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                   .replace("\r", "\\r").replace("\t", "\\t"))
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(cypher_literal(v) for v in value) + "]"
    raise RecordError(f"cannot write a {type(value).__name__} as a Cypher literal")


def _map_literal(props: dict[str, Any]) -> str:
    for name in props:
        if not name.isidentifier():
            raise RecordError(f"property name {name!r} is not an identifier")
    return "{" + ", ".join(f"{k}: {cypher_literal(v)}" for k, v in sorted(props.items())
                           if v is not None) + "}"


def write_cypher(graph: nx.MultiDiGraph, path: Path) -> None:
    """One MERGE statement per line, so the script is idempotent and easy to split."""
    lines = ["// circuitbase subgraph export: one statement per line; run in order."]
    for _, attrs in sorted(graph.nodes(data=True)):
        label = primary_label(attrs["labels"])
        key = NODE_KEY[label]
        props = {k: v for k, v in attrs.items() if k not in ("labels", key)}
        lines.append(f"MERGE (n{label_clause(label)} {{{key}: {cypher_literal(attrs[key])}}}) "
                     f"SET n += {_map_literal(props)};")
    for a, b, attrs in graph.edges(data=True):
        start, end = graph.nodes[a], graph.nodes[b]
        s_label, e_label = primary_label(start["labels"]), primary_label(end["labels"])
        type_ = RelType(attrs["type"])
        props = {k: v for k, v in attrs.items() if k != "type"}
        identity = {k: props[k] for k in REL_KEY[type_] if k in props}
        lines.append(
            f"MATCH (a{label_clause(s_label)} {{{NODE_KEY[s_label]}: "
            f"{cypher_literal(start[NODE_KEY[s_label]])}}}), "
            f"(b{label_clause(e_label)} {{{NODE_KEY[e_label]}: {cypher_literal(end[NODE_KEY[e_label]])}}}) "
            f"MERGE (a)-[r:{type_.value} {_map_literal(identity)}]->(b) SET r += {_map_literal(props)};")
    path.write_text("\n".join(lines) + "\n")


def cypher_statements(path: Path) -> list[str]:
    return [line.rstrip().removesuffix(";") for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("//")]


def read_graphml(path: Path) -> list[NodeRecord | RelRecord]:
    """Records that recreate an exported GraphML subgraph (through the usual planner and writer)."""
    try:
        graph = nx.read_graphml(path, force_multigraph=True)
    except Exception as err:  # networkx raises several parser errors
        raise RecordError(f"not a readable GraphML file: {err}", file=str(path)) from None
    encoded = set(filter(None, graph.graph.get(JSON_ATTRS, "").split(",")))

    def decode(attrs: dict[str, Any]) -> dict[str, Any]:
        return {k: json.loads(v) if k in encoded else v for k, v in attrs.items()}

    records: list[NodeRecord | RelRecord] = []
    refs = {}
    for ident, raw in graph.nodes(data=True):
        attrs = decode(raw)
        label = primary_label(attrs.pop("labels"))
        key = attrs.pop(NODE_KEY[label])
        refs[ident] = ref(label, key)
        records.append(NodeRecord(label=label, key=key, props=attrs, origin=f"{path}, node {ident}"))
    for a, b, raw in graph.edges(data=True):
        attrs = decode(raw)
        records.append(RelRecord(type=RelType(attrs.pop("type")), start=refs[a], end=refs[b],
                                 props=attrs, origin=f"{path}, edge {a} -> {b}"))
    return records
