"""Names a user types, checked against the store: a model, a component, a concept, a role,
a task, an analysis. A name the store lacks is one error naming the nearest names it has
(and the catalog's, for models), never an empty answer; a component uid names the bound it
broke.

Every command, option and template parameter that takes such a name checks it here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from ..errors import CircuitbaseError
from ..schema.aliases import canonical_model
from ..schema.graph import NODE_KEY, NodeLabel
from ..schema.uids import ComponentKind, ComponentUid, UidError, parse_component
from ..store.base import GraphStore, Row

NEAR = 4  # near matches named in an error
NEAR_CUTOFF = 0.6  # difflib's similarity a near match needs


class UnknownName(CircuitbaseError, LookupError):
    """A name the store does not hold, with the nearest ones it does."""


def near_matches(name: str, candidates: Iterable[str]) -> list[str]:
    """The names closest to `name`; a name equal but for case first."""
    pool = sorted(set(candidates))
    same_case = [c for c in pool if c.lower() == name.lower() and c != name]
    close = difflib.get_close_matches(name, pool, n=NEAR, cutoff=NEAR_CUTOFF)
    return list(dict.fromkeys(same_case + close))[:NEAR]


def unknown(what: str, name: str, candidates: Iterable[str], hint: str) -> UnknownName:
    """`no concept 'x' in the store; did you mean ...?` (or where to look, if none is near)."""
    near = near_matches(name, candidates)
    return UnknownName(f"no {what} {name!r} in the store" +
                       (f"; did you mean {', '.join(near)}?" if near else f" ({hint})"))


def stored_models(store: GraphStore) -> dict[str, Row]:
    """Every stored model's row by name: read once per question, used for its checks,
    depths and sizes."""
    return {row["uid"]: row for row in store.models()}


def _known_model(model: str, models: dict[str, Row], prefix: str = "") -> Row:
    if model not in models:
        from ..schema.catalog import known_models

        error = unknown("model", model, [*models, *known_models()],
                        "`circuitbase model list` shows them")
        raise UnknownName(prefix + str(error))
    return models[model]


def checked_model(store: GraphStore, model: str | None,
                  models: dict[str, Row] | None = None) -> str | None:
    """A model option: canonical and stored, or one error with near matches."""
    if model is None:
        return None
    model = canonical_model(model)
    _known_model(model, models if models is not None else stored_models(store))
    return model


def checked_component(store: GraphStore, uid: str, models: dict[str, Row] | None = None, *,
                      model: str | None = None) -> ComponentUid:
    """`uid` (or a short form with `model`) parsed and known to the store; else one error
    naming what is wrong: a model nobody has (with near matches), a layer or index past
    the model's bounds, or a component the store lacks."""
    parsed = parse_component(uid, model=model)
    found = _known_model(parsed.model, models if models is not None else stored_models(store),
                         f"{parsed}: ")
    if found.get("n_layers") is not None and parsed.layer >= found["n_layers"]:
        raise UidError(f"{parsed}: layer {parsed.layer} is out of range; {parsed.model} has "
                       f"{found['n_layers']} layers (L0-L{found['n_layers'] - 1})")
    limit = {ComponentKind.HEAD: "n_heads", ComponentKind.NEURON: "d_mlp"}.get(parsed.kind)
    if limit and found.get(limit) is not None and (parsed.index or 0) >= found[limit]:
        raise UidError(f"{parsed}: index {parsed.index} is out of range; {parsed.model} has "
                       f"{found[limit]} per layer ({limit})")
    if not store.has_node(NodeLabel.of(parsed.kind), str(parsed)):
        raise UidError(f"{parsed} is not in the store; add its model's components with "
                       "`circuitbase model add` or an ingest")
    return parsed


def checked_value(store: GraphStore, label: NodeLabel, prop: str | None, value: str,
                  what: str, *, prefix: bool = False, also: Sequence[str] = ()) -> str:
    """`value` as the store holds it on some `label` node's `prop` (its key by default),
    or as the start of one (`prefix`); else one error with the nearest stored values (and
    of `also`, the values valid without being stored)."""
    prop = prop or NODE_KEY[label]
    if store.has_value(label, prop, value, prefix=prefix):
        return value
    values = [*store.values_of(label, prop), *also]
    if prefix:  # near the starts of stored values, as long as the one typed
        values = [v[: len(value)] for v in values] + values
    raise unknown(what, value, values, "`circuitbase search` finds names")


def checked_choice(value: str, choices: Sequence[str], what: str) -> str:
    """One of a fixed set of values, or one error naming them all."""
    if value not in choices:
        near = near_matches(value, choices)
        raise UnknownName(f"no {what} {value!r}; " + (f"did you mean {', '.join(near)}? " if near else "")
                          + f"it is one of {', '.join(choices)}")
    return value
