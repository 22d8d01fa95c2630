"""The one writer: a validated plan becomes batched `UNWIND $rows ... MERGE` queries.

One query per (label) for nodes and per (type, start label, end label) for
relationships, each sent in batches of rows, so a model's worth of components
is a handful of round trips. Every statement is a MERGE on the node key or on
the relationship's identity (its ends plus `analysis`, and `metric` for
similarity), so writing the same plan twice changes nothing, and a run that
died halfway is finished by running it again.
"""

from __future__ import annotations

from typing import Any

from ..schema.graph import NodeLabel
from ..schema.records import NodeRecord, RelRecord
from ..store import cypher
from ..store.base import DEFAULT_BATCH_SIZE, GraphStore, Progress, StoreError, WriteCounts
from .plan import Plan


def _node_row(record: NodeRecord) -> dict[str, Any]:
    return {"key": record.key, "props": record.props, "create": record.create_only}


def _rel_row(record: RelRecord) -> dict[str, Any]:
    return {"start": record.start.key, "end": record.end.key, "props": record.props}


def _node_order(label: NodeLabel) -> int:
    """Models first, so that a crash leaves components with their model already present."""
    return 0 if label is NodeLabel.MODEL else 1


def plan_statements(plan: Plan) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each MERGE statement of the plan with all its rows, in the order they are written:
    nodes (models first) before the relationships between them."""
    statements = []
    for label in sorted(plan.nodes, key=_node_order):
        for update in (True, False):
            rows = [_node_row(r) for r in plan.nodes[label].values() if bool(r.props) == update]
            if rows:
                statements.append((cypher.merge_nodes(label, update=update), rows))
    for (type_, start, end), group in plan.rels.items():
        statements.append((cypher.merge_relationships(type_, start, end),
                           [_rel_row(r) for r in group.values()]))
    return statements


def write_plan(store: GraphStore, plan: Plan, *, progress: Progress | None = None,
               batch_size: int = DEFAULT_BATCH_SIZE) -> WriteCounts:
    store.prepare_for_writes()
    total = WriteCounts()
    for statement, rows in plan_statements(plan):
        counts = store.write_rows(statement, rows, batch_size=batch_size, progress=progress)
        if statement.endswith(cypher.MATCHED) and counts.matched != len(rows):
            raise StoreError(f"{len(rows) - counts.matched} of {len(rows)} relationships found "
                             "no node at one end and were not written; the store changed under "
                             "this write (run it again)")
        total += counts
    store.persist()
    return total
