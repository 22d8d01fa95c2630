"""What is in the store: counts per label, per relationship type, and per model."""

from __future__ import annotations

from dataclasses import dataclass

from .schema.graph import COMPONENT_LABEL
from .store.base import GraphStore


@dataclass
class Stats:
    labels: dict[str, int]
    relationships: dict[str, int]
    models: list[dict[str, object]]


def graph_stats(store: GraphStore) -> Stats:
    labels: dict[str, int] = {}
    for row in store.read("MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n"):
        labels[row["label"]] = row["n"]
    relationships = {row["type"]: row["n"] for row in store.read(
        "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n")}
    models = store.read(
        f"MATCH (m:Model) OPTIONAL MATCH (c:{COMPONENT_LABEL})-[:IN_MODEL]->(m) "
        "WITH m, c, [l IN labels(c) WHERE l <> $component][0] AS kind "
        "WITH m, kind, count(c) AS n ORDER BY kind "
        "RETURN m.uid AS model, m.n_layers AS layers, "
        "collect(CASE WHEN kind IS NULL THEN NULL ELSE kind + ': ' + toString(n) END) AS components "
        "ORDER BY model", {"component": COMPONENT_LABEL})
    return Stats(dict(sorted(labels.items())), dict(sorted(relationships.items())), models)
