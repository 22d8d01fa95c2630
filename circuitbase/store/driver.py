"""The small interface each backend implements: a driver reads and writes Cypher, runs
transactions, makes the indexes it needs (its own DDL: constraints, full-text and vector
indexes), keeps writes durable, and is given its credentials. Everything the library
asks of the graph is written once above it, for both backends (`base.GraphStore`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from itertools import islice
from typing import Any

from ..errors import StoreError
from ..schema.graph import NODE_KEY, NODE_SPECS, NodeLabel, labels_of
from .ahead import MadeAhead

Row = dict[str, Any]
Progress = Callable[[int], None]

DEFAULT_BATCH_SIZE = 10_000


class ResultRows(list):
    """Rows of a capped read; `cut` says which cap stopped it (None: every row is here)."""

    cut: str | None = None


def capped(rows: Iterable[Row], max_rows: int | None, max_bytes: int | None) -> ResultRows:
    """The first rows of `rows` within `max_rows` rows and about `max_bytes` bytes (each
    row measured as the JSON it would print as); rows past a cap are never fetched from
    an iterator."""
    import json

    kept, size = ResultRows(), 0
    for row in rows:
        if max_rows is not None and len(kept) >= max_rows:
            kept.cut = f"{max_rows:,} rows"
            break
        if max_bytes is not None:
            size += len(json.dumps(row, default=str, ensure_ascii=False))
            if size > max_bytes:
                kept.cut = f"{max_bytes:,} bytes"
                break
        kept.append(row)
    return kept


@dataclass
class WriteCounts:
    """What a write changed, so callers (and tests) can tell a no-op re-ingest."""

    nodes_created: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0
    labels_added: int = 0
    matched: int = 0  # rows that found what they write to, where a statement returns it

    def __add__(self, other: WriteCounts) -> WriteCounts:
        return WriteCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def changed_anything(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name != "matched")


def batches(rows: Iterable[Row], size: int) -> Iterable[list[Row]]:
    """`rows` in lists of `size`; a consumer that drops each list before asking for the
    next holds one batch at a time, however many rows there are."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk
        del chunk


def key_constraints() -> list[tuple[str, str]]:
    """(label, property) pairs that must be unique: every label's merge key.

    Components get a constraint on `:Component(uid)` as well as their own label,
    so that a relationship end given only as a component uid is found by index.
    """
    pairs = {(name, NODE_KEY[label]) for label in NodeLabel for name in labels_of(label)}
    return sorted(pairs)


def search_fields() -> dict[NodeLabel, tuple[str, ...]]:
    """What each label's full-text index covers (the catalog's `NodeSpec.search`), read
    each time: a label defined after import (a plug-in's) is indexed by the next `init`."""
    return {label: spec.search for label, spec in NODE_SPECS.items() if spec.search}


# Vector properties and indexes are where the two backends' Cypher differs most, so each
# driver writes and queries them itself. `label` is an allow-listed NodeLabel.
VECTOR_PROPERTY = "embedding"


@dataclass(frozen=True)
class LoadNode:
    """One node of a bulk load (`Driver.bulk_load`): its label (`Neuron`: its key is
    unique among that label's nodes), all its labels (`Component:Neuron`), its number in
    the load (0, 1, ... in the order given: relationships name their ends by it) and every
    property it has, its key included."""

    label: str
    labels: str
    number: int
    props: dict[str, Any]


@dataclass(frozen=True)
class LoadRel:
    """One relationship of a bulk load: its type, its ends by number and by (label, key)
    (a loader uses whichever it reads), and its properties."""

    type: str
    start: int
    end: int
    start_ref: tuple[str, str]
    end_ref: tuple[str, str]
    props: dict[str, Any]


class Driver(ABC):
    """One backend's connection to one graph. Use through `GraphStore`."""

    backend: str = ""
    location: str = ""

    @abstractmethod
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
        """Run a read-only query; a query that writes raises ReadOnlyViolation, one still
        running after `timeout` seconds is stopped (QueryTimeout). `untrusted` (text a
        person typed) is also checked for what read-only access lets through on a server
        (administration commands); `max_rows` / `max_bytes` cap the result (ResultRows)."""

    @abstractmethod
    def write(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteCounts:
        """Run one write query atomically."""

    def write_rows(
        self,
        cypher: str,
        rows: Sequence[Row] | Iterable[Row],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Progress | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> WriteCounts:
        """Run `cypher` (which unwinds `$rows`) once per batch of rows, with `params`.

        Each batch is made ready (its rows taken from `rows`, then `_prepare_write`) in a
        helper thread while the one before is written (`ahead.MadeAhead`): two batches
        in memory at a time, however many there are."""
        shared = dict(params or {})
        ready = (
            (len(chunk), self._prepare_write(cypher, {**shared, "rows": chunk}))
            for chunk in batches(rows, batch_size)
        )
        total = WriteCounts()
        with MadeAhead(ready) as prepared:
            for size, write in prepared:
                total += self._write_prepared(write)
                if progress:
                    progress(size)
        return total

    def _prepare_write(self, cypher: str, params: dict[str, Any]) -> Any:
        """A write as `_write_prepared` takes it; a backend that can encode its parameters
        before sending them does it here, in the thread that makes the next batch."""
        return cypher, params

    def _write_prepared(self, prepared: Any) -> WriteCounts:
        """Run a write made by `_prepare_write` atomically."""
        cypher, params = prepared
        return self.write(cypher, params)

    @abstractmethod
    def set_vectors(
        self, label: NodeLabel, rows: Sequence[Row], progress: Progress | None = None
    ) -> WriteCounts:
        """Set `embedding` on existing nodes: rows of {"uid": ..., "vector": [floats]}."""

    @abstractmethod
    def ensure_vector_index(self, label: NodeLabel, dimension: int) -> None:
        """A cosine vector index on `label.embedding` (idempotent); StoreError if one of
        another dimension exists."""

    @abstractmethod
    def vector_index_dimension(self, label: NodeLabel) -> int | None:
        """The dimension of the vector index on `label.embedding`, None if there is none."""

    def check_vector_dimension(self, label: NodeLabel, dimension: int) -> bool:
        """True if an index of `dimension` exists; StoreError if one of another does (its
        vectors could not be compared with these)."""
        existing = self.vector_index_dimension(label)
        if existing is not None and existing != int(dimension):
            raise StoreError(
                f"the stored {NodeLabel(label).value} vectors have dimension {existing}, "
                f"these have {int(dimension)}: vectors of one label share one index"
            )
        return existing is not None

    @abstractmethod
    def vector_query(self, label: NodeLabel, k: int) -> str:
        """The backend's nearest-neighbour call for `UNWIND $rows AS row` of uids, ending
        `WITH a, node, <cosine> AS cosine`."""

    @abstractmethod
    def fulltext(self, words: list[str], labels: Sequence[NodeLabel], limit: int) -> list[Row]:
        """Candidates from the backend's full-text index: rows {label, key, fields, score},
        `fields` the searchable values; a superset of the nodes whose fields hold a word
        starting with each of `words`."""

    def persist(self) -> None:  # noqa: B027 (a backend whose writes are durable at once keeps it)
        """Make every write so far durable; the writer calls it before reporting success."""

    def bulk_unavailable(self) -> str | None:
        """Why `bulk_load` cannot fill this store (None: it can, while the store is empty)."""
        return f"{self.backend} has no bulk loader circuitbase can reach over a connection"

    def bulk_load(
        self,
        nodes: Iterable[LoadNode],
        rels: Iterable[LoadRel],
        *,
        counts: tuple[int, int],
        progress: Progress | None = None,
    ) -> WriteCounts:
        """Create `nodes` then `rels` (`counts`: how many of each) in an empty store through
        the backend's bulk loader; the caller has checked that the store is empty and
        makes the indexes afterwards."""
        raise StoreError(self.bulk_unavailable() or "no bulk loader")

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create the uniqueness constraints and indexes (idempotent)."""

    @abstractmethod
    def clear(self) -> None:
        """Delete every node and relationship (tests and `init --reset`)."""

    @abstractmethod
    def close(self, *, interrupted: bool = False) -> None:
        """Let go of the store; `interrupted`: after Ctrl-C, end what is still running."""
