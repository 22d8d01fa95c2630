"""Turn records into a write plan, checking everything before the first write.

FalkorDB has no multi-statement transaction, so all-or-nothing means: find
every problem first. The plan rejects records that disagree with each other,
components outside their model, unknown models, and relationships whose ends
exist neither in the input nor in the store (`plan_checks`). It also adds what
the records imply: the node and `IN_MODEL` edge of every component they mention,
a model's node when the model is one of the shipped known models, lineage and
checkpoint edges. The records wait in the scratch file of `scratch.Plan`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..schema.aliases import check_aliases_against, near_matches
from ..schema.catalog import known_model
from ..schema.checkpoints import is_checkpoint, split_checkpoint
from ..schema.dictionaries import dictionary_of
from ..schema.graph import COMPONENT_LABELS, NodeLabel, RelType
from ..schema.lineage import lineage
from ..schema.nodes import Component, ModelComponents, ModelSpec
from ..schema.records import NodeRecord, RecordError, ref, rel
from ..schema.uids import ComponentUid, UidError, parse_component
from .plan_checks import (
    check_analyses_come_with_their_facts,
    check_ends_exist,
    check_facts_cite_their_own_analysis,
    check_new_roles,
    check_stored_facts_unchanged,
    check_stored_models_keep_their_shape,
    check_stored_nodes_unchanged,
)
from .scratch import ORDINARY, Plan, PlanRules, Record, StoredGraph, conflict, record_rows


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
        with plan.scratch:  # one transaction for what the planner adds
            check_stored_models_keep_their_shape(plan, store)
            specs = _ModelSpecs(plan, store)
            _add_components(plan, specs)
            _add_lineage(plan, store)
            _add_checkpoints(plan, specs)
        check_facts_cite_their_own_analysis(plan)
        check_new_roles(plan, store, rules.new_roles)
        if rules.additive:
            check_analyses_come_with_their_facts(plan)
            check_stored_nodes_unchanged(plan, store)
            check_stored_facts_unchanged(plan, store)
        check_ends_exist(plan, store)
        plan.mark_new_analyses(store)
    except BaseException:
        plan.close()
        raise
    return plan


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
        for key, label, origin in plan.select(sql, labels):
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
        plan._gather(record_rows([edge], None))  # a statement per batch of edges, not each
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
        raise conflict(
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
