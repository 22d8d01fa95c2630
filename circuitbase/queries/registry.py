"""The registry of Cypher query templates: one `.cypher` file each, with a header.

A template's header is a block of `//` comment lines at the top:

    // name: concept_neurons
    // description: The neurons that encode a concept in each model, best probe first.
    // param: concept: str
    // param: min_score: float = 0.0
    // returns: model, neuron, layer, k, f1, analysis
    // example: circuitbase query run concept_neurons --param concept=fr

A `// choose: a, b` line names parameters of which exactly one must be given (a role or
a metric).

A parameter may say what its value names, after `|`: `names: Concept` (a stored node's
key; `names: Model.family` another property), `starts: Analysis` (the start of one), or
`one of: f1, mcc` (a fixed set). Parameters named `model` or `model_<x>` name a Model.
A value the store lacks is then an error naming the nearest values it has, not an empty
answer.

Parameters are type-checked and converted before the query runs, so a missing
or mistyped parameter is a clear error rather than an empty result; templates
always run through the store's read-only path, so a template cannot write.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import TemplateError
from ..schema.aliases import canonical_model
from ..schema.graph import COMPONENT_LABEL, NodeLabel
from ..schema.sizes import model_size
from ..store.base import GraphStore, Row

PARAM_TYPES = ("str", "int", "float", "bool", "list[str]", "list[int]", "list[float]")
_HEADER = re.compile(r"^//\s*(?P<key>[a-z]+):\s*(?P<value>.*)$")
_PARAM = re.compile(
    r"^(?P<name>[a-z_][a-z0-9_]*):\s*(?P<type>[a-z\[\]]+)(?:\s*=\s*(?P<default>[^|]+))?"
    r"(?P<meaning>(?:\s*\|\s*(?:names|starts|one of):[^|]+)*)$"
)
_MEANING = re.compile(r"\|\s*(?P<kind>names|starts|one of):\s*(?P<what>[^|]+)")


# `names: Analysis.profile_metrics`: a per-head metric a stored analysis measured
HEAD_METRIC = (NodeLabel.ANALYSIS.value, "profile_metrics")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any = None
    required: bool = True
    names: tuple[str, str | None] | None = None  # (label, property; None: its key)
    prefix: bool = False  # the value is the start of what `names` names
    choices: tuple[str, ...] = ()

    def check(self, store: GraphStore, value: Any) -> Any:
        """`value` as the store names it (a component by any of its names becomes its
        uid); a value the store (or the fixed set) lacks is an error with near matches."""
        from . import names as lookup

        if self.names is not None and self.names[0] == COMPONENT_LABEL:
            named = [
                str(lookup.checked_component(store, item)) if isinstance(item, str) else item
                for item in (value if isinstance(value, list) else [value])
            ]
            return named if isinstance(value, list) else named[0]
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str):
                continue
            what = self.name
            if item in self.choices:
                continue
            if self.choices and self.names is None:
                lookup.checked_choice(item, self.choices, what)
            elif self.names is None:
                continue
            elif self.names[0] == NodeLabel.MODEL.value and self.names[1] is None:
                lookup.checked_model(store, item)
            elif self.names == HEAD_METRIC:  # a list on each analysis: one of its items
                lookup.checked_metric(store, item)
            else:
                lookup.checked_value(
                    store,
                    NodeLabel(self.names[0]),
                    self.names[1],
                    item,
                    what,
                    prefix=self.prefix,
                    also=self.choices,
                )
        return value

    def convert(self, value: Any) -> Any:
        """Accept a typed value, or the text a user typed on the command line."""
        try:
            return _convert(self.type, value)
        except (TypeError, ValueError) as err:
            raise TemplateError(
                f"parameter {self.name!r} must be {self.type}, got {value!r} ({err})"
            ) from None


def _convert(type_: str, value: Any) -> Any:
    if type_.startswith("list["):
        inner = type_[5:-1]
        if isinstance(value, str):
            value = (
                json.loads(value)
                if value.strip().startswith("[")
                else [v.strip() for v in value.split(",") if v.strip()]
            )
        if not isinstance(value, (list, tuple)):
            raise TypeError("not a list")
        return [_convert(inner, item) for item in value]
    if type_ == "str":
        if not isinstance(value, str):
            raise TypeError("not text")
        return value
    if type_ == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise TypeError("not true or false")
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, str) and not value.isascii():
        # Python reads `٣` as 3: a number here is written with ASCII digits only
        raise TypeError("a number is written with ASCII digits")
    if type_ == "int":
        if isinstance(value, float) and not value.is_integer():
            raise TypeError("not a whole number")
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    cypher: str
    params: tuple[Param, ...] = ()
    returns: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    path: str = ""
    shipped: bool = False  # one of circuitbase's own; a user's is checked as typed Cypher is
    # `// choose: role, metric`: parameters of which exactly one is given
    choose: tuple[str, ...] = ()

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            raise TemplateError(
                f"{self.name} has no parameter {', '.join(map(repr, unknown))}; "
                f"it takes {', '.join(sorted(known)) or 'none'}"
            )
        bound = {}
        for param in self.params:
            if given.get(param.name) is not None:
                bound[param.name] = param.convert(given[param.name])
                if param.name == "model" or param.name.startswith("model_"):
                    bound[param.name] = canonical_model(bound[param.name])  # any of its names
            elif param.required:
                raise TemplateError(f"{self.name} needs parameter {param.name!r} ({param.type})")
            else:
                bound[param.name] = param.default
        if self.choose and sum(bound.get(name) is not None for name in self.choose) != 1:
            raise TemplateError(
                f"{self.name} takes exactly one of "
                + " or ".join(f"--param {name}=..." for name in self.choose)
            )
        return bound

    def run(
        self,
        store: GraphStore,
        *,
        timeout: float | None = None,
        max_rows: int | None = None,
        max_bytes: int | None = None,
        **params: Any,
    ) -> list[Row]:
        """Run read-only; a template from a user's folder is checked as typed text is.
        Each value that names something is looked up first (see the module's docstring)."""
        bound = self.bind(params)
        for param in self.params:
            if bound.get(param.name) is not None and params.get(param.name) is not None:
                bound[param.name] = param.check(store, bound[param.name])
        rows = store.read(
            self.cypher,
            bound,
            timeout=timeout,
            untrusted=not self.shipped,
            max_rows=max_rows,
            max_bytes=max_bytes,
        )
        order_lists(store, rows)
        return rows


def order_lists(store: GraphStore, rows: list[Row]) -> None:
    """Lists in rows in one documented order, whatever order a backend collected them in
    (`collect()` follows storage order, which differs between two stores of one graph):
    lists of models from the smallest (then by name), other lists of values sorted. Lists
    that hold lists or maps are left as the template built them."""
    listed = [
        (row, name)
        for row in rows
        for name, value in row.items()
        if isinstance(value, list) and value and all(_scalar(item) for item in value)
    ]
    if not listed:
        return
    models = {model["uid"]: model for model in store.models()}
    for row, name in listed:
        values = row[name]
        if all(isinstance(item, str) and item in models for item in values):
            row[name] = sorted(values, key=lambda uid: (model_size(uid, models[uid]), uid))
        else:
            row[name] = sorted(values, key=lambda item: (type(item).__name__, item))


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def parse_template(text: str, path: str = "") -> Template:
    header: dict[str, list[str]] = {}
    body: list[str] = []
    for line in text.splitlines():
        found = _HEADER.match(line.strip()) if not body else None
        if found:
            header.setdefault(found["key"], []).append(found["value"].strip())
        elif line.strip() or body:
            body.append(line)
    if "name" not in header or "description" not in header:
        raise TemplateError(f"{path}: a template needs '// name:' and '// description:' lines")
    return Template(
        name=header["name"][0],
        description=" ".join(header["description"]),
        cypher="\n".join(body).strip(),
        path=path,
        params=tuple(_parse_param(p, path) for p in header.get("param", [])),
        returns=tuple(c.strip() for line in header.get("returns", []) for c in line.split(",")),
        examples=tuple(header.get("example", [])),
        choose=tuple(c.strip() for line in header.get("choose", []) for c in line.split(",")),
    )


def _parse_param(text: str, path: str) -> Param:
    found = _PARAM.match(text)
    if not found or found["type"] not in PARAM_TYPES:
        raise TemplateError(
            f"{path}: bad param line {text!r}; expected 'name: type [= default] "
            f"[| names: Label]' with a type in {', '.join(PARAM_TYPES)}"
        )
    meaning = _meaning(found, text, path)
    if found["default"] is None:
        return Param(found["name"], found["type"], **meaning)
    raw = found["default"].strip()
    try:
        default = (
            None
            if raw == "null"
            else _convert(found["type"], json.loads(raw) if raw[:1] in '["' else raw)
        )
    except (TypeError, ValueError) as err:
        raise TemplateError(
            f"{path}: the default {raw!r} of parameter {found['name']!r} is not "
            f"a {found['type']} ({err})"
        ) from None
    return Param(found["name"], found["type"], default, required=False, **meaning)


def _meaning(found: re.Match[str], text: str, path: str) -> dict[str, Any]:
    """What a parameter's value names (`| names: Label[.property]`, `| starts: ...`,
    `| one of: a, b`; with both a set and `names`, either will do); a parameter named
    model or model_<x> names a Model."""
    meaning: dict[str, Any] = {}
    for clause in _MEANING.finditer(found["meaning"] or ""):
        kind, what = clause["kind"], clause["what"].strip()
        if kind == "one of":
            meaning["choices"] = tuple(c.strip() for c in what.split(",") if c.strip())
            continue
        label, _, prop = what.partition(".")
        if label != COMPONENT_LABEL and label not in {item.value for item in NodeLabel}:
            raise TemplateError(f"{path}: {text!r} names {label!r}, which is no node label")
        if prop and not (prop.isascii() and prop.isidentifier()):
            raise TemplateError(f"{path}: {text!r}: {prop!r} is no property name")
        meaning |= {"names": (label, prop or None), "prefix": kind == "starts"}
    name = found["name"]
    if not meaning and (name == "model" or name.startswith("model_")):
        meaning["names"] = (NodeLabel.MODEL.value, None)
    return meaning


@cache
def builtin_templates() -> dict[str, Template]:
    folder = resources.files(__package__)
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".cypher"):
            template = parse_template(entry.read_text(), entry.name)
            found[template.name] = replace(template, shipped=True)
    return found


def load_templates(extra_dir: Path | None = None) -> dict[str, Template]:
    """The shipped templates, plus any `.cypher` files in `extra_dir` (which win on name)."""
    templates = dict(builtin_templates())
    if extra_dir is not None:
        for path in sorted(Path(extra_dir).glob("*.cypher")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise TemplateError(f"{path}: cannot read the template ({err})") from None
            template = parse_template(text, str(path))
            templates[template.name] = template
    return templates


def get_template(name: str, extra_dir: Path | None = None) -> Template:
    templates = load_templates(extra_dir)
    if name not in templates:
        from .names import near_matches

        near = near_matches(name, templates)
        raise TemplateError(
            f"no query template {name!r}; "
            + (f"did you mean {', '.join(near)}? " if near else "")
            + f"`circuitbase query list` shows all {len(templates)}"
        )
    return templates[name]


def run_template(
    store: GraphStore,
    name: str,
    params: dict[str, Any] | None = None,
    extra_dir: Path | None = None,
    *,
    timeout: float | None = None,
) -> list[Row]:
    return get_template(name, extra_dir).run(store, timeout=timeout, **(params or {}))
