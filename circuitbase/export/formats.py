"""Write a subgraph as GraphML, GEXF, node-link JSON or CSV (the Cypher script is
`cypher_script`; `import` reads GraphML and Cypher back with `sources/exports.py`).

GraphML and GEXF hold only scalar attributes, so list properties are written as
JSON text and named in the graph attribute `circuitbase_json_attributes`, which
the reader uses to turn them back into lists.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import networkx as nx

from ..schema.graph import NODE_SPECS, RelType, primary_label
from ..sources.exports import JSON_ATTRS

# Characters XML 1.0 cannot hold, even escaped (and lone surrogates, which have no
# UTF-8 form): a value with one is written as JSON text, which escapes them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# A cell a spreadsheet would run as a formula starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|")


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell no spreadsheet runs: text that starts like a formula gets a
    leading apostrophe (OWASP's advice); numbers, and text that is a number (`-0.5`), stay."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def _needs_json(value: Any) -> bool:
    return isinstance(value, (list, dict)) or (
        isinstance(value, str) and bool(_NOT_XML.search(value))
    )


def _scalar_graph(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy whose attributes are all XML-safe scalars: lists, and text with characters XML
    cannot hold, become JSON text (every value of such an attribute, so the reader knows
    which to decode); None is dropped."""
    flat = nx.MultiDiGraph()
    every = [*(a for _, a in graph.nodes(data=True)), *(a for _, _, a in graph.edges(data=True))]
    encoded = {name for attrs in every for name, value in attrs.items() if _needs_json(value)}

    def flatten(attrs: dict[str, Any]) -> dict[str, Any]:
        return {
            name: json.dumps(value, ensure_ascii=False) if name in encoded else value
            for name, value in attrs.items()
            if value is not None
        }

    for ident, attrs in graph.nodes(data=True):
        flat.add_node(ident, **flatten(attrs))
    for a, b, attrs in graph.edges(data=True):
        flat.add_edge(a, b, **flatten(attrs))
    flat.graph[JSON_ATTRS] = ",".join(sorted(encoded))
    return flat


def importable(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """`graph` without what circuitbase derives itself and `import` refuses (similarity
    summaries, N2G tries: `made_by="circuitbase"` in the catalog), for the formats that
    are read back, so that a store's own export always imports."""
    kept = nx.MultiDiGraph(graph)
    kept.remove_nodes_from(
        [ident for ident, attrs in graph.nodes(data=True) if _derived_node(attrs)]
    )
    kept.remove_edges_from(
        [
            (a, b, k)
            for a, b, k, attrs in kept.edges(keys=True, data=True)
            if attrs.get("type") in _DERIVED_TYPES
        ]
    )
    return kept


_DERIVED_TYPES = frozenset(t.value for t in RelType if t.spec.made_by == "circuitbase")


def _derived_node(attrs: dict[str, Any]) -> bool:
    try:
        return NODE_SPECS[primary_label(attrs["labels"])].made_by == "circuitbase"
    except (KeyError, ValueError, StopIteration, TypeError):
        return False  # not a node of the catalog: written as it is (an import refuses it)


def write_graphml(graph: nx.MultiDiGraph, path: Path) -> None:
    nx.write_graphml(_scalar_graph(importable(graph)), path)


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
            writer.writerow(
                {name: csv_cell(value) for name, value in {"id": ident, **attrs}.items()}
            )
    edge_columns = sorted({k for _, _, attrs in flat.edges(data=True) for k in attrs})
    with open(edges_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["source", "target", *edge_columns])
        writer.writeheader()
        for a, b, attrs in flat.edges(data=True):
            writer.writerow(
                {
                    name: csv_cell(value)
                    for name, value in {"source": a, "target": b, **attrs}.items()
                }
            )
    return nodes_path, edges_path
