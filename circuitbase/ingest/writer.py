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
from functools import partial
from typing import Any

from ..schema.graph import NodeLabel
from ..store import cypher
from ..store.base import DEFAULT_BATCH_SIZE, GraphStore, Progress, StoreError, WriteCounts
from .plan import Plan


def _node_order(label: NodeLabel) -> int:
    """Models first, so that a crash leaves components with their model already present."""
    return 0 if label is NodeLabel.MODEL else 1


Statement = tuple[str, Callable[[], Iterator[dict[str, Any]]], int]


def plan_statements(plan: Plan) -> list[Statement]:
    """Each MERGE statement of the plan, with its rows (read back from the plan as they are
    sent) and how many there are, in the order they are written: nodes (models first)
    before the relationships between them."""
    statements: list[Statement] = []
    for label in sorted(plan.node_labels(), key=_node_order):
        for update in (True, False):
            if count := plan.count_node_rows(label, update=update):
                statements.append((cypher.merge_nodes(label, update=update),
                                   partial(plan.node_rows, label, update=update), count))
    for group in plan.rel_groups():
        statements.append((cypher.merge_relationships(*group), partial(plan.rel_rows, group),
                           plan.count_rel_rows(group)))
    return statements


def write_plan(store: GraphStore, plan: Plan, *, progress: Progress | None = None,
               batch_size: int = DEFAULT_BATCH_SIZE) -> WriteCounts:
    store.prepare_for_writes()
    total = WriteCounts()
    for statement, rows, count in plan_statements(plan):
        counts = store.write_rows(statement, rows(), batch_size=batch_size, progress=progress)
        if statement.endswith(cypher.MATCHED) and counts.matched != count:
            raise StoreError(f"{count - counts.matched} of {count} relationships found "
                             "no node at one end and were not written; the store changed under "
                             "this write (run it again)")
        total += counts
    store.persist()
    return total
