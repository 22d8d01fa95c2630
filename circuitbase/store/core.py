"""The store's core: the backend's `Driver` (`connection`) and its own work passed
through (read, the raw writes, indexes, persistence, bulk loading). The questions the
library asks are written above it, one module per concern (search.py, profiles.py,
removal.py, integrity.py, named.py), and `GraphStore` (base.py) is all of them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

from ..schema.graph import NODE_SPECS, NodeLabel
from . import cypher
from .driver import DEFAULT_BATCH_SIZE, Driver, LoadNode, LoadRel, Progress, Row, WriteCounts


class StoreCore:
    """A property graph reached by Cypher through a backend's `Driver`. Use as a context
    manager, or call close()."""

    @property
    def SHARED_LABELS(self) -> tuple[NodeLabel, ...]:  # noqa: N802  # read from the catalog
        """The labels a removal sweeps once nothing refers to them (the catalog's `shared`;
        read each time, so a label defined later counts)."""
        return tuple(label for label, spec in NODE_SPECS.items() if spec.shared)

    def __init__(self, connection: Driver) -> None:
        self.connection = connection
        self._schema_ready = False

    @property
    def backend(self) -> str:
        return self.connection.backend

    @property
    def location(self) -> str:
        return self.connection.location

    def read(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        untrusted: bool = False,
        max_rows: int | None = None,
        max_bytes: int | None = None,
    ) -> list[Row]:
        """Run a read-only query (see `Driver.read`: timeouts, caps, untrusted text)."""
        return self.connection.read(
            cypher,
            params,
            timeout=timeout,
            untrusted=untrusted,
            max_rows=max_rows,
            max_bytes=max_bytes,
        )

    # The raw writes are not the library's surface: everything goes in through the ingest
    # pipeline (ingest/writer.py sends its batches with `_write_rows`), and the store's own
    # changes (removal, summaries) are its methods.

    def _write(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteCounts:
        """Run one write query atomically."""
        return self.connection.write(cypher, params)

    def _write_rows(
        self,
        cypher: str,
        rows: Sequence[Row] | Iterable[Row],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Progress | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> WriteCounts:
        """Run `cypher` (which unwinds `$rows`) once per batch of rows, with `params`."""
        return self.connection.write_rows(
            cypher, rows, batch_size=batch_size, progress=progress, params=params
        )

    def set_vectors(
        self, label: NodeLabel, rows: Sequence[Row], progress: Progress | None = None
    ) -> WriteCounts:
        """Set `embedding` on existing nodes: rows of {"uid": ..., "vector": [floats]}."""
        return self.connection.set_vectors(label, rows, progress)

    def ensure_vector_index(self, label: NodeLabel, dimension: int) -> None:
        self.connection.ensure_vector_index(label, dimension)

    def vector_index_dimension(self, label: NodeLabel) -> int | None:
        return self.connection.vector_index_dimension(label)

    def check_vector_dimension(self, label: NodeLabel, dimension: int) -> bool:
        return self.connection.check_vector_dimension(label, dimension)

    def persist(self) -> None:
        """Make every write so far durable; the writer calls it before reporting success."""
        self.connection.persist()

    def ensure_schema(self) -> None:
        """Create the uniqueness constraints and indexes (idempotent)."""
        self.connection.ensure_schema()

    def clear(self) -> None:
        """Delete every node and relationship (tests and `init --reset`)."""
        self.connection.clear()

    def bulk_unavailable(self) -> str | None:
        """Why this store's backend cannot bulk-load it (None: it can, while empty)."""
        return self.connection.bulk_unavailable()

    def bulk_load(
        self,
        nodes: Iterable[LoadNode],
        rels: Iterable[LoadRel],
        *,
        counts: tuple[int, int],
        progress: Progress | None = None,
    ) -> WriteCounts:
        """Create `nodes` and `rels` in this empty store through the backend's bulk loader
        (`ingest.bulk` checks that it is empty and makes the indexes after)."""
        return self.connection.bulk_load(nodes, rels, counts=counts, progress=progress)

    def close(self, *, interrupted: bool = False) -> None:
        """Let go of the store; `interrupted`: after Ctrl-C, end what is still running."""
        self.connection.close(interrupted=interrupted)

    def is_empty(self) -> bool:
        """Whether the graph holds no node at all (a bulk load fills only such a store)."""
        return not self.read(cypher.ANY_NODE)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
