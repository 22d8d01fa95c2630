"""Turn records into a write plan, checking everything before the first write.

FalkorDB has no multi-statement transaction, so all-or-nothing means: find
every problem first. The plan rejects records that disagree with each other,
components outside their model, unknown models, and relationships whose ends
exist neither in the input nor in the store. It also adds what the records
imply: the node and `IN_MODEL` edge of every component they mention, and a
model's node when the model is one of the shipped known models.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..schema.aliases import near_matches
from ..schema.catalog import known_model
from ..schema.graph import COMPONENT_LABELS, NodeLabel, RelType
from ..schema.nodes import Component, ModelSpec
from ..schema.records import NodeRecord, RecordError, RelRecord, ref, rel
from ..schema.uids import UidError, parse_component
from ..store.base import GraphStore

Record = NodeRecord | RelRecord
RelGroup = tuple[RelType, NodeLabel, NodeLabel]


@dataclass
class Plan:
    """Deduplicated records, grouped the way the writer batches them."""

    nodes: dict[NodeLabel, dict[str, NodeRecord]] = field(default_factory=lambda: defaultdict(dict))
    rels: dict[RelGroup, dict[tuple[Any, ...], RelRecord]] = field(
        default_factory=lambda: defaultdict(dict))

    @property
    def node_count(self) -> int:
        return sum(len(group) for group in self.nodes.values())

    @property
    def rel_count(self) -> int:
        return sum(len(group) for group in self.rels.values())

    def add_node(self, record: NodeRecord) -> None:
        existing = self.nodes[record.label].get(record.key)
        if existing is None:
            self.nodes[record.label][record.key] = record
        elif existing.props != record.props:
            raise _conflict(f"{record.label.value} {record.key!r}", existing, record)

    def add_rel(self, record: RelRecord) -> None:
        try:
            identity = record.identity()
        except RecordError as err:
            raise err.located(record=record.origin) from None
        group = self.rels[(record.type, record.start.label, record.end.label)]
        existing = group.get(identity)
        if existing is None:
            group[identity] = record
        elif existing.props != record.props:
            raise _conflict(f"{record.type.value} {record.start.key} -> {record.end.key}",
                            existing, record)


def _conflict(what: str, first: Record, second: Record) -> RecordError:
    fields_ = sorted(k for k in set(first.props) | set(second.props)
                     if first.props.get(k) != second.props.get(k))
    return RecordError(
        f"duplicate {what} with different values ({first.origin or 'earlier record'}: "
        f"{ {k: first.props.get(k) for k in fields_} }, {second.origin or 'this record'}: "
        f"{ {k: second.props.get(k) for k in fields_} })",
        record=second.origin, field=fields_[0] if fields_ else None)


def make_plan(records: Iterable[Record], store: GraphStore) -> Plan:
    """Validate `records` against each other and the store; raise RecordError on the first problem."""
    plan = Plan()
    for record in records:
        if isinstance(record, NodeRecord):
            plan.add_node(record)
        else:
            plan.add_rel(record)
    _check_stored_models_keep_their_shape(plan, store)
    specs = _ModelSpecs(plan, store)
    _add_components(plan, specs)
    _check_ends_exist(plan, store)
    return plan


def _check_stored_models_keep_their_shape(plan: Plan, store: GraphStore) -> None:
    """A model's shape is what every stored component was checked against: a record may
    fill in what was stored as unknown, never change what is known."""
    given = plan.nodes.get(NodeLabel.MODEL, {})
    if not given:
        return
    for stored in store.models(sorted(given)):
        record = given[stored["uid"]]
        differs = {name: (stored[name], value) for name, value in record.props.items()
                   if stored.get(name) is not None and value is not None and stored[name] != value}
        if differs:
            listed = ", ".join(f"{name} {old!r} -> {new!r}" for name, (old, new) in sorted(differs.items()))
            raise RecordError(f"model {stored['uid']!r} is stored with another shape ({listed}); "
                              "a stored model's shape is not changed (remove the model first)",
                              record=record.origin, field=sorted(differs)[0])


class _ModelSpecs:
    """Model shapes from the input, else the store, else the shipped catalog."""

    def __init__(self, plan: Plan, store: GraphStore) -> None:
        self.plan, self.store = plan, store
        self.specs: dict[str, ModelSpec] = {}
        for record in plan.nodes.get(NodeLabel.MODEL, {}).values():
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

    def get(self, name: str, origin: str | None) -> ModelSpec:
        spec = self.specs.get(name)
        if spec is None:
            near = near_matches(name, [m["uid"] for m in self.store.models()])
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise RecordError(f"unknown model {name!r}{hint}: add it first with "
                              f"`circuitbase model add {name} --n-layers ... --d-model ...`",
                              record=origin, field="model")
        return spec


def _spec_from_props(name: str, props: dict[str, Any], origin: str | None) -> ModelSpec:
    try:
        return ModelSpec.model_validate({"name": name, **props})
    except ValueError as err:
        raise RecordError(f"model {name!r} is not a valid model config: {err}",
                          record=origin) from None


def _component_refs(plan: Plan) -> dict[str, tuple[NodeLabel, str | None]]:
    """Every component uid the plan mentions, with its label and where it was first seen."""
    found: dict[str, tuple[NodeLabel, str | None]] = {}
    for label in COMPONENT_LABELS:
        for record in plan.nodes.get(label, {}).values():
            found.setdefault(record.key, (label, record.origin))
    for group in plan.rels.values():
        for record in group.values():
            for end in (record.start, record.end):
                if end.label in COMPONENT_LABELS:
                    found.setdefault(end.key, (end.label, record.origin))
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
            raise RecordError(f"{uid!r} is not the canonical uid of a {label.value}",
                              record=origin, field="uid")
    specs.prefetch({p.model for p in parsed.values()})
    for uid, component_uid in parsed.items():
        label, origin = refs[uid]
        spec = specs.get(component_uid.model, origin)
        try:
            spec.check(component_uid)
        except UidError as err:
            raise RecordError(str(err), record=origin, field="uid") from None
        given = plan.nodes[label].get(uid)
        referred_only = given is None or not (given.props or given.create_only)
        if referred_only or not DERIVED_PROPS <= given.props.keys():  # `model add` gives all
            derived = Component.model_construct(uid=component_uid, spec=spec).record().props
            # A component only referred to (or named without properties, as `ingest vectors`
            # does to have it exist): its properties follow from its uid and model, so they
            # are set when it is created and left alone after. Setting them again on every
            # ingest touches nodes for nothing (and re-indexes any vectors on them).
            plan.nodes[label][uid] = (
                NodeRecord(label=label, key=uid, create_only=derived, origin=origin)
                if referred_only else
                NodeRecord(label=label, key=uid, origin=origin, props={**derived, **given.props},
                           create_only=given.create_only))
        plan.add_rel(rel(RelType.IN_MODEL, ref(label, uid), ref(NodeLabel.MODEL, spec.name)))


def _check_ends_exist(plan: Plan, store: GraphStore) -> None:
    """Relationship ends (other than components, which the plan creates) and the analyses
    that facts cite must be in the input or already in the store."""
    wanted: dict[NodeLabel, dict[str, str | None]] = defaultdict(dict)
    for group in plan.rels.values():
        for record in group.values():
            needed = [(end.label, end.key) for end in (record.start, record.end)
                      if end.label not in COMPONENT_LABELS]
            if "analysis" in record.props:  # provenance must point at a real analysis
                needed.append((NodeLabel.ANALYSIS, record.props["analysis"]))
            for label, key in needed:
                if key not in plan.nodes.get(label, {}):
                    wanted[label].setdefault(key, record.origin)
    for label, keys in wanted.items():
        missing = set(keys) - store.existing_keys(label, keys)
        for absent in sorted(missing):
            raise RecordError(f"{label.value} {absent!r} is neither in the input nor in the store",
                              record=keys[absent])
