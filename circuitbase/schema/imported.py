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
from typing import Any

from pydantic import BaseModel, ValidationError

from .dictionaries import dictionary_uid
from .evidence import Explanation  # (and the evidence facts' models, for fact_model)
from .graph import COMPONENT_LABELS, NodeLabel, token_uid
from .nodes import Analysis, Concept, HeadRole, ModelSpec, NeuronFamily, Task, Token
from .records import FULL_KEY, NodeRecord, RecordError, RelRecord, record_error
from .relationships import fact_model
from .uids import UidError

_BY_NAME: dict[NodeLabel, type[BaseModel]] = {
    NodeLabel.CONCEPT: Concept,
    NodeLabel.HEAD_ROLE: HeadRole,
    NodeLabel.TASK: Task,
    NodeLabel.NEURON_FAMILY: NeuronFamily,
}


def _validated(model: type[BaseModel], data: dict[str, Any], origin: str | None) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise record_error(err, record=origin) from None


def _node(record: NodeRecord) -> NodeRecord:
    label, props, origin = record.label, dict(record.props), record.origin
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
        return record
    if label in _BY_NAME:
        return _validated(_BY_NAME[label], {"name": key, **props}, origin).record().at(origin)
    return record


def _relationship(record: RelRecord) -> RelRecord:
    if (model := fact_model(record.type)) is not None:
        fact = _validated(model, dict(record.props), record.origin)
        return fact.record(record.start, record.end).at(record.origin)
    if record.type.spec.bare and record.props:
        raise RecordError(
            f"a {record.type.value} relationship has no properties",
            record=record.origin,
            field=sorted(record.props)[0],
        )
    return record


def checked(records: list[NodeRecord | RelRecord]) -> list[NodeRecord | RelRecord]:
    """`records` as an adapter would have built them, or RecordError naming the first bad one."""
    return [_node(r) if isinstance(r, NodeRecord) else _relationship(r) for r in records]
