"""The graph layer: every question the library asks the graph, written once for both
backends above a `Driver` (driver.py: read, write, indexes, persistence per backend);
`GraphStore` gathers the store's core (core.py) and one class per concern (search.py,
profiles.py, removal.py, integrity.py, named.py), the lookups every room shares here.

Everything above the store (writer, query registry, export, CLI) talks only to
`GraphStore`, which is what lets the same Cypher templates run on the embedded
FalkorDB and on Neo4j.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# The store's errors, defined with the rest of the family; callers import them from here too.
from ..errors import QueryTimeout, ReadOnlyViolation, StoreError  # noqa: F401
from ..schema.graph import COMPONENT_LABEL, NodeLabel, RelType
from ..schema.packing import unpacked_facts
from . import cypher
from .core import StoreCore  # noqa: F401  (what GraphStore is built on)

# what callers import from here: the driver's types
from .driver import DEFAULT_BATCH_SIZE, VECTOR_PROPERTY, Progress, Row, WriteCounts  # noqa: F401
from .integrity import Integrity
from .named import NamedThings
from .profiles import Measurements
from .search import Search, search_words  # noqa: F401  (callers import it from here)


@dataclass
class GraphStats:
    """What is in the store: nodes per label, relationships per type, components per model."""

    labels: dict[str, int]
    relationships: dict[str, int]
    models: list[dict[str, Any]]


class GraphStore(Search, Measurements, Integrity, NamedThings):
    """Everything the library asks of the graph, written once above a backend's `Driver`
    (`connection`): the core (core.py), each concern's questions (search, measurements,
    removal, integrity, named things), and here the lookups every room shares (models,
    nodes, facts, statistics). Use as a context manager, or call close()."""

    def models(self, names: Sequence[str] | None = None) -> list[Row]:
        """The stored Model nodes (all, or those named), as property dicts, by uid."""
        rows = self.read(cypher.MODELS, {"names": None if names is None else list(names)})
        return [{k: v for k, v in row["m"].items() if not k.startswith("_")} for row in rows]

    def existing_keys(self, label: NodeLabel, keys: Iterable[str]) -> set[str]:
        """Those of `keys` that a stored `label` node has as its merge key."""
        return {row["k"] for row in self.read(cypher.existing_keys(label), {"keys": list(keys)})}

    def node_properties(self, label: NodeLabel, keys: Iterable[str]) -> dict[str, dict]:
        """The properties of the stored `label` nodes among `keys`, by key."""
        rows = self.read(cypher.node_properties(label), {"keys": list(keys)})
        return {row["k"]: row["props"] for row in rows}

    def fact_properties(
        self, group: tuple[RelType, NodeLabel, NodeLabel], rows: Sequence[Row]
    ) -> list[dict | None]:
        """For each row {start, end, props}, the properties of the stored relationship of
        the group's type between its ends with its identity (None where there is none)."""
        found: list[dict | None] = [None] * len(rows)
        params = [
            {"i": i, "start": r["start"], "end": r["end"], "props": r["props"]}
            for i, r in enumerate(rows)
        ]
        for row in self.read(cypher.fact_properties(*group), {"rows": params}):
            found[row["i"]] = row["props"]
        return found

    def has_node(self, label: NodeLabel, key: str) -> bool:
        return bool(self.existing_keys(label, [key]))

    def has_value(self, label: NodeLabel, prop: str, value: str, *, prefix: bool = False) -> bool:
        """Whether some `label` node's `prop` is `value` (or starts with it)."""
        return bool(self.read(cypher.has_value(label, prop, prefix=prefix), {"value": value}))

    def values_of(self, label: NodeLabel, prop: str) -> list[str]:
        """The distinct text values of `prop` on `label` nodes (at most cypher.MAX_NAMES),
        for naming near matches of a name the store lacks."""
        return [
            row["value"]
            for row in self.read(cypher.values_of(label, prop))
            if isinstance(row["value"], str)
        ]

    def nodes(self, label: NodeLabel, keys: Iterable[str]) -> list[Row]:
        """Rows {labels, props} of the `label` nodes with these keys."""
        return self.read(cypher.nodes_by_key(label), {"keys": sorted(keys)})

    def outgoing(self, label: NodeLabel, keys: Iterable[str]) -> list[Row]:
        """Every relationship leaving these nodes: rows {a, type, props, b_labels, b}."""
        return unpacked_facts(self.read(cypher.outgoing(label), {"keys": sorted(keys)}))

    def neighbourhood(
        self, label: NodeLabel, key: str, hops: int, rel_types: Sequence[RelType] = ()
    ) -> list[Row]:
        """The distinct nodes within `hops` of one node, either direction: rows {labels, props}."""
        return self.read(cypher.neighbourhood(label, hops, rel_types), {"k": key})

    def stats(self) -> GraphStats:
        labels = {row["label"]: row["n"] for row in self.read(cypher.LABEL_COUNTS)}
        relationships = {row["type"]: row["n"] for row in self.read(cypher.RELATIONSHIP_COUNTS)}
        models = self.read(cypher.MODEL_COMPONENT_COUNTS, {"component": COMPONENT_LABEL})
        return GraphStats(dict(sorted(labels.items())), dict(sorted(relationships.items())), models)

    def analyses(self, uids: Iterable[str]) -> list[Row]:
        """Rows {uid, method, citation, created_at, models} of these analyses."""
        return self.read(cypher.ANALYSES, {"uids": sorted(uids)})

    def neuron_profiles(self, metric: str, model: str, *, min_f1: float = 0.0) -> list[Row]:
        """Rows {uid, feature, weight}: each neuron's activating tokens or encoded concepts."""
        return self.read(cypher.NEURON_PROFILES[metric], {"model": model, "min_f1": min_f1})

    def with_vectors(self, label: NodeLabel, model: str) -> list[str]:
        """The uids of `model`'s `label` nodes that have a vector."""
        return [
            row["uid"]
            for row in self.read(cypher.with_vectors(label, VECTOR_PROPERTY), {"model": model})
        ]

    def node_with_relationships(self, label: NodeLabel, key: str, limit: int) -> list[Row]:
        """Rows {node, type, outgoing, labels, other, other_model, props}: the node and each
        relationship at it (at most `limit`); one row with type None if it has none."""
        rows = self.read(cypher.node_with_relationships(label), {"key": key, "limit": limit})
        return unpacked_facts(rows)

    def analysis_list(self) -> list[Row]:
        """Rows {uid, kind, method, models} of every stored analysis."""
        return self.read(cypher.ANALYSIS_LIST)

    def fact_counts(self, analysis: str) -> dict[str, int]:
        """How many relationships of each type cite `analysis`."""
        return {
            row["type"]: row["n"] for row in self.read(cypher.FACT_COUNTS, {"analysis": analysis})
        }
