"""The one writer: a validated plan becomes batched `UNWIND $rows ... MERGE` queries.

One query per (label) for nodes and per (type, start label, end label) for
relationships, each sent in batches of rows, so a model's worth of components
is a handful of round trips. Every statement is a MERGE on the node key or on
the relationship's identity (its ends plus `analysis`, and `metric` for
similarity), so writing the same plan twice changes nothing, and a run that
died halfway is finished by running it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..schema.graph import NodeLabel
from ..schema.nodes import ModelComponents
from ..schema.uids import ComponentKind
from ..store import cypher
from ..store.base import DEFAULT_BATCH_SIZE, GraphStore, Progress, StoreError, WriteCounts
from .scratch import Plan


@dataclass(frozen=True)
class Statement:
    """One MERGE statement of a plan, its rows (made or read back as they are sent), how
    many there are, and the parameters every batch shares."""

    cypher: str
    rows: Callable[[], Iterator[Any]]
    count: int
    params: dict[str, Any] = field(default_factory=dict)
    per_row: int = 1  # what a row writes, as the plan counts it: a component and its edge, 2

    def ticking(self, progress: Progress | None) -> Progress | None:
        if progress is None or self.per_row == 1:
            return progress
        return lambda done: progress(done * self.per_row)


def plan_statements(plan: Plan) -> list[Statement]:
    """Each MERGE statement of the plan in the order they are written: nodes (models
    first, then the models' component sets with their IN_MODEL edges) before the
    relationships between them."""
    statements = _node_statements(plan, NodeLabel.MODEL)
    for whole in plan.component_sets():
        statements += _component_statements(whole)
    for label in plan.node_labels():
        if label is not NodeLabel.MODEL:
            statements += _node_statements(plan, label)
    for group in plan.rel_groups():
        # the facts of an analysis new to the store cannot exist yet: created, not merged
        for new, statement in (
            (True, cypher.create_relationships),
            (False, cypher.merge_relationships),
        ):
            if count := plan.count_rel_rows(group, new=new):
                statements.append(
                    Statement(statement(*group), partial(plan.rel_rows, group, new=new), count)
                )
    return statements


def _component_statements(whole: ModelComponents) -> list[Statement]:
    """A statement per kind of a model's component set: node and IN_MODEL edge per row."""
    return [
        Statement(
            cypher.merge_components(NodeLabel.of(kind), indexed=kind not in UNINDEXED),
            partial(whole.rows, kind),
            len(whole.only(kind)),
            {"model": whole.spec.name},
            per_row=2,
        )
        for kind in whole.kinds_present()
    ]


UNINDEXED = (ComponentKind.MLP, ComponentKind.ATTENTION)  # one per layer: no index


def _node_statements(plan: Plan, label: NodeLabel) -> list[Statement]:
    return [
        Statement(
            cypher.merge_nodes(label, update=update),
            partial(plan.node_rows, label, update=update),
            count,
        )
        for update in (True, False)
        if (count := plan.count_node_rows(label, update=update))
    ]


def write_plan(
    store: GraphStore,
    plan: Plan,
    *,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> WriteCounts:
    store.prepare_for_writes()
    total = WriteCounts()
    for statement in plan_statements(plan):
        counts = store._write_rows(  # the one raw write outside the store
            statement.cypher,
            statement.rows(),
            batch_size=batch_size,
            progress=statement.ticking(progress),
            params=statement.params,
        )
        if statement.cypher.endswith(cypher.MATCHED) and counts.matched != statement.count:
            raise StoreError(
                f"{statement.count - counts.matched} of {statement.count} rows "
                "found no node at one end and were not written; the store changed "
                "under this write (run it again)"
            )
        total += counts
    store.persist()
    return total
