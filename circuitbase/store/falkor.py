"""The embedded default store: FalkorDB over its RESP protocol (not its experimental Bolt)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import falkordb
import redis

from ..schema.graph import NodeLabel
from .base import GraphStore, ReadOnlyViolation, Row, StoreError, WriteCounts, key_constraints
from .falkor_server import EmbeddedServer

GRAPH_NAME = "circuitbase"

_COUNTERS = {
    "nodes_created": "nodes_created",
    "nodes_deleted": "nodes_deleted",
    "relationships_created": "relationships_created",
    "relationships_deleted": "relationships_deleted",
    "properties_set": "properties_set",
    "labels_added": "labels_added",
}


def plain(value: Any) -> Any:
    """Turn FalkorDB's node, edge and path objects into plain dicts and lists."""
    if isinstance(value, falkordb.Node):
        return {"_labels": sorted(value.labels or []), **value.properties}
    if isinstance(value, falkordb.Edge):
        return {"_type": value.relation, **value.properties}
    if isinstance(value, falkordb.Path):
        return {"nodes": [plain(n) for n in value.nodes()], "edges": [plain(e) for e in value.edges()]}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


class FalkorStore(GraphStore):
    backend = "falkordb"

    def __init__(self, data_dir: Path, graph: str = GRAPH_NAME) -> None:
        self.server = EmbeddedServer(Path(data_dir))
        self.location = str(self.server.data_dir)
        self.graph = self.server.connect().select_graph(graph)
        self.graph.query("RETURN 0")  # creates the graph's key; read-only queries need it
        self._dirty = False

    def read(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        try:
            result = self.graph.ro_query(cypher, dict(params or {}))
        except redis.exceptions.ResponseError as err:
            if "read-only" in str(err):
                raise ReadOnlyViolation(f"this query writes, and was sent as read-only: {err}") from err
            raise StoreError(f"FalkorDB refused the query: {err}") from err
        columns = [name for _, name in result.header]
        return [dict(zip(columns, (plain(v) for v in row))) for row in result.result_set]

    def write(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteCounts:
        try:
            self._dirty = True
            result = self.graph.query(cypher, dict(params or {}))
        except redis.exceptions.ResponseError as err:
            raise StoreError(f"FalkorDB refused the query: {err}") from err
        return WriteCounts(**{ours: int(getattr(result, theirs) or 0)
                              for ours, theirs in _COUNTERS.items()})

    def ensure_schema(self) -> None:
        """Index every merge key.

        No unique constraints here: FalkorDB 4.16's unique-constraint check crashes
        the server on some strings (seen with a value that starts with a space), so
        uniqueness rests on every write being a MERGE on the indexed key.
        """
        indexed = {(row["label"], prop) for row in self.read("CALL db.indexes()")
                   for prop in row["properties"]}
        for label, prop in key_constraints():
            if (label, prop) not in indexed:
                try:
                    self.write(f"CREATE INDEX FOR (n:{label}) ON (n.{prop})")
                except StoreError as err:  # another process made it since we looked
                    if "already indexed" not in str(err):
                        raise
        self.checkpoint()

    def set_vectors(self, label: NodeLabel, rows: Sequence[Row]) -> WriteCounts:
        return self.write_rows(f"UNWIND $rows AS row MATCH (n:{NodeLabel(label).value} {{uid: row.uid}}) "
                               f"SET n.{self.VECTOR_PROPERTY} = vecf32(row.vector)", rows)

    def ensure_vector_index(self, label: NodeLabel, dimension: int) -> None:
        label = NodeLabel(label)
        existing = self.read("CALL db.indexes() YIELD label, types RETURN label, types")
        if any(row["label"] == label.value and "VECTOR" in row["types"].get(self.VECTOR_PROPERTY, [])
               for row in existing):
            return
        self.write(f"CREATE VECTOR INDEX FOR (n:{label.value}) ON (n.{self.VECTOR_PROPERTY}) "
                   f"OPTIONS {{dimension: {int(dimension)}, similarityFunction: 'cosine'}}")

    def _vector_query(self, label: NodeLabel, k: int) -> str:
        return (f"UNWIND $rows AS row MATCH (a:{label.value} {{uid: row.uid}}) "
                f"CALL db.idx.vector.queryNodes('{label.value}', '{self.VECTOR_PROPERTY}', {k}, "
                f"a.{self.VECTOR_PROPERTY}) YIELD node, score "
                "WITH a, node, 1.0 - score AS cosine")  # FalkorDB scores cosine distance

    def checkpoint(self) -> None:
        """Snapshot to disk, so that what a finished write reported survives a kill."""
        if self._dirty:
            self.server.client.connection.save()
            self._dirty = False

    def clear(self) -> None:
        """Drop the graph and make it again with its indexes: a DETACH DELETE of a large
        graph is slow itself and left the next writes at half speed (benchmarks/)."""
        had_indexes = bool(self.read("CALL db.indexes()"))
        self._dirty = True
        self.graph.delete()
        self.graph.query("RETURN 0")
        if had_indexes:
            self.ensure_schema()
        self.checkpoint()

    def close(self) -> None:
        self.checkpoint()
        self.server.release()
