"""The bulk path: a checked plan loaded into an empty store by the backend's bulk loader
(FalkorDB's `GRAPH.BULK`; Neo4j's offline importer, `store.neo4j_import`) instead of one
MERGE per row. It is only for an empty store: a loader creates, it cannot merge.

The plan is the same one the writer would write, checked the same way first, so bad
input writes nothing on either path. What the writer's statements would leave is spelled
out here whole: a node's properties are those it is created with and then set (a
component of a model's set gets its derived properties and its IN_MODEL edge, plus what
the input says of it), every relationship its properties. Nodes are numbered in the order
they are given (the loaders name a relationship's ends by number or by key), the numbers
kept in the plan's scratch file, so memory does not grow with the load.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import StoreError
from ..schema.graph import NODE_KEY, NodeLabel, RelType, labels_of
from ..schema.nodes import ModelComponents
from ..store.base import GraphStore, Progress, WriteCounts
from ..store.cypher import COMPONENT_ROW
from ..store.driver import LoadNode, LoadRel
from ..store.neo4j_import import OfflineNeo4j, import_offline
from .scratch import CHUNK, Plan, decoded

# nodes and relationships from which an ingest into an empty store is loaded in bulk
BULK_THRESHOLD = 100_000


def unavailable(store: GraphStore) -> str | None:
    """Why the bulk path cannot fill `store` now (None: it can)."""
    if (reason := store.bulk_unavailable()) is not None:
        return reason
    if not store.is_empty():
        return f"{store.location} is not empty, and a bulk load only fills an empty store"
    return None


def chosen(store: GraphStore, plan: Plan, bulk: bool | None) -> bool:
    """Whether to load `plan` in bulk: asked for (`bulk=True`: StoreError saying why not,
    when it cannot), refused (`False`), or by default when the plan is large and the
    store can take it."""
    if bulk is False or (bulk is None and plan.node_count + plan.rel_count < BULK_THRESHOLD):
        return False
    reason = unavailable(store)
    if bulk and reason is not None:
        raise StoreError(f"no bulk load: {reason}")
    return reason is None


def load_plan(store: GraphStore, plan: Plan, *, progress: Progress | None = None) -> WriteCounts:
    """Load `plan` into the empty `store`, then make its indexes and save it (the caller
    summarises similarity, as after the writer)."""
    loaded = Load(plan)
    counts = store.bulk_load(
        loaded.nodes(), loaded.rels(), counts=(plan.node_count, plan.rel_count), progress=progress
    )
    store.ensure_schema()
    store.persist()
    return counts


def load_offline(
    target: OfflineNeo4j, plan: Plan, *, progress: Progress | None = None
) -> WriteCounts:
    """Import `plan` into the new database `target` of a stopped Neo4j (its constraints,
    indexes and summaries follow when the started DBMS is first opened for writing:
    `circuitbase init`)."""
    loaded = Load(plan)
    return import_offline(
        target,
        loaded.nodes(),
        loaded.rels(),
        counts=(plan.node_count, plan.rel_count),
        key_of={label.value: key for label, key in NODE_KEY.items()},
        progress=progress,
    )


@dataclass
class Load:
    """A plan as whole nodes and relationships, numbered."""

    plan: Plan

    def __post_init__(self) -> None:
        self._db = self.plan.scratch
        self._db.executescript(
            "DROP TABLE IF EXISTS load_numbers; CREATE TABLE load_numbers (label TEXT, key TEXT, "
            "number INTEGER, PRIMARY KEY (label, key)) WITHOUT ROWID"
        )
        self._covered: set[str] = set()  # components of a set the plan's nodes give
        self._set_labels = {
            whole.spec.name: {NodeLabel.of(kind) for kind in whole.kinds_present()}
            for whole in self.plan.component_sets()
        }
        # the number of the first component of a set: they come after the plan's nodes
        self._first_in_sets = 0

    def nodes(self) -> Iterator[LoadNode]:
        """The plan's nodes, then its sets' components (those the input also describes
        come with the plan's nodes, with the properties the set gives them)."""
        numbers = _Numbers(self._db)
        for label, key, props, create in self.plan.whole_nodes():
            if self._in_a_set(label, key):
                self._covered.add(key)  # made by its set first: create-only values not set
                given = {NODE_KEY[label]: key, **props}
            else:
                given = {NODE_KEY[label]: key, **create, **props}
            yield LoadNode(label.value, _labels(label), numbers.add(label.value, key), given)
        self._first_in_sets = numbers.count
        for label, whole, rows in self._set_groups():
            value, labels, model = label.value, _labels(label), whole.spec.name
            for row in rows:
                props = {name: item for name, item in zip(COMPONENT_ROW, row) if item is not None}
                yield LoadNode(value, labels, numbers.add(value, row[0]), {"model": model, **props})
        numbers.flush()

    def rels(self) -> Iterator[LoadRel]:
        """The plan's relationships, then the IN_MODEL edge of each set's component."""
        for type_, start_label, start, end_label, end, props, a, b in self.plan.scratch.execute(
            "SELECT r.type, r.start_label, r.start_key, r.end_label, r.end_key, r.props, "
            "a.number, b.number FROM rels r "
            "JOIN load_numbers a ON a.label = r.start_label AND a.key = r.start_key "
            "JOIN load_numbers b ON b.label = r.end_label AND b.key = r.end_key "
            "ORDER BY r.type, r.rowid"
        ):
            yield LoadRel(type_, a, b, (start_label, start), (end_label, end), decoded(props))
        models = dict(
            self._db.execute(
                "SELECT key, number FROM load_numbers WHERE label = ?", (NodeLabel.MODEL.value,)
            )
        )
        in_model, model_label = RelType.IN_MODEL.value, NodeLabel.MODEL.value
        number = self._first_in_sets
        for label, whole, rows in self._set_groups(covered_too=True):
            value, name = label.value, whole.spec.name
            model = models[name]
            for row in rows:
                if row[0] in self._covered:  # numbered with the plan's nodes
                    start = self._number_of(label, row[0])
                else:
                    start, number = number, number + 1
                yield LoadRel(in_model, start, model, (value, row[0]), (model_label, name), {})

    def _in_a_set(self, label: NodeLabel, key: str) -> bool:
        model = key.partition("/")[0]
        return label in self._set_labels.get(model, ())

    def _set_groups(
        self, *, covered_too: bool = False
    ) -> Iterator[tuple[NodeLabel, ModelComponents, Iterator[list]]]:
        """Each set's component rows (`ModelComponents.rows`) of each kind, without those
        the plan's nodes already give unless `covered_too`, in the same order each time."""
        for whole in self.plan.component_sets():
            for kind in whole.kinds_present():
                rows = whole.rows(kind)
                if not covered_too and self._covered:
                    rows = (row for row in rows if row[0] not in self._covered)
                yield NodeLabel.of(kind), whole, rows

    def _number_of(self, label: NodeLabel, key: str) -> int:
        return self._db.execute(
            "SELECT number FROM load_numbers WHERE label = ? AND key = ?", (label.value, key)
        ).fetchone()[0]


class _Numbers:
    """Numbers nodes in the order they are given, keeping (label, key, number) in the
    scratch file a chunk at a time."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._pending: list[tuple[str, str, int]] = []
        self.count = 0

    def add(self, label: str, key: str) -> int:
        number = self.count
        self._pending.append((label, key, number))
        self.count += 1
        if len(self._pending) == CHUNK:
            self.flush()
        return number

    def flush(self) -> None:
        self._db.executemany("INSERT INTO load_numbers VALUES (?, ?, ?)", self._pending)
        self._pending = []


def _labels(label: NodeLabel) -> str:
    return ":".join(labels_of(label))
