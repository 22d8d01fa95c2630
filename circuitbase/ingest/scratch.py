"""The plan's scratch space: records waiting, checked against each other, in SQLite.

The records wait in a scratch SQLite file (deleted when the plan is closed),
not in memory: reading and checking is a first pass over the input, writing a
second pass over the plan, so an ingest's memory does not grow with its files.
A model's whole set of components (`ModelComponents`) is the exception: its shape
defines them, so the plan keeps the one record and the writer makes their rows.
Two records that disagree (same key, other values) are refused as they are added.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from ..schema.graph import NodeLabel, RelType
from ..schema.nodes import ModelComponents
from ..schema.packing import pack
from ..schema.records import NodeRecord, RecordError, RelRecord
from ..schema.uids import ComponentUid
from .evidence_index import with_evidence_index

Record = NodeRecord | RelRecord | ModelComponents


class StoredGraph(Protocol):
    """What a plan is checked against: the store it will be written to."""

    def models(self, names: Sequence[str] | None = None) -> list[dict[str, Any]]: ...

    def existing_keys(self, label: NodeLabel, keys: Iterable[str]) -> set[str]: ...

    def node_properties(self, label: NodeLabel, keys: Iterable[str]) -> dict[str, dict]: ...

    def values_of(self, label: NodeLabel, prop: str) -> list[str]: ...

    def fact_properties(self, group: RelGroup, rows: list[Row]) -> list[dict | None]: ...


class NothingStored:
    """A new, empty database (one the offline importer fills): no model, no node."""

    def models(self, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        return []

    def existing_keys(self, label: NodeLabel, keys: Iterable[str]) -> set[str]:
        return set()

    def node_properties(self, label: NodeLabel, keys: Iterable[str]) -> dict[str, dict]:
        return {}

    def values_of(self, label: NodeLabel, prop: str) -> list[str]:
        return []

    def fact_properties(self, group: RelGroup, rows: list[Row]) -> list[dict | None]:
        return [None] * len(rows)


@dataclass(frozen=True)
class PlanRules:
    """What the user allowed this input beyond an ordinary ingest's rules."""

    # an import: it may add nodes, not change a stored one (a file must not rewrite a
    # stored analysis's citation)
    additive: bool = False
    # head roles the user says are new although one edit from a known role (`--new-role`)
    new_roles: frozenset[str] = frozenset()


ORDINARY = PlanRules()  # an ingest with nothing allowed beyond the rules

RelGroup = tuple[RelType, NodeLabel, NodeLabel]
Row = dict[str, Any]

_SCHEMA = """
CREATE TABLE nodes (label TEXT NOT NULL, key TEXT NOT NULL, props TEXT NOT NULL,
                    create_only TEXT NOT NULL, origin TEXT, clash TEXT, clash_origin TEXT,
                    clash_file TEXT, PRIMARY KEY (label, key));
CREATE TABLE rels (type TEXT NOT NULL, start_label TEXT NOT NULL, start_key TEXT NOT NULL,
                   end_label TEXT NOT NULL, end_key TEXT NOT NULL, identity BLOB NOT NULL,
                   props TEXT NOT NULL, analysis TEXT, origin TEXT, clash TEXT,
                   clash_origin TEXT, clash_file TEXT,
                   PRIMARY KEY (type, identity, start_label, end_label));
CREATE INDEX node_clashes ON nodes (label) WHERE clash IS NOT NULL;
CREATE INDEX rel_clashes ON rels (type) WHERE clash IS NOT NULL;
CREATE TABLE new_analyses (key TEXT PRIMARY KEY);
"""
CHUNK = 2_000  # rows read back from the scratch file, or added to it, at a time

# Records are added a batch at a time (`add_all`, `add_files`: a batch gathers records of
# as many files as it takes), in one statement per batch that keeps the first of each key
# and marks the kept row where a later one has other values (its `clash` columns, which a
# partial index finds at once); the marks are then read and cleared (set-based: one
# statement per batch instead of one or two per record; a batch per small file was a
# fifth of reading 2,048 N2G files; a staging table and a join per batch, half of what
# this process spent with the rows read in workers).
_ADD_NODES = (
    "INSERT INTO nodes (label, key, props, create_only, origin) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (label, key) DO UPDATE SET clash = excluded.props, "
    "clash_origin = excluded.origin, clash_file = ? WHERE nodes.props != excluded.props"
)
_NODE_CLASHES = (
    "SELECT label, key, clash, clash_origin, props, origin, clash_file FROM nodes "
    "WHERE clash IS NOT NULL"
)
_ADD_RELS = (
    "INSERT INTO rels (type, start_label, start_key, end_label, end_key, identity, props, "
    "analysis, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (type, identity, start_label, end_label) DO UPDATE SET clash = "
    "excluded.props, clash_origin = excluded.origin, clash_file = ? "
    "WHERE rels.props != excluded.props"
)
_REL_CLASHES = (
    "SELECT type, start_key || ' -> ' || end_key, clash, clash_origin, props, origin, "
    "clash_file FROM rels WHERE clash IS NOT NULL"
)


# Rows are kept canonical (keys sorted, so equal values are equal texts or bytes), by
# msgspec, compiled, a tenth of the standard library's time on a small row (most of N2G's
# 180,000 records a 2,048-graph ingest plans are small rows): nodes' properties as JSON
# (the plan's checks read some with SQLite's JSON functions), relationships' as MessagePack
# (an example's packed lists are text: JSON escaped their quotes and marks once more, 2.5
# KB of a release feature's plan; and they cross from the workers, `ingest.workers`).
_CANONICAL = msgspec.json.Encoder(order="sorted")
_ASCII = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
_BINARY = msgspec.msgpack.Encoder(order="sorted")
_json_decode = msgspec.json.decode
_binary_decode = msgspec.msgpack.decode


def decoded(value: str | bytes) -> Any:
    """The values of a row's properties as the plan keeps them (`_json`, `_binary`)."""
    return _binary_decode(value) if isinstance(value, bytes) else _json_decode(value)


def _binary(value: Any) -> bytes | str:
    """Canonical MessagePack of a checked record's values (`_json` for a value MessagePack
    cannot hold: an integer past 64 bits, text that is not Unicode; the same value always
    the same way)."""
    try:
        return _BINARY.encode(value)
    except (TypeError, ValueError, OverflowError):
        return _json(value)


def _json(value: Any) -> str:
    """Canonical JSON of a checked record's values (the standard library's, escaped to
    ASCII, for a value msgspec cannot write: the same value always the same way)."""
    if isinstance(value, dict) and not value:  # most relationships and create-only props
        return "{}"
    try:
        return _CANONICAL.encode(value).decode()
    except (TypeError, ValueError, OverflowError):  # UnicodeEncodeError is a ValueError
        return _ASCII.encode(value)


class Plan:
    """Deduplicated records, grouped the way the writer batches them, kept in a scratch
    SQLite file. Use as a context manager (or call `close`) to delete the file."""

    def __init__(self) -> None:
        # "": a private temporary file, deleted on close. The writer reads it back from the
        # thread that makes its next batch (store.ahead) while this one waits on the server.
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._component_sets: dict[str, ModelComponents] = {}
        self._covered = 0  # components of a set that the input also gives properties of
        self._nodes: list[tuple] = []  # rows gathered for the next batch (`_gather`)
        self._rels: list[tuple] = []

    def close(self) -> None:
        self._db.close()

    def scratch_bytes(self) -> int:
        """How large the scratch file is now (what planning takes of the disk)."""
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        return int(pages * self._db.execute("PRAGMA page_size").fetchone()[0])

    def __enter__(self) -> Plan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- adding --------------------------------------------------------------------------

    def add_all(self, records: Iterable[Record]) -> None:
        with self._db:  # one transaction: a row at a time would sync the file each time
            self._gather(record_rows(records, None))
            self._flush()

    def add_files(self, files: Iterable[tuple[str, Iterable[Rows]]]) -> list[RecordError]:
        """The rows of each (file, its `record_rows`), in batches that span files; every
        file that cannot be read is reported (one error each, naming the file), not only
        the first. A record that disagrees with an earlier one is reported with its own
        file."""
        errors = []
        with self._db:
            for file, rows in files:
                try:
                    self._gather(rows)
                except RecordError as err:
                    errors.append(err.located(file=file))
            try:
                self._flush()
            except RecordError as err:
                errors.append(err)
        return errors

    def _gather(self, chunks: Iterable[Rows]) -> None:
        """Add rows (`record_rows`) to the next batch, adding the batch once it is full."""
        for chunk in chunks:
            for components in chunk.components:
                self.add_components(components)
            self._nodes += chunk.nodes
            self._rels += chunk.rels
            if len(self._nodes) >= CHUNK or len(self._rels) >= CHUNK:
                self._flush()

    def _flush(self) -> None:
        """Add the gathered rows (nodes first: a batch's relationships may end at them)."""
        nodes, rels = self._nodes, self._rels
        self._nodes, self._rels = [], []
        self._add_node_rows(nodes)
        self._add_rel_rows(rels)

    def add_components(self, record: ModelComponents) -> None:
        """A model's node (with the next batch) and its components of some kinds (kinds
        given twice merge). A reader may give the same set with every record (a feature
        export's rows do): the same model again adds no row."""
        known = self._component_sets.get(record.spec.name)
        if known is None or known.spec != record.spec:
            model = record.spec.record()
            self._nodes.append(
                (*_node_row(model if record.origin is None else model.at(record.origin)), None)
            )
        kinds = record.kinds | known.kinds if known else record.kinds
        self._component_sets[record.spec.name] = ModelComponents(record.spec, kinds, record.origin)

    def component_sets(self) -> list[ModelComponents]:
        return [self._component_sets[name] for name in sorted(self._component_sets)]

    def _covering_set(self, uid: ComponentUid) -> ModelComponents | None:
        """The component set `uid` belongs to, if the plan has one."""
        found = self._component_sets.get(uid.model)
        return found if found is not None and uid.kind in found.kinds else None

    def add_node(self, record: NodeRecord) -> None:
        self._add_node_rows([(*_node_row(record), None)])

    def _add_node_rows(self, rows: list[tuple]) -> None:
        """Add node rows (`_node_row`), each checked against the one first given its key."""
        if rows:
            self._db.executemany(_ADD_NODES, rows)
            self._check_clashes(_NODE_CLASHES, "nodes", lambda label, key: f"{label} {key!r}")

    def _check_clashes(self, query: str, table: str, describe: Callable[[str, str], str]) -> None:
        """Refuse the first row a batch gave with a key kept with other values (a clash
        of text alone, the same values written otherwise, is none); the marks cleared."""
        clashes = self._db.execute(query).fetchall()
        if not clashes:
            return
        self._db.execute(
            f"UPDATE {table} SET clash = NULL, clash_origin = NULL, clash_file = NULL "
            "WHERE clash IS NOT NULL"
        )
        for first, second, props, origin, kept, kept_origin, file in clashes:
            if decoded(kept) != decoded(props):
                raise conflict(
                    describe(first, second), decoded(kept), kept_origin, decoded(props), origin
                ).located(file=file)

    def replace_node(self, record: NodeRecord) -> None:
        self._put_node(record, _json(record.props))

    def _drop_node(self, label: NodeLabel, key: str) -> None:
        self._db.execute("DELETE FROM nodes WHERE label = ? AND key = ?", (label.value, key))

    def _put_node(self, record: NodeRecord, props: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO nodes (label, key, props, create_only, origin) "
            "VALUES (?, ?, ?, ?, ?)",
            (record.label.value, record.key, props, _json(record.create_only), record.origin),
        )

    def add_rel(self, record: RelRecord) -> None:
        self._add_rel_rows([(*_rel_row(record), None)])

    def _add_rel_rows(self, rows: list[tuple]) -> None:
        """Add relationship rows (`_rel_row`), each checked against the one first given its
        identity."""
        if rows:
            self._db.executemany(_ADD_RELS, rows)
            self._check_clashes(_REL_CLASHES, "rels", lambda type_, ends: f"{type_} {ends}")

    # -- reading back ----------------------------------------------------------------------

    @property
    def node_count(self) -> int:
        in_sets = sum(map(len, self._component_sets.values())) - self._covered
        return self._db.execute("SELECT count(*) FROM nodes").fetchone()[0] + in_sets

    @property
    def rel_count(self) -> int:  # each component of a set has its IN_MODEL edge
        in_sets = sum(map(len, self._component_sets.values()))
        return self._db.execute("SELECT count(*) FROM rels").fetchone()[0] + in_sets

    def node(self, label: NodeLabel, key: str) -> NodeRecord | None:
        row = self._db.execute(
            "SELECT label, key, props, create_only, origin FROM nodes WHERE label = ? AND key = ?",
            (label.value, key),
        ).fetchone()
        return _node_record(row) if row else None

    def nodes_of(self, label: NodeLabel) -> Iterator[NodeRecord]:
        yield from map(
            _node_record,
            self.select(
                "SELECT label, key, props, create_only, origin FROM nodes WHERE label = ? "
                "ORDER BY rowid",
                (label.value,),
            ),
        )

    @property
    def scratch(self) -> sqlite3.Connection:
        """The plan's scratch database, for a reader that keeps its own table beside the
        plan's (a bulk load numbers the nodes there)."""
        return self._db

    def whole_nodes(self) -> Iterator[tuple[NodeLabel, str, dict[str, Any], dict[str, Any]]]:
        """(label, key, properties, create-only properties) of every node the plan's table
        holds (not the components of its sets), label by label."""
        for label, key, props, create in self.select(
            "SELECT label, key, props, create_only FROM nodes ORDER BY label, rowid"
        ):
            yield NodeLabel(label), key, decoded(props), decoded(create)

    def node_labels(self) -> list[NodeLabel]:
        return [
            NodeLabel(name)
            for (name,) in self._db.execute("SELECT DISTINCT label FROM nodes ORDER BY label")
        ]

    def node_rows(self, label: NodeLabel, *, update: bool) -> Iterator[Row]:
        """The writer's rows for nodes of `label` that set properties (`update`) or only
        create the node."""
        sql = (
            "SELECT key, props, create_only FROM nodes WHERE label = ? AND "
            f"props {'!=' if update else '='} '{{}}' ORDER BY rowid"
        )
        for key, props, create in self.select(sql, (label.value,)):
            yield {"key": key, "props": decoded(props), "create": decoded(create)}

    def count_node_rows(self, label: NodeLabel, *, update: bool) -> int:
        return self._db.execute(
            f"SELECT count(*) FROM nodes WHERE label = ? AND "
            f"props {'!=' if update else '='} '{{}}'",
            (label.value,),
        ).fetchone()[0]

    def rel_groups(self) -> list[RelGroup]:
        return [
            (RelType(t), NodeLabel(s), NodeLabel(e))
            for t, s, e in self._db.execute(
                "SELECT DISTINCT type, start_label, end_label FROM rels ORDER BY type, start_label, "
                "end_label"
            )
        ]

    def rel_rows(self, group: RelGroup, *, new: bool | None = None) -> Iterator[Row]:
        """The group's rows; `new`: only the facts of analyses new to the store (True),
        or only the others (False)."""
        for start, end, props in self.select(
            "SELECT start_key, end_key, props FROM rels WHERE type = ? AND start_label = ? "
            f"AND end_label = ?{_OF_NEW[new]} ORDER BY rowid",
            tuple(part.value for part in group),
        ):
            yield {"start": start, "end": end, "props": decoded(props)}

    def count_rel_rows(self, group: RelGroup, *, new: bool | None = None) -> int:
        return self._db.execute(
            "SELECT count(*) FROM rels WHERE type = ? AND start_label = ? AND end_label = ?"
            + _OF_NEW[new],
            tuple(p.value for p in group),
        ).fetchone()[0]

    def mark_new_analyses(self, store: StoredGraph) -> None:
        """Note the analyses the facts cite that the store does not hold yet: no fact of
        theirs can be stored, so the writer creates their facts instead of merging them
        (a MERGE between two nodes walks every relationship already between them: Neo4j
        took quadratic time over 10,000 examples of one feature)."""
        cited = [
            key
            for (key,) in self.select(
                "SELECT DISTINCT analysis FROM rels WHERE analysis IS NOT NULL"
            )
        ]
        for at in range(0, len(cited), CHUNK):
            chunk = cited[at : at + CHUNK]
            stored = store.existing_keys(NodeLabel.ANALYSIS, chunk)
            with self._db:
                self._db.executemany(
                    "INSERT OR IGNORE INTO new_analyses VALUES (?)",
                    [(key,) for key in chunk if key not in stored],
                )

    def similarity_pairs(self) -> set[tuple[str, str]]:
        """The pairs of models the plan's SIMILAR_TO rows join (a component uid starts with
        its model)."""
        return set(
            self._db.execute(
                "SELECT DISTINCT substr(start_key, 1, instr(start_key, '/') - 1), "
                "substr(end_key, 1, instr(end_key, '/') - 1) FROM rels WHERE type = ?",
                (RelType.SIMILAR_TO.value,),
            )
        )

    def list_lengths(self, label: NodeLabel, field: str) -> dict[int, str]:
        """How long the list `field` of the plan's `label` nodes is: each length found,
        with where one node of that length came from."""
        query = (
            "SELECT json_array_length(props, ?), min(origin) FROM nodes WHERE label = ? "
            "AND json_type(props, ?) = 'array' GROUP BY 1"
        )
        path = f"$.{field}"
        rows = self._db.execute(query, (path, NodeLabel(label).value, path)).fetchall()
        return {int(n): origin or "" for n, origin in rows}

    def holds(self, type_: RelType) -> bool:
        """Whether the plan has a relationship of this type."""
        query = "SELECT 1 FROM rels WHERE type = ? LIMIT 1"
        return self._db.execute(query, (RelType(type_).value,)).fetchone() is not None

    def has_fact(self, type_: RelType, start: str, end: str, key_values: Iterable[Any]) -> bool:
        """Whether the plan holds the relationship with this identity (see `fact_identity`)."""
        return (
            self._db.execute(
                "SELECT 1 FROM rels WHERE type = ? AND identity = ?",
                (type_.value, fact_identity(start, end, key_values)),
            ).fetchone()
            is not None
        )

    def select(self, sql: str, params: tuple = ()) -> Iterator[tuple]:
        """Rows of a query, read CHUNK at a time: on its own cursor, so the plan can be
        added to while it is read."""
        cursor = self._db.execute(sql, params)
        while chunk := cursor.fetchmany(CHUNK):
            yield from chunk


# rows of a group: all, those of analyses new to the store, the others
_OF_NEW = {
    None: "",
    True: " AND analysis IN (SELECT key FROM new_analyses)",
    False: " AND (analysis IS NULL OR analysis NOT IN (SELECT key FROM new_analyses))",
}


def fact_identity(start: str, end: str, key_values: Iterable[Any]) -> bytes:
    """What makes two relationships of one type the same: their ends and identity values,
    as a 16-byte hash of their canonical JSON (the plan only ever compares identities; the
    text itself, ends and analysis repeated, was a tenth of a feature's scratch)."""
    return hashlib.blake2b(_json([start, end, *key_values]).encode(), digest_size=16).digest()


@dataclass
class Rows:
    """Records as the plan's rows, each ending with the file it came from: all the work
    of adding a record that needs no other record (`record_rows`)."""

    nodes: list[tuple] = field(default_factory=list)
    rels: list[tuple] = field(default_factory=list)
    components: list[ModelComponents] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.nodes) + len(self.rels) + len(self.components)


def record_rows(records: Iterable[Record], file: str | None) -> Iterator[Rows]:
    """`records` (of `file`) as the plan's rows, CHUNK at a time, with the index each
    evidence fact and explanation implies (`evidence_index`), so that it can be done
    where the file is read (`ingest.workers`)."""
    rows = Rows()
    for record in with_evidence_index(records):
        if isinstance(record, NodeRecord):
            rows.nodes.append((*_node_row(record), file))
        elif isinstance(record, RelRecord):
            rows.rels.append((*_rel_row(record), file))
        else:
            rows.components.append(record)
        if len(rows) == CHUNK:
            yield rows
            rows = Rows()
    if rows:
        yield rows


def records_in(record: Record) -> int:
    """How many records one stands for: a model's component set, one per component."""
    return len(record) if isinstance(record, ModelComponents) else 1


def _node_row(record: NodeRecord) -> tuple:
    return (
        record.label.value,
        record.key,
        _json(record.props),
        _json(record.create_only),
        record.origin,
    )


def _rel_row(record: RelRecord) -> tuple:
    try:
        key_values = record.identity()[3:]
        props = pack(record.props) if record.type.spec.packed else record.props
    except RecordError as err:
        raise err.located(record=record.origin) from None
    analysis = record.props.get("analysis")
    return (
        record.type.value,
        record.start.label.value,
        record.start.key,
        record.end.label.value,
        record.end.key,
        fact_identity(record.start.key, record.end.key, key_values),
        _binary(props),
        analysis if isinstance(analysis, str) else None,
        record.origin,
    )


def _node_record(row: tuple) -> NodeRecord:
    label, key, props, create, origin = row
    return NodeRecord(NodeLabel(label), key, decoded(props), decoded(create), origin)


def conflict(
    what: str, first: dict, first_origin: str | None, second: dict, second_origin: str | None
) -> RecordError:
    fields_ = sorted(k for k in set(first) | set(second) if first.get(k) != second.get(k))
    return RecordError(
        f"duplicate {what} with different values ({first_origin or 'earlier record'}: "
        f"{ {k: first.get(k) for k in fields_} }, {second_origin or 'this record'}: "
        f"{ {k: second.get(k) for k in fields_} })",
        record=second_origin,
        field=fields_[0] if fields_ else None,
    )
