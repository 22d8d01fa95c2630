"""The records every adapter produces and the one writer consumes.

A record is a node or a relationship with its merge key and plain properties.
Properties are checked here once for every adapter: only strings, finite
numbers, booleans and homogeneous lists of them can be stored in both backends,
and NaN or infinity would silently poison every query that sorts or averages.

Records are plain frozen dataclasses rather than pydantic models: a model's worth
of N2G graphs is a million of them, and these checks are all they need.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator

from ..errors import RecordError
from .graph import NODE_KEY, OPTIONAL_IDENTITY, NodeLabel, RelType

Scalar = str | bool | int | float
PropertyValue = Scalar | list[str] | list[int] | list[float] | list[bool]


# Properties that hold text as found (a token's text, an explanation, a citation): they
# may hold control characters, which are escaped wherever they are printed. Every other
# text is a name, key or label and may not (C0, DEL, C1), as it may not hold NUL.
FREE_TEXT_PROPERTIES = frozenset(
    {
        "text",
        "token",
        "full_key",
        "clerp",
        "label",
        "citation",
        "description",
        "params",
        "explanation",
        "prompt",
        "target",
        "tokens",
        "top_logits",
        "bottom_logits",
        "pos_str",
        "neg_str",
    }
)
MAX_NAME_CHARS = 200  # a property key, like any name
INT64 = (-(2**63), 2**63 - 1)
# FalkorDB answers a double with 15 significant digits (`%.15g`): one this large is
# stored, but read back it rounds past the largest double and comes back infinite.
LARGEST_READABLE_FLOAT = 1.797693134862315e308
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _has_surrogate(text: str) -> bool:
    """Whether `text` holds half a UTF-16 pair: the only text with no UTF-8 form (the
    codec's C loop is many times faster than a regular expression over a long text)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_text(text: str, field: str | None, *, free: bool = False) -> str:
    """`text` if a store can hold it as this kind of text: never NUL (both servers cut
    strings there) or half a UTF-16 pair (it has no UTF-8 form); in a name, no control
    character (a concept named with an escape sequence would rewrite the terminal that
    prints it, and two names that print alike would be two nodes)."""
    if text.isprintable():
        return text  # most text; a surrogate, NUL or control character is not printable
    if "\x00" in text:
        raise RecordError("text with a NUL character (\\x00) cannot be stored", field=field)
    if _has_surrogate(text):
        raise RecordError("text with a lone UTF-16 surrogate cannot be stored", field=field)
    if not free and (found := _CONTROL.search(text)):
        raise RecordError(
            f"a name cannot hold the control character U+{ord(found.group()):04X}", field=field
        )
    return text


class CheckedNames(BaseModel):
    """A pydantic model whose text fields and whole numbers are checked as they are read,
    so that a name holding a control character, or a number past 64 bits, is refused at
    its file's line, not when its record is built (or, for a number, by the scratch file
    it passes through): names may not hold one, free text (FREE_TEXT_PROPERTIES) may."""

    @field_validator("*", mode="after")
    @classmethod
    def _text_is_storable(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        if isinstance(value, list) and _whole_list(name, value) is not None:
            return value  # checked whole; else each item below, naming the one that fails
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                check_text(item, name, free=name in FREE_TEXT_PROPERTIES)
            elif isinstance(item, int) and not INT64[0] <= item <= INT64[1]:
                raise RecordError(f"{item} does not fit in 64 bits", field=name)
        return value


def check_property(name: str, value: Any) -> PropertyValue | None:
    """Return `value` if both backends can store it, else raise RecordError naming `name`."""
    if isinstance(value, str):
        return check_text(value, name, free=name in FREE_TEXT_PROPERTIES)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise RecordError(f"{value} does not fit in 64 bits", field=name)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RecordError(f"{value} is not a finite number", field=name)
        if abs(value) > LARGEST_READABLE_FLOAT:
            raise RecordError(
                f"{value!r} is too large to be read back from FalkorDB (at most "
                f"{LARGEST_READABLE_FLOAT:.15g} in magnitude)",
                field=name,
            )
        return value
    if isinstance(value, (list, tuple)):
        if (checked := _whole_list(name, value)) is not None:
            return checked
        items: list[Any] = [check_property(name, item) for item in value]
        if any(item is None or isinstance(item, list) for item in items):
            raise RecordError("lists may hold only strings, numbers or booleans", field=name)
        if len({_kind(item) for item in items}) > 1:
            raise RecordError("a list property must hold values of one type", field=name)
        if any(isinstance(item, float) for item in items):  # [0, 0.5]: Neo4j stores one type
            items = [float(item) for item in items]
        return items
    raise RecordError(f"a {type(value).__name__} cannot be stored as a property", field=name)


def _whole_list(name: str, value: list | tuple) -> list | None:
    """A list of one plain type checked whole, by C-level passes over it (an evidence
    record's logits, histograms and example tokens are lists of thousands of values,
    and a call per value was half of planning them); None where a value fails, or the
    list mixes types: the per-value path then names the problem."""
    types = set(map(type, value))
    if types == {float} or types == {int, float}:
        if int in types and not _ints_fit(v for v in value if type(v) is int):
            return None
        floats = [float(v) for v in value] if int in types else list(value)
        if all(map(math.isfinite, floats)) and max(map(abs, floats)) <= LARGEST_READABLE_FLOAT:
            return floats
        return None
    if types == {int}:
        return list(value) if _ints_fit(value) else None
    if types == {str}:
        return check_texts(value, name, free=name in FREE_TEXT_PROPERTIES)
    if types == {bool}:
        return list(value)
    return None


def check_texts(texts: list[str] | tuple[str, ...], field: str, *, free: bool) -> list | None:
    """`texts` as a list if every one is storable text (check_text's rules), checked in
    one pass over them joined; None if one is not (check each to name it)."""
    joined = "".join(texts)
    if joined.isprintable():
        return list(texts)  # a surrogate, NUL or control character is not printable
    if "\x00" in joined or _has_surrogate(joined) or (not free and _CONTROL.search(joined)):
        return None
    return list(texts)


def _ints_fit(values: Iterable[int]) -> bool:
    found = list(values)
    return not found or (min(found) >= INT64[0] and max(found) <= INT64[1])


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, (int, float)) else "str"


def _clean_props(props: dict[str, Any], origin: str | None = None) -> dict[str, Any]:
    if not props:  # most records have no create-only properties
        return {}
    cleaned: dict[str, Any] = {}
    try:
        for name, value in props.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise RecordError(f"property name {name!r} is not an identifier", field=str(name))
            if name.startswith("_"):
                raise RecordError(
                    f"property names starting with '_' are circuitbase's own bookkeeping, "
                    f"not {name!r}",
                    field=name,
                )
            if len(name) > MAX_NAME_CHARS:
                raise RecordError(
                    f"a property name is at most {MAX_NAME_CHARS} characters, "
                    f"this one {len(name):,}",
                    field=name[:40] + "...",
                )
            value = check_property(name, value)
            if value is not None:
                cleaned[name] = value
    except RecordError as err:
        raise err.located(record=origin) from None
    return cleaned


# Labels whose key is text as found (a token's quoted text), not a name.
_FREE_TEXT_KEYS = frozenset({NodeLabel.TOKEN})


def _check_key(key: Any, origin: str | None, label: NodeLabel | None = None) -> None:
    if not isinstance(key, str) or not key:
        raise RecordError(
            f"a node key must be non-empty text, got {key!r}", record=origin, field="key"
        )
    try:
        check_text(key, "key", free=label in _FREE_TEXT_KEYS)
    except RecordError as err:
        raise err.located(record=origin) from None


MAX_KEY_BYTES = 1024
FULL_KEY = "full_key"


def bounded_key(key: str) -> str:
    """`key`, or for one over MAX_KEY_BYTES a fixed-length hash of it: the servers' indexes
    do not find longer keys (FalkorDB's stops near 4 KB), so a MERGE on one would make a
    new node every time and relationships would miss it. The node keeps the full text
    in `full_key`."""
    encoded = key.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_KEY_BYTES:
        return key
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True, slots=True)
class NodeRef:
    """One end of a relationship: a label from the allow-list and the node's key."""

    label: NodeLabel
    key: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", NodeLabel(self.label))
        _check_key(self.key, None, self.label)
        object.__setattr__(self, "key", bounded_key(self.key))


def _located(record: Any, origin: str) -> Any:
    """A copy of a checked record with another `origin`, not checked again (`replace`
    would run every property's check a second time: a tenth of reading N2G graphs)."""
    copy = object.__new__(type(record))
    for name in record.__slots__:
        object.__setattr__(copy, name, getattr(record, name))
    object.__setattr__(copy, "origin", origin)
    return copy


def _check_not_rekeyed(record: NodeRecord) -> None:
    """A node's properties never restate its key otherwise: the writer sets them after it
    merges on the key, so a source field named `uid` would rename the node it is about."""
    name = NODE_KEY[record.label]
    for props in (record.props, record.create_only):
        if name in props and props[name] != record.key and props.get(FULL_KEY) != props[name]:
            raise RecordError(
                f"{name!r} is this {record.label.value}'s key ({record.key!r}); a property "
                f"of that name cannot say {props[name]!r}",
                record=record.origin,
                field=name,
            )


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A node; `create_only` props (e.g. when it was first seen) are set only when it is created."""

    label: NodeLabel
    key: str
    props: dict[str, Any] = field(default_factory=dict)
    create_only: dict[str, Any] = field(default_factory=dict)
    origin: str | None = None  # where the record came from, for error messages; not stored

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", NodeLabel(self.label))
        _check_key(self.key, self.origin, self.label)
        if (short := bounded_key(self.key)) != self.key:
            object.__setattr__(self, "props", {**self.props, FULL_KEY: self.key})
            object.__setattr__(self, "key", short)
        object.__setattr__(self, "props", _clean_props(self.props, self.origin))
        object.__setattr__(self, "create_only", _clean_props(self.create_only, self.origin))
        _check_not_rekeyed(self)

    @property
    def ref(self) -> NodeRef:
        return NodeRef(self.label, self.key)

    def at(self, origin: str) -> NodeRecord:
        """The same record, saying where it came from."""
        return _located(self, origin)


@dataclass(frozen=True, slots=True)
class RelRecord:
    type: RelType
    start: NodeRef
    end: NodeRef
    props: dict[str, Any] = field(default_factory=dict)
    origin: str | None = None  # where the record came from, for error messages; not stored

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", RelType(self.type))
        props = _clean_props(self.props, self.origin)
        # An identity value a record leaves out is '' (a MERGE cannot match null), set once
        # here so that writing, comparing and retracting facts all see the same identity.
        unset = {
            name: ""
            for name in self.type.spec.identity
            if name in OPTIONAL_IDENTITY and name not in props
        }
        object.__setattr__(self, "props", {**props, **unset} if unset else props)

    def at(self, origin: str) -> RelRecord:
        """The same record, saying where it came from."""
        return _located(self, origin)

    def identity(self) -> tuple[Any, ...]:
        """What makes two records the same relationship (the MERGE pattern)."""
        missing = [k for k in self.type.spec.identity if k not in self.props]
        if missing:
            raise RecordError(f"{self.type.value} needs {', '.join(missing)}", field=missing[0])
        return (self.type, self.start, self.end) + tuple(
            self.props[k] for k in self.type.spec.identity
        )


def record_error(err: ValidationError, **where: Any) -> RecordError:
    """The first problem pydantic found, as a RecordError naming its field."""
    first = err.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, RecordError):
        return cause.located(**where)
    loc = list(first["loc"])
    indices = [i for i, part in enumerate(loc) if isinstance(part, int)]
    if indices and where.get("record") in (None, "the file"):
        # ("heads", 0, "score") in a whole file is record heads[0], field score
        inside = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[: indices[-1] + 1]
        ).lstrip(".")
        where = {**where, "record": inside}
        loc = loc[indices[-1] + 1 :]
    field_name = ".".join(str(part) for part in loc) or None
    return RecordError(first["msg"], field=field_name).located(**where)


def node(label: NodeLabel, key: str, *, origin: str | None = None, **props: Any) -> NodeRecord:
    return NodeRecord(label, key, props, origin=origin)


def rel(
    type_: RelType, start: NodeRef, end: NodeRef, *, origin: str | None = None, **props: Any
) -> RelRecord:
    return RelRecord(type_, start, end, props, origin=origin)


def derived_rel(
    type_: RelType, start: NodeRef, end: NodeRef, origin: str | None, props: dict[str, Any]
) -> RelRecord:
    """A relationship circuitbase derives from a record already checked (the index of a
    feature's evidence: ingest/evidence_index.py), its `props` plain numbers and text
    taken from that record and its identity given: not checked a second time (checking
    the index's edges took longer than checking the facts they come from)."""
    record = object.__new__(RelRecord)
    for name, value in (
        ("type", type_),
        ("start", start),
        ("end", end),
        ("props", props),
        ("origin", origin),
    ):
        object.__setattr__(record, name, value)
    return record


def ref(label: NodeLabel, key: str) -> NodeRef:
    return NodeRef(label, key)
