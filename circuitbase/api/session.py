"""What every part of the knowledge base shares: the open store, whether it may be
changed, and how a change reports what it did."""

from __future__ import annotations

from ..errors import ReadOnlyViolation
from ..ingest import IngestResult
from ..store.base import GraphStore
from .results import Rows


class Session:
    """The store a `KnowledgeBase` holds; `read_only` refuses every change."""

    def __init__(self, store: GraphStore, *, read_only: bool = False) -> None:
        self._store = store
        self.read_only = read_only

    @property
    def location(self) -> str:
        return self._store.location

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyViolation("this store was opened read-only (cb.open(read_only=True))")


def written(what: str, result: IngestResult, **extra: object) -> Rows:
    """One row saying what an ingest checked and changed (the command line's summary)."""
    counts = result.counts
    return Rows(
        [
            {
                "what": what,
                **extra,
                "files": result.files,
                "nodes_checked": result.plan.node_count,
                "relationships_checked": result.plan.rel_count,
                "nodes_created": counts.nodes_created,
                "relationships_created": counts.relationships_created,
                "relationships_deleted": counts.relationships_deleted,
            }
        ],
        title=what,
    )
