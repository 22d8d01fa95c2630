"""The records every adapter produces and the one writer consumes.

A record is a node or a relationship with its merge key and plain properties.
Properties are checked here once for every adapter: only strings, finite
numbers, booleans and homogeneous lists of them can be stored in both backends,
and NaN or infinity would silently poison every query that sorts or averages.
"""

from __future__ import annotations

import math
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .graph import NodeLabel, RelType, REL_KEY

Scalar = Union[str, bool, int, float]
PropertyValue = Union[Scalar, list[str], list[int], list[float], list[bool]]


class RecordError(ValueError):
    """A record that cannot be written; `where` names the file, record and field."""

    def __init__(self, message: str, *, file: str | None = None,
                 record: str | int | None = None, field: str | None = None) -> None:
        self.file, self.record, self.field, self.reason = file, record, field, message
        super().__init__(self.describe())

    def describe(self) -> str:
        place = [f"file {self.file}" if self.file else "",
                 f"record {self.record}" if self.record is not None else "",
                 f"field {self.field!r}" if self.field else ""]
        where = ", ".join(p for p in place if p)
        return f"{where}: {self.reason}" if where else self.reason

    def located(self, *, file: str | None = None, record: str | int | None = None,
                field: str | None = None) -> "RecordError":
        """The same error with the location filled in where it was still unknown."""
        return RecordError(self.reason, file=self.file or file,
                           record=self.record if self.record is not None else record,
                           field=self.field or field)


def check_property(name: str, value: Any) -> PropertyValue | None:
    """Return `value` if both backends can store it, else raise RecordError naming `name`."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RecordError(f"{value} is not a finite number", field=name)
        return value
    if isinstance(value, (list, tuple)):
        items = [check_property(name, item) for item in value]
        if any(item is None or isinstance(item, list) for item in items):
            raise RecordError("lists may hold only strings, numbers or booleans", field=name)
        if len({_kind(item) for item in items}) > 1:
            raise RecordError("a list property must hold values of one type", field=name)
        return items
    raise RecordError(f"a {type(value).__name__} cannot be stored as a property", field=name)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, (int, float)) else "str"


def _clean_props(props: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name, value in props.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise RecordError(f"property name {name!r} is not an identifier", field=str(name))
        value = check_property(name, value)
        if value is not None:
            cleaned[name] = value
    return cleaned


class NodeRef(BaseModel):
    """One end of a relationship: a label from the allow-list and the node's key."""

    model_config = ConfigDict(frozen=True)
    label: NodeLabel
    key: str


class NodeRecord(BaseModel):
    """A node; `create_only` props (e.g. when it was first seen) are set only when it is created."""

    model_config = ConfigDict(frozen=True)
    label: NodeLabel
    key: str
    props: dict[str, Any] = {}
    create_only: dict[str, Any] = {}
    origin: str | None = None  # where the record came from, for error messages; not stored

    @field_validator("key")
    @classmethod
    def _key_not_blank(cls, key: str) -> str:
        if not key:
            raise ValueError("a node key may not be empty")
        return key

    @field_validator("props", "create_only")
    @classmethod
    def _props_storable(cls, props: dict[str, Any]) -> dict[str, Any]:
        return _clean_props(props)

    @property
    def ref(self) -> NodeRef:
        return NodeRef(label=self.label, key=self.key)


class RelRecord(BaseModel):
    model_config = ConfigDict(frozen=True)
    type: RelType
    start: NodeRef
    end: NodeRef
    props: dict[str, Any] = {}
    origin: str | None = None  # where the record came from, for error messages; not stored

    @field_validator("props")
    @classmethod
    def _props_storable(cls, props: dict[str, Any]) -> dict[str, Any]:
        return _clean_props(props)

    def identity(self) -> tuple[Any, ...]:
        """What makes two records the same relationship (the MERGE pattern)."""
        missing = [k for k in REL_KEY[self.type] if k not in self.props]
        if missing:
            raise RecordError(f"{self.type.value} needs {', '.join(missing)}", field=missing[0])
        return (self.type, self.start, self.end) + tuple(self.props[k] for k in REL_KEY[self.type])


def record_error(err: ValidationError, **where: Any) -> RecordError:
    """The first problem pydantic found, as a RecordError naming its field."""
    first = err.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, RecordError):
        return cause.located(**where)
    field = ".".join(str(part) for part in first["loc"]) or None
    return RecordError(first["msg"], field=field).located(**where)


def node(label: NodeLabel, key: str, **props: Any) -> NodeRecord:
    try:
        return NodeRecord(label=label, key=key, props=props)
    except ValidationError as err:
        raise record_error(err) from None


def rel(type_: RelType, start: NodeRef, end: NodeRef, **props: Any) -> RelRecord:
    try:
        return RelRecord(type=type_, start=start, end=end, props=props)
    except ValidationError as err:
        raise record_error(err) from None


def ref(label: NodeLabel, key: str) -> NodeRef:
    return NodeRef(label=label, key=key)
