"""Records read back from an export (GraphML, a Cypher script) are rebuilt through the same
models an adapter uses, so an import can bring in only what an ingest could have.

A file is not trusted for what the graph derives: a component's model, layer, index,
name and relative depth follow from its uid and its model's shape; a token's key from
its text; an analysis's `created_at` from when it was first stored. Everything else is
validated (an analysis's kind, F1 in [0, 1], a rank >= 0, names of at most 200
characters, ...), and structural relationships carry no properties.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ValidationError

from . import nodes
from .checkpoints import split_checkpoint
from .dictionaries import dictionary_of, dictionary_uid, parse_neuronpedia_source
from .evidence import Explanation  # (and the evidence facts' models, for fact_model)
from .graph import COMPONENT_LABELS, NODE_SPECS, NodeLabel, RelType, is_derived_property, token_uid
from .lineage import lineage
from .nodes import Analysis, ModelSpec, Token
from .records import FULL_KEY, NodeRecord, RecordError, RelRecord, record_error
from .relationships import fact_model
from .uids import UidError, parse_component

TRAINING = ("step", "tokens")  # what CHECKPOINT_OF carries, its checkpoint's position


def _validated(model: type[BaseModel], data: dict[str, Any], origin: str | None) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise record_error(err, record=origin) from None


def _refuse_derived(what: str, origin: str | None, field: str) -> None:
    raise RecordError(
        f"{what} is derived by circuitbase itself (similarity summaries, N2G tries), never "
        "read from a file: an export leaves it out, and an import refuses it",
        record=origin,
        field=field,
    )


def _node(record: NodeRecord) -> NodeRecord:
    label, origin = record.label, record.origin
    if NODE_SPECS[label].made_by != "input":
        _refuse_derived(f"a {label.value} node", origin, "labels")
    props = {k: v for k, v in record.props.items() if not is_derived_property(k)}
    key = props.pop(FULL_KEY, record.key)  # validate the text, not the hash a long key became
    if label in COMPONENT_LABELS:
        return NodeRecord(label=label, key=key, origin=origin)  # the planner derives the rest
    if label is NodeLabel.MODEL:
        return _validated(ModelSpec, {"name": key, **props}, origin).record().at(origin)
    if label is NodeLabel.TOKEN:
        token = _validated(Token, {"text": props.get("text")}, origin)
        if token_uid(token.text) != key:
            raise RecordError(
                f"a token's uid is its JSON-quoted text, not {key!r}", record=origin, field="uid"
            )
        return token.record().at(origin)
    if label is NodeLabel.ANALYSIS:
        props.pop("created_at", None)  # when it was first stored, not what a file says
        if isinstance(props.get("params"), str):
            try:
                props["params"] = json.loads(props["params"])
            except json.JSONDecodeError:
                raise RecordError("params is not JSON", record=origin, field="params") from None
        analysis = _validated(
            Analysis, {"uid": key, "models": ["(from the file)"], **props}, origin
        )
        return analysis.record().at(origin)
    if label is NodeLabel.EXPLANATION:
        explanation = _validated(
            Explanation, {"component": props.get("component"), "text": props.get("text")}, origin
        )
        if explanation.uid != key:
            raise RecordError(
                f"an explanation's uid is the hash of its component and text, not {key!r}",
                record=origin,
                field="uid",
            )
        return explanation.record().at(origin)
    if label is NodeLabel.DICTIONARY:
        return _dictionary(key, props, origin)
    if (model := _checked_by(label)) is not None:
        return _validated(model, {"name": key, **props}, origin).record().at(origin)
    return NodeRecord(label, key, props, origin=origin)


def _checked_by(label: NodeLabel) -> type[BaseModel] | None:
    """The model the label's catalog entry names (a class, or a name in schema/nodes.py)."""
    model = label.spec.model
    return getattr(nodes, model) if isinstance(model, str) else model


def _dictionary(key: str, props: dict[str, Any], origin: str | None) -> NodeRecord:
    """A Dictionary as its uid's parts say (model, layer, set), its Neuronpedia name its own."""
    _check_neuronpedia_name(key, props, origin)
    try:
        # a missing or mistyped part is refused below, as the TypeError it raises
        derived = dictionary_uid(props.get("model"), props.get("layer"), props.get("set"))  # type: ignore[arg-type]
    except (UidError, TypeError) as err:
        raise RecordError(str(err), record=origin, field="set") from None
    if derived != key:
        raise RecordError(
            f"a dictionary's uid is {derived!r} (its model, layer and set), not {key!r}",
            record=origin,
            field="uid",
        )
    return NodeRecord(NodeLabel.DICTIONARY, key, props, origin=origin)


def _check_neuronpedia_name(uid: str, props: dict[str, Any], origin: str | None) -> None:
    """A dictionary's `neuronpedia` name is what Neuronpedia's feature names resolve by:
    it must name this dictionary's own layer and set (`gpt2-small/0-res-jb` for
    `gpt2-small/L0/res-jb`), so that no file can take over another dictionary's name."""
    name = props.get("neuronpedia")
    if name is None:
        return
    try:
        _, source = str(name).split("/")
        layer, set_name = parse_neuronpedia_source(source)
    except (ValueError, UidError):
        return  # a source without a layer (`e-att-sm`): no feature name resolves by it
    if not uid.endswith(f"/L{layer}/{set_name}"):
        raise RecordError(
            f"neuronpedia {name!r} names layer {layer} of set {set_name!r}, not the "
            f"dictionary {uid!r}",
            record=origin,
            field="neuronpedia",
        )


def _relationship(record: RelRecord) -> RelRecord | None:
    """The record as an adapter would have built it; None for one circuitbase derives from
    names (IN_MODEL, ...), once checked against that derivation: the planner writes its own."""
    made_by = record.type.spec.made_by
    if made_by == "circuitbase":
        _refuse_derived(f"a {record.type.value} relationship", record.origin, "type")
    if made_by == "names":
        _check_derived_from_names(record)
        return None
    if (model := fact_model(record.type)) is not None:
        props = {k: v for k, v in record.props.items() if not is_derived_property(k)}
        fact = _validated(model, props, record.origin)
        return fact.record(record.start, record.end).at(record.origin)
    if record.type.spec.bare:
        _refuse_properties(record)
    return record


def _refuse_properties(record: RelRecord) -> None:
    """A structural relationship carries no properties."""
    if record.props:
        raise RecordError(
            f"a {record.type.value} relationship has no properties",
            record=record.origin,
            field=sorted(record.props)[0],
        )


def _check_derived_from_names(record: RelRecord) -> None:
    """A structural relationship an export holds must be the one its ends' names imply."""
    start, end = record.start, record.end
    try:
        if record.type is RelType.FINE_TUNED_FROM:
            expected = start.label is end.label is NodeLabel.MODEL and (start.key, end.key) in set(
                lineage({start.key, end.key})
            )
        elif record.type is RelType.CHECKPOINT_OF:
            final, revision = split_checkpoint(start.key)
            expected = start.label is end.label is NodeLabel.MODEL and (
                revision is not None and final == end.key
            )
        elif start.label not in COMPONENT_LABELS:
            expected = False
        elif record.type is RelType.IN_MODEL:
            expected = end.label is NodeLabel.MODEL and parse_component(start.key).model == end.key
        else:  # IN_DICTIONARY
            implied = dictionary_of(parse_component(start.key))
            expected = end.label is NodeLabel.DICTIONARY and implied.key == end.key
    except UidError:
        expected = False
    if not expected:
        raise RecordError(
            f"{start.key!r} -[{record.type.value}]-> {end.key!r} is not what their names "
            "imply; circuitbase derives these relationships from uids and model names",
            record=record.origin,
            field="type",
        )
    if record.type is RelType.CHECKPOINT_OF:
        # its step and tokens are the checkpoint's (its Model node, checked against its
        # name); the planner writes them from there
        record = replace(record, props={k: v for k, v in record.props.items() if k not in TRAINING})
    _refuse_properties(record)


def checked(records: list[NodeRecord | RelRecord]) -> list[NodeRecord | RelRecord]:
    """`records` as an adapter would have built them, or RecordError naming the first bad
    one; relationships circuitbase derives from names are checked, then left out."""
    rebuilt = [_node(r) if isinstance(r, NodeRecord) else _relationship(r) for r in records]
    return [r for r in rebuilt if r is not None]
