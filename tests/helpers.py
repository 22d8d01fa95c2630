"""Small helpers the tests share: a fingerprint of the whole graph, to prove nothing changed."""

from __future__ import annotations

import hashlib
import json

from circuitbase.store.base import GraphStore


def graph_fingerprint(store: GraphStore) -> str:
    """A hash of every node (labels, properties) and relationship (type, ends, properties)."""
    nodes = store.read("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
    rels = store.read("MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(a) AS a, "
                      "properties(b) AS b, properties(r) AS props")
    canonical = sorted(json.dumps(row, sort_keys=True, default=str) for row in nodes + rels)
    return hashlib.sha256("\n".join(canonical).encode()).hexdigest()


def count(store: GraphStore, pattern: str, **params: object) -> int:
    return store.read(f"MATCH {pattern} RETURN count(*) AS n", params)[0]["n"]
