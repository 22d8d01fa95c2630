"""The checks a plan passes before anything is written: each raises the first
problem as a RecordError naming the record and field."""

from __future__ import annotations

from itertools import islice
from typing import Any

from ..schema.graph import COMPONENT_LABELS, NODE_KEY, NodeLabel
from ..schema.packing import unpack
from ..schema.records import NodeRecord, RecordError
from .scratch import CHUNK, Plan, StoredGraph


def check_stored_models_keep_their_shape(plan: Plan, store: StoredGraph) -> None:
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


_FOREIGN_ANALYSIS = f"""
    SELECT type, analysis, end_key, origin FROM rels
    WHERE end_label = '{NodeLabel.ANALYSIS.value}' AND analysis IS NOT NULL
      AND analysis != end_key
    LIMIT 1"""


def check_facts_cite_their_own_analysis(plan: Plan) -> None:
    """A fact that points at an analysis (evidence, an example, a measurement) is that
    analysis's: otherwise a row could file its facts under another analysis (the IOI
    circuit's), whose removal would then delete them. (Every other fact's analysis must
    be in the input or the store, `check_ends_exist`; sources set it themselves.)"""
    for type_, analysis, end_key, origin in plan.select(_FOREIGN_ANALYSIS):
        raise RecordError(
            f"a {type_} fact names Analysis {analysis!r}, but it belongs to {end_key!r}, "
            "the analysis it points at",
            record=origin,
            field="analysis",
        )


def check_new_roles(plan: Plan, store: StoredGraph, allowed: frozenset[str]) -> None:
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
                    iter(plan.select(_FIRST_MENTION, (NodeLabel.HEAD_ROLE.value, name))), (None,)
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


def check_stored_nodes_unchanged(plan: Plan, store: StoredGraph) -> None:
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


def check_stored_facts_unchanged(plan: Plan, store: StoredGraph) -> None:
    """An import never rewrites a stored fact either (the IOI circuit's scores): a
    relationship the store holds with the same ends and identity must say what it says."""
    for group in plan.rel_groups():
        type_ = group[0]
        if not type_.spec.identity:
            continue  # structural: no properties to differ
        rows = plan.rel_rows(group)
        while chunk := list(islice(rows, CHUNK)):  # a chunk at a time, as the plan reads
            for row, props in zip(chunk, store.fact_properties(group, chunk)):
                if props is not None and type_.spec.packed:
                    # lists compared as lists: packed (schema/packing.py), or stored as
                    # lists by a version before packing
                    props, row = unpack(props), {**row, "props": unpack(row["props"])}
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
    """Equal as stored: a list or a number may come back as another type of equal value,
    and a double as FalkorDB reads it back, to 15 significant digits (a value the store
    derives again on import, such as a feature's total logit weight, is summed to 17)."""
    if isinstance(stored, (list, tuple)) and isinstance(given, (list, tuple)):
        return len(stored) == len(given) and all(map(_same_value, stored, given))
    if isinstance(stored, bool) != isinstance(given, bool):
        return False
    if type(stored) is float and type(given) is float and stored != given:
        return f"{stored:.15g}" == f"{given:.15g}"
    return bool(stored == given)


_ANALYSIS_NOT_IN_INPUT = f"""
    SELECT type, analysis, origin FROM rels WHERE analysis IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM nodes WHERE label = '{NodeLabel.ANALYSIS.value}' AND key = rels.analysis)
    LIMIT 1"""


def check_analyses_come_with_their_facts(plan: Plan) -> None:
    """An import keeps a fact only with its Analysis in the same file (and, stored already,
    identical to the stored one): a file cannot add facts to a stored analysis it does not
    show (`export` writes each fact's analysis beside it)."""
    for type_, analysis, origin in plan.select(_ANALYSIS_NOT_IN_INPUT):
        raise RecordError(
            f"a {type_} fact names Analysis {analysis!r}, which this file does not hold: "
            "an import takes a fact only with its analysis (as `export` writes them)",
            record=origin,
            field="analysis",
        )


def check_ends_exist(plan: Plan, store: StoredGraph) -> None:
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
    for label, key, origin in plan.select(missing_sql, components):
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
