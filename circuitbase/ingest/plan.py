"""Turn records into a write plan, checking everything before the first write.

FalkorDB has no multi-statement transaction, so all-or-nothing means: find
every problem first. The plan rejects records that disagree with each other,
components outside their model, unknown models, and relationships whose ends
exist neither in the input nor in the store. It also adds what the records
imply: the node and `IN_MODEL` edge of every component they mention, and a
model's node when the model is one of the shipped known models.

The records wait in a scratch SQLite file (deleted when the plan is closed),
not in memory: reading and checking is a first pass over the input, writing a
second pass over the plan, so an ingest's memory does not grow with its files.
A model's whole set of components (`ModelComponents`) is the exception: its shape
defines them, so the plan keeps the one record and the writer makes their rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

from ..schema.aliases import check_aliases_against, near_matches
from ..schema.catalog import known_model
from ..schema.checkpoints import is_checkpoint, split_checkpoint
from ..schema.dictionaries import dictionary_of
from ..schema.graph import COMPONENT_LABELS, NODE_KEY, NodeLabel, RelType
from ..schema.lineage import lineage
from ..schema.nodes import Component, ModelComponents, ModelSpec
from ..schema.records import NodeRecord, RecordError, RelRecord, ref, rel
from ..schema.uids import ComponentUid, UidError, parse_component

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
                    create_only TEXT NOT NULL, origin TEXT, PRIMARY KEY (label, key));
CREATE TABLE rels (type TEXT NOT NULL, start_label TEXT NOT NULL, start_key TEXT NOT NULL,
                   end_label TEXT NOT NULL, end_key TEXT NOT NULL, identity TEXT NOT NULL,
                   props TEXT NOT NULL, analysis TEXT, origin TEXT,
                   PRIMARY KEY (type, identity, start_label, end_label));
CREATE TABLE node_batch (seq INTEGER PRIMARY KEY, label TEXT, key TEXT, props TEXT,
                         create_only TEXT, origin TEXT, file TEXT);
CREATE TABLE rel_batch (seq INTEGER PRIMARY KEY, type TEXT, start_label TEXT, start_key TEXT,
                        end_label TEXT, end_key TEXT, identity TEXT, props TEXT, analysis TEXT,
                        origin TEXT, file TEXT);
CREATE TABLE new_analyses (key TEXT PRIMARY KEY);
"""
CHUNK = 2_000  # rows read back from the scratch file, or added to it, at a time

# Records are added a batch at a time (`add_all`, `add_files`: a batch gathers records of
# as many files as it takes): the batch goes into a staging table in one call, then into
# the plan in one statement that keeps the first of each key, and one join finds every
# record that disagrees with the one kept (set-based: a statement per batch instead of one
# or two per record; a batch per small file was a fifth of reading 2,048 N2G files).
_KEEP_NODES = (
    "INSERT OR IGNORE INTO nodes SELECT label, key, props, create_only, origin "
    "FROM node_batch ORDER BY seq"
)
_NODE_CONFLICTS = (
    "SELECT b.label, b.key, b.props, b.origin, n.props, n.origin, b.file FROM node_batch b "
    "JOIN nodes n ON n.label = b.label AND n.key = b.key WHERE n.props != b.props "
    "ORDER BY b.seq"
)
_KEEP_RELS = (
    "INSERT OR IGNORE INTO rels SELECT type, start_label, start_key, end_label, end_key, "
    "identity, props, analysis, origin FROM rel_batch ORDER BY seq"
)
_REL_CONFLICTS = (
    "SELECT b.type, b.start_key, b.end_key, b.props, b.origin, r.props, r.origin, b.file "
    "FROM rel_batch b JOIN rels r ON r.type = b.type AND r.identity = b.identity "
    "AND r.start_label = b.start_label AND r.end_label = b.end_label "
    "WHERE r.props != b.props ORDER BY b.seq"
)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))  # built once: json.dumps
# with options builds an encoder per call, a third of what encoding a small dict costs


def _json(value: Any) -> str:
    """Canonical JSON (ASCII, so any text SQLite can hold; sorted, so equal dicts match)."""
    if isinstance(value, dict) and not value:  # most relationships and create-only props
        return "{}"
    return _CANONICAL.encode(value)


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

    def __enter__(self) -> Plan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- adding --------------------------------------------------------------------------

    def add_all(self, records: Iterable[Record]) -> None:
        with self._db:  # one transaction: a row at a time would sync the file each time
            self._gather(records, None)
            self._flush()

    def add_files(
        self, readers: Iterable[tuple[str, Callable[[], Iterable[Record]]]]
    ) -> list[RecordError]:
        """The records of each (file, reader), in batches that span files; every file that
        cannot be read is reported (one error each, naming the file), not only the first.
        A record that disagrees with an earlier one is reported with its own file."""
        errors = []
        with self._db:
            for file, read in readers:
                try:
                    self._gather(read(), file)
                except RecordError as err:
                    errors.append(err.located(file=file))
            try:
                self._flush()
            except RecordError as err:
                errors.append(err)
        return errors

    def _gather(self, records: Iterable[Record], file: str | None) -> None:
        """Add `records`' rows to the next batch, adding the batch once it is full."""
        for record in records:
            if isinstance(record, NodeRecord):
                self._nodes.append((*_node_row(record), file))
                if len(self._nodes) == CHUNK:
                    self._flush()
            elif isinstance(record, RelRecord):
                self._rels.append((*_rel_row(record), file))
                if len(self._rels) == CHUNK:
                    self._flush()
            else:
                self.add_components(record)

    def _flush(self) -> None:
        """Add the gathered rows (nodes first: a batch's relationships may end at them)."""
        nodes, rels = self._nodes, self._rels
        self._nodes, self._rels = [], []
        self._add_node_rows(nodes)
        self._add_rel_rows(rels)

    def add_components(self, record: ModelComponents) -> None:
        """A model's node and its components of some kinds (kinds given twice merge)."""
        self.add_node(
            record.spec.record()
            if record.origin is None
            else record.spec.record().at(record.origin)
        )
        known = self._component_sets.get(record.spec.name)
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
        if not rows:
            return
        try:
            self._db.executemany(
                "INSERT INTO node_batch (label, key, props, create_only, origin, file) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute(_KEEP_NODES)
            for label, key, props, origin, kept, kept_origin, file in self._db.execute(
                _NODE_CONFLICTS
            ):
                if json.loads(kept) != json.loads(props):
                    raise _conflict(
                        f"{label} {key!r}", json.loads(kept), kept_origin, json.loads(props), origin
                    ).located(file=file)
        finally:
            self._db.execute("DELETE FROM node_batch")

    def replace_node(self, record: NodeRecord) -> None:
        self._put_node(record, _json(record.props))

    def _drop_node(self, label: NodeLabel, key: str) -> None:
        self._db.execute("DELETE FROM nodes WHERE label = ? AND key = ?", (label.value, key))

    def _put_node(self, record: NodeRecord, props: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?, ?)",
            (record.label.value, record.key, props, _json(record.create_only), record.origin),
        )

    def add_rel(self, record: RelRecord) -> None:
        self._add_rel_rows([(*_rel_row(record), None)])

    def _add_rel_rows(self, rows: list[tuple]) -> None:
        """Add relationship rows (`_rel_row`), each checked against the one first given its
        identity."""
        if not rows:
            return
        try:
            self._db.executemany(
                "INSERT INTO rel_batch (type, start_label, start_key, end_label, "
                "end_key, identity, props, analysis, origin, file) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute(_KEEP_RELS)
            for type_, start, end, props, origin, kept, kept_origin, file in self._db.execute(
                _REL_CONFLICTS
            ):
                if json.loads(kept) != json.loads(props):
                    raise _conflict(
                        f"{type_} {start} -> {end}",
                        json.loads(kept),
                        kept_origin,
                        json.loads(props),
                        origin,
                    ).located(file=file)
        finally:
            self._db.execute("DELETE FROM rel_batch")

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
            self._rows(
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
        for label, key, props, create in self._rows(
            "SELECT label, key, props, create_only FROM nodes ORDER BY label, rowid"
        ):
            yield NodeLabel(label), key, json.loads(props), json.loads(create)

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
        for key, props, create in self._rows(sql, (label.value,)):
            yield {"key": key, "props": json.loads(props), "create": json.loads(create)}

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
        for start, end, props in self._rows(
            "SELECT start_key, end_key, props FROM rels WHERE type = ? AND start_label = ? "
            f"AND end_label = ?{_OF_NEW[new]} ORDER BY rowid",
            tuple(part.value for part in group),
        ):
            yield {"start": start, "end": end, "props": json.loads(props)}

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
            for (key,) in self._rows(
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

    def has_fact(self, type_: RelType, start: str, end: str, key_values: Iterable[Any]) -> bool:
        """Whether the plan holds the relationship with this identity (see `fact_identity`)."""
        return (
            self._db.execute(
                "SELECT 1 FROM rels WHERE type = ? AND identity = ?",
                (type_.value, fact_identity(start, end, key_values)),
            ).fetchone()
            is not None
        )

    def _rows(self, sql: str, params: tuple = ()) -> Iterator[tuple]:
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


def fact_identity(start: str, end: str, key_values: Iterable[Any]) -> str:
    """What makes two relationships of one type the same: their ends and identity values."""
    return _json([start, end, *key_values])


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
        _json(record.props),
        analysis if isinstance(analysis, str) else None,
        record.origin,
    )


def _node_record(row: tuple) -> NodeRecord:
    label, key, props, create, origin = row
    return NodeRecord(NodeLabel(label), key, json.loads(props), json.loads(create), origin)


def _conflict(
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


def make_plan(
    records: Iterable[Record],
    store: StoredGraph,
    plan: Plan | None = None,
    rules: PlanRules = ORDINARY,
) -> Plan:
    """Validate `records` (added to `plan` if given) against each other and the store;
    raise RecordError on the first problem, closing the plan. `rules`: what the user
    allowed beyond that (an import, new head roles)."""
    plan = plan or Plan()
    try:
        check_aliases_against(row["uid"] for row in store.models())
        plan.add_all(records)
        with plan._db:
            _check_stored_models_keep_their_shape(plan, store)
            specs = _ModelSpecs(plan, store)
            _add_components(plan, specs)
            _add_lineage(plan, store)
            _add_checkpoints(plan, specs)
        _check_facts_cite_their_own_analysis(plan)
        _check_new_roles(plan, store, rules.new_roles)
        if rules.additive:
            _check_analyses_come_with_their_facts(plan)
            _check_stored_nodes_unchanged(plan, store)
            _check_stored_facts_unchanged(plan, store)
        _check_ends_exist(plan, store)
        plan.mark_new_analyses(store)
    except BaseException:
        plan.close()
        raise
    return plan


def _check_stored_models_keep_their_shape(plan: Plan, store: StoredGraph) -> None:
    """A model's shape is what every stored component was checked against: a record may
    fill in what was stored as unknown, never change what is known."""
    given = {record.key: record for record in plan.nodes_of(NodeLabel.MODEL)}
    if not given:
        return
    for stored in store.models(sorted(given)):
        record = given[stored["uid"]]
        differs = {
            name: (stored[name], value)
            for name, value in record.props.items()
            if stored.get(name) is not None and value is not None and stored[name] != value
        }
        if differs:
            listed = ", ".join(
                f"{name} {old!r} -> {new!r}" for name, (old, new) in sorted(differs.items())
            )
            raise RecordError(
                f"model {stored['uid']!r} is stored with another shape ({listed}); "
                "a stored model's shape is not changed (remove the model first)",
                record=record.origin,
                field=sorted(differs)[0],
            )


class _ModelSpecs:
    """Model shapes from the input, else the store, else the shipped catalog."""

    def __init__(self, plan: Plan, store: StoredGraph) -> None:
        self.plan, self.store = plan, store
        self.specs: dict[str, ModelSpec] = {}
        for record in plan.nodes_of(NodeLabel.MODEL):
            self.specs[record.key] = _spec_from_props(record.key, record.props, record.origin)

    def prefetch(self, names: set[str]) -> None:
        missing = sorted(names - set(self.specs))
        if not missing:
            return
        for stored in self.store.models(missing):
            props = {k: v for k, v in stored.items() if k != "uid"}
            self.specs[stored["uid"]] = _spec_from_props(stored["uid"], props, "the store")
        for name in missing:
            catalog = known_model(name)
            if name not in self.specs and catalog is not None:
                self.specs[name] = catalog
                self.plan.add_node(catalog.record())
        # a checkpoint of a stored model (or one of the input) that its revision places
        # in training: its final model's shape
        checkpoints = {
            name: split_checkpoint(name)
            for name in missing
            if name not in self.specs and is_checkpoint(name)
        }
        if unread := {final for final, _ in checkpoints.values()} - set(self.specs):
            self.prefetch(unread)
        for name, (final, revision) in checkpoints.items():
            if final not in self.specs or revision is None:
                continue
            try:
                spec = self.specs[final].at_checkpoint(revision)
            except ValueError:
                continue  # its step is not in its name: `get` says to add it first
            self.specs[name] = spec
            self.plan.add_node(spec.record())

    def stored(self, name: str) -> ModelSpec | None:
        """A model's shape from the input, the store or the catalog; None if unknown."""
        self.prefetch({name})
        return self.specs.get(name)

    def get(self, name: str, origin: str | None) -> ModelSpec:
        spec = self.specs.get(name)
        if spec is None:
            near = near_matches(name, [m["uid"] for m in self.store.models()])
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            final, revision = split_checkpoint(name)
            how = (
                "--step N --tokens T` (its revision does not say its step)"
                if revision is not None and final in self.specs
                else "--n-layers ... --d-model ...`"
            )
            raise RecordError(
                f"unknown model {name!r}{hint}: add it first with "
                f"`circuitbase model add {name} {how}",
                record=origin,
                field="model",
            )
        return spec


def _spec_from_props(name: str, props: dict[str, Any], origin: str | None) -> ModelSpec:
    try:
        return ModelSpec.model_validate({"name": name, **props})
    except ValueError as err:
        raise RecordError(
            f"model {name!r} is not a valid model config: {err}", record=origin
        ) from None


def _component_refs(plan: Plan) -> dict[str, tuple[NodeLabel, str | None]]:
    """Every component uid the plan mentions, with its label and where it was first seen
    (as many as the models have components at most, whatever the input's size)."""
    labels = tuple(label.value for label in COMPONENT_LABELS)
    marks = ", ".join("?" * len(labels))
    found: dict[str, tuple[NodeLabel, str | None]] = {}
    for sql in (
        f"SELECT key, label, origin FROM nodes WHERE label IN ({marks}) ORDER BY rowid",
        f"SELECT start_key, start_label, origin FROM rels WHERE start_label IN ({marks})",
        f"SELECT end_key, end_label, origin FROM rels WHERE end_label IN ({marks})",
    ):
        for key, label, origin in plan._rows(sql, labels):
            if key not in found:
                found[key] = (NodeLabel(label), origin)
    return found


# What a component's uid and model determine (checked above, so built without re-validating).
DERIVED_PROPS = frozenset({"model", "layer", "name", "relative_depth"})


def _add_components(plan: Plan, specs: _ModelSpecs) -> None:
    refs = _component_refs(plan)
    parsed = {}
    for uid, (label, origin) in refs.items():
        try:
            parsed[uid] = parse_component(uid)
        except UidError as err:
            raise RecordError(str(err), record=origin, field="uid") from None
        if parsed[uid].kind.value != label.value or str(parsed[uid]) != uid:
            raise RecordError(
                f"{uid!r} is not the canonical uid of a {label.value}", record=origin, field="uid"
            )
    specs.prefetch({p.model for p in parsed.values()})
    for uid, component_uid in parsed.items():
        label, origin = refs[uid]
        spec = specs.get(component_uid.model, origin)
        try:
            spec.check(component_uid)
        except UidError as err:
            raise RecordError(str(err), record=origin, field="uid") from None
        given = plan.node(label, uid)
        referred_only = given is None or not (given.props or given.create_only)
        if (whole := plan._covering_set(component_uid)) is not None:
            _keep_covered(plan, whole, component_uid, given, referred_only)
            continue
        if given is None or referred_only or not DERIVED_PROPS <= given.props.keys():
            # (`model add` gives all)
            derived = Component.model_construct(uid=component_uid, spec=spec).record().props
            # A component only referred to (or named without properties, as `ingest vectors`
            # does to have it exist): its properties follow from its uid and model, so they
            # are set when it is created and left alone after. Setting them again on every
            # ingest touches nodes for nothing (and re-indexes any vectors on them).
            plan.replace_node(
                NodeRecord(label=label, key=uid, create_only=derived, origin=origin)
                if given is None or referred_only
                else NodeRecord(
                    label=label,
                    key=uid,
                    origin=origin,
                    props={**derived, **given.props},
                    create_only=given.create_only,
                )
            )
        edge = rel(RelType.IN_MODEL, ref(label, uid), ref(NodeLabel.MODEL, spec.name))
        plan._gather([edge], None)  # a statement per batch of edges, not per component
        if component_uid.dictionary is not None:
            _add_dictionary(plan, component_uid, origin)
    plan._flush()


def _keep_covered(
    plan: Plan,
    whole: ModelComponents,
    uid: ComponentUid,
    given: NodeRecord | None,
    referred_only: bool,
) -> None:
    """A component the plan's set of its model's components writes anyway (with its
    IN_MODEL edge): its own row stays only for the properties the input gives it, which
    must agree with those its uid and model determine."""
    if given is None:
        return
    if referred_only:
        plan._drop_node(given.label, given.key)
        return
    derived = whole.derived_props(uid)
    if any(name in given.props and given.props[name] != derived[name] for name in DERIVED_PROPS):
        raise _conflict(
            f"{given.label.value} {given.key!r}",
            {name: derived[name] for name in DERIVED_PROPS},
            whole.origin or f"the components of {whole.spec.name}",
            {name: given.props.get(name, derived[name]) for name in DERIVED_PROPS},
            given.origin,
        )
    plan.replace_node(
        NodeRecord(
            label=given.label,
            key=given.key,
            origin=given.origin,
            props={**derived, **given.props},
            create_only=given.create_only,
        )
    )
    plan._covered += 1


def _add_dictionary(plan: Plan, feature: ComponentUid, origin: str | None) -> None:
    """A feature's dictionary (its uid's parts, set when the node is created, unless the
    input describes it) and the feature's IN_DICTIONARY edge."""
    implied = dictionary_of(feature)
    if plan.node(NodeLabel.DICTIONARY, implied.key) is None:
        plan.replace_node(
            NodeRecord(NodeLabel.DICTIONARY, implied.key, create_only=implied.props, origin=origin)
        )
    plan.add_rel(rel(RelType.IN_DICTIONARY, ref(NodeLabel.FEATURE, str(feature)), implied.ref))


def _add_lineage(plan: Plan, store: StoredGraph) -> None:
    """FINE_TUNED_FROM between a model of the input and its base (or its fine-tuned
    versions) by their names (`schema.lineage`), the other one in the input or the store:
    the pair is linked whichever of the two was ingested first."""
    given = {record.key for record in plan.nodes_of(NodeLabel.MODEL)}
    if not given:
        return
    known = given | {stored["uid"] for stored in store.models()}
    for tuned, base in lineage(known):
        if tuned in given or base in given:
            plan.add_rel(
                rel(
                    RelType.FINE_TUNED_FROM, ref(NodeLabel.MODEL, tuned), ref(NodeLabel.MODEL, base)
                )
            )


def _add_checkpoints(plan: Plan, specs: _ModelSpecs) -> None:
    """CHECKPOINT_OF {step, tokens} from each checkpoint of the input to its final model,
    which has the checkpoint's shape: from the input, the store or the catalog, else
    created with the checkpoint's shape (so that a run's checkpoints meet on one model)."""
    for record in list(plan.nodes_of(NodeLabel.MODEL)):
        final, revision = split_checkpoint(record.key)
        if revision is None:
            continue
        checkpoint = specs.get(record.key, record.origin)
        known = specs.stored(final)
        if known is None:
            known = checkpoint.final()
            specs.specs[final] = known
            plan.add_node(known.record())
        final_shape = known.shape()
        differs = [
            f"{name} {mine!r} (its final model: {theirs!r})"
            for name, mine in checkpoint.shape().items()
            if (theirs := final_shape[name]) is not None and mine is not None and mine != theirs
        ]
        if differs:
            raise RecordError(
                f"checkpoint {record.key!r} has {', '.join(differs)}: a checkpoint has the "
                "shape of its final model",
                record=record.origin,
                field=differs[0].split()[0],
            )
        position = {"step": checkpoint.step, "tokens": checkpoint.tokens}
        plan.add_rel(
            rel(
                RelType.CHECKPOINT_OF,
                ref(NodeLabel.MODEL, record.key),
                ref(NodeLabel.MODEL, final),
                origin=record.origin,
                **{k: v for k, v in position.items() if v is not None},
            )
        )


_FOREIGN_ANALYSIS = f"""
    SELECT type, analysis, end_key, origin FROM rels
    WHERE end_label = '{NodeLabel.ANALYSIS.value}' AND analysis IS NOT NULL
      AND analysis != end_key
    LIMIT 1"""


def _check_facts_cite_their_own_analysis(plan: Plan) -> None:
    """A fact that points at an analysis (evidence, an example, a measurement) is that
    analysis's: otherwise a row could file its facts under another analysis (the IOI
    circuit's), whose removal would then delete them. (Every other fact's analysis must
    be in the input or the store, `_check_ends_exist`; sources set it themselves.)"""
    for type_, analysis, end_key, origin in plan._rows(_FOREIGN_ANALYSIS):
        raise RecordError(
            f"a {type_} fact names Analysis {analysis!r}, but it belongs to {end_key!r}, "
            "the analysis it points at",
            record=origin,
            field="analysis",
        )


def _check_new_roles(plan: Plan, store: StoredGraph, allowed: frozenset[str]) -> None:
    """A head role is a small vocabulary: a new one within one edit of a known one
    (`inducton`) is a typo until the user says otherwise (`--new-role NAME`). Concepts
    are not checked: published tables name concepts one character apart (`upos_ADV`,
    `upos_ADJ`)."""
    given = {record.key: record.origin for record in plan.nodes_of(NodeLabel.HEAD_ROLE)}
    if not given:
        return
    stored = set(store.values_of(NodeLabel.HEAD_ROLE, NODE_KEY[NodeLabel.HEAD_ROLE]))
    known = stored | set(given)
    for name in sorted(set(given) - stored - allowed):
        near = sorted(other for other in known if other != name and _one_edit(name, other))
        if near:
            # where it was named: the role's record, or the first fact giving the role
            origin = (
                given[name]
                or next(
                    iter(plan._rows(_FIRST_MENTION, (NodeLabel.HEAD_ROLE.value, name))), (None,)
                )[0]
            )
            raise RecordError(
                f"head role {name!r} is one edit from the known role {near[0]!r}; if it is "
                f"a new role, say so with --new-role {name}",
                record=origin,
                field="role",
            )


_FIRST_MENTION = "SELECT origin FROM rels WHERE end_label = ? AND end_key = ? LIMIT 1"


def _one_edit(a: str, b: str) -> bool:
    """Whether `a` becomes `b` by one insertion, deletion or substitution (case aside)."""
    a, b = a.casefold(), b.casefold()
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), len(a))
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


def _check_stored_nodes_unchanged(plan: Plan, store: StoredGraph) -> None:
    """An import adds; it never rewrites what is stored. Every property a file gives a
    node the store has must be the stored value (a component's derived properties are
    the planner's, and equal by construction)."""
    for label in NodeLabel:
        if label in COMPONENT_LABELS:
            continue
        batch: list[NodeRecord] = []
        for record in plan.nodes_of(label):
            batch.append(record)
            if len(batch) >= CHUNK:
                _compare_stored(batch, store)
                batch = []
        _compare_stored(batch, store)


def _check_stored_facts_unchanged(plan: Plan, store: StoredGraph) -> None:
    """An import never rewrites a stored fact either (the IOI circuit's scores): a
    relationship the store holds with the same ends and identity must say what it says."""
    for group in plan.rel_groups():
        type_ = group[0]
        if not type_.spec.identity:
            continue  # structural: no properties to differ
        rows = plan.rel_rows(group)
        while chunk := list(islice(rows, CHUNK)):  # a chunk at a time, as the plan reads
            for row, props in zip(chunk, store.fact_properties(group, chunk)):
                if props is not None and (found := _difference(props, row["props"])):
                    name, was, value = found
                    raise RecordError(
                        f"the stored {type_.value} fact {row['start']!r} -> {row['end']!r} of "
                        f"{props.get('analysis')!r} has {was}, the file {value}: an import "
                        "adds, it never changes what is stored",
                        field=name,
                    )


def _compare_stored(records: list[NodeRecord], store: StoredGraph) -> None:
    if not records:
        return
    stored = store.node_properties(records[0].label, [r.key for r in records])
    for record in records:
        props = stored.get(record.key)
        if props is not None and (found := _difference(props, record.props)):
            name, was, value = found
            raise RecordError(
                f"the stored {record.label.value} {record.key!r} has {was}, the file "
                f"{value}: an import adds, it never changes what is stored",
                record=record.origin,
                field=name,
            )


def _difference(stored: dict[str, Any], given: dict[str, Any]) -> tuple[str, str, str] | None:
    """The first property (by name) `given` says otherwise than `stored`: its name, what
    the store has (`name = value`, or `no name`) and what was given, shortened."""
    for name, value in sorted(given.items()):
        if name in stored and _same_value(stored[name], value):
            continue
        was = f"{name} = {_short(stored[name])}" if name in stored else f"no {name}"
        return name, was, _short(value)
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _same_value(stored: Any, given: Any) -> bool:
    """Equal as stored: a list or a number may come back as another type of equal value."""
    if isinstance(stored, (list, tuple)) and isinstance(given, (list, tuple)):
        return len(stored) == len(given) and all(map(_same_value, stored, given))
    return bool(stored == given) and isinstance(stored, bool) == isinstance(given, bool)


_ANALYSIS_NOT_IN_INPUT = f"""
    SELECT type, analysis, origin FROM rels WHERE analysis IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM nodes WHERE label = '{NodeLabel.ANALYSIS.value}' AND key = rels.analysis)
    LIMIT 1"""


def _check_analyses_come_with_their_facts(plan: Plan) -> None:
    """An import keeps a fact only with its Analysis in the same file (and, stored already,
    identical to the stored one): a file cannot add facts to a stored analysis it does not
    show (`export` writes each fact's analysis beside it)."""
    for type_, analysis, origin in plan._rows(_ANALYSIS_NOT_IN_INPUT):
        raise RecordError(
            f"a {type_} fact names Analysis {analysis!r}, which this file does not hold: "
            "an import takes a fact only with its analysis (as `export` writes them)",
            record=origin,
            field="analysis",
        )


def _check_ends_exist(plan: Plan, store: StoredGraph) -> None:
    """Relationship ends (other than components, which the plan creates) and the analyses
    that facts cite must be in the input or already in the store."""
    components = tuple(label.value for label in COMPONENT_LABELS)
    marks = ", ".join("?" * len(components))
    missing_sql = f"""
        SELECT label, key, min(origin) FROM (
            SELECT start_label AS label, start_key AS key, origin FROM rels
            UNION ALL SELECT end_label, end_key, origin FROM rels
            UNION ALL SELECT '{NodeLabel.ANALYSIS.value}', analysis, origin FROM rels
                WHERE analysis IS NOT NULL
        ) AS ends
        WHERE label NOT IN ({marks})
          AND NOT EXISTS (SELECT 1 FROM nodes WHERE nodes.label = ends.label AND nodes.key = ends.key)
        GROUP BY label, key ORDER BY label, key"""
    chunk: dict[tuple[str, str], str | None] = {}
    for label, key, origin in plan._rows(missing_sql, components):
        chunk[(label, key)] = origin
        if len(chunk) >= CHUNK:
            _check_stored(chunk, store)
            chunk = {}
    _check_stored(chunk, store)


def _check_stored(wanted: dict[tuple[str, str], str | None], store: StoredGraph) -> None:
    by_label: dict[str, list[str]] = {}
    for label, key in wanted:
        by_label.setdefault(label, []).append(key)
    for label, keys in by_label.items():
        for absent in sorted(set(keys) - store.existing_keys(NodeLabel(label), keys)):
            raise RecordError(
                f"{label} {absent!r} is neither in the input nor in the store",
                record=wanted[(label, absent)],
            )
