"""Names a user types, checked against the store: a model, a component, a concept, a role,
a task, an analysis. A name the store lacks is one error naming the nearest names it has
(and the catalog's, for models), never an empty answer; a component uid names the bound it
broke.

Every command, option and template parameter that takes such a name checks it here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from ..errors import UnknownName
from ..schema.aliases import canonical_model
from ..schema.dictionaries import parse_neuronpedia_feature, parse_saelens_feature
from ..schema.graph import NODE_KEY, NodeLabel
from ..schema.uids import ComponentKind, ComponentUid, UidError, parse_component
from ..store.base import GraphStore, Row

NEAR = 4  # near matches named in an error
NEAR_CUTOFF = 0.6  # difflib's similarity a near match needs


def near_matches(name: str, candidates: Iterable[str]) -> list[str]:
    """The names closest to `name`; a name equal but for case first."""
    pool = sorted(set(candidates))
    same_case = [c for c in pool if c.lower() == name.lower() and c != name]
    close = difflib.get_close_matches(name, pool, n=NEAR, cutoff=NEAR_CUTOFF)
    return list(dict.fromkeys(same_case + close))[:NEAR]


def unknown(what: str, name: str, candidates: Iterable[str], hint: str) -> UnknownName:
    """`no concept 'x' in the store; did you mean ...?` (or where to look, if none is near)."""
    near = near_matches(name, candidates)
    return UnknownName(
        f"no {what} {name!r} in the store"
        + (f"; did you mean {', '.join(near)}?" if near else f" ({hint})")
    )


def stored_models(store: GraphStore) -> dict[str, Row]:
    """Every stored model's row by name: read once per question, used for its checks,
    depths and sizes."""
    return {row["uid"]: row for row in store.models()}


def _known_model(model: str, models: dict[str, Row], prefix: str = "") -> Row:
    if model not in models:
        from ..schema.catalog import known_models

        error = unknown(
            "model", model, [*models, *known_models()], "`circuitbase model list` shows them"
        )
        raise UnknownName(prefix + str(error))
    return models[model]


def checked_model(
    store: GraphStore, model: str | None, models: dict[str, Row] | None = None
) -> str | None:
    """A model option: canonical and stored, or one error with near matches."""
    if model is None:
        return None
    model = canonical_model(model)
    _known_model(model, models if models is not None else stored_models(store))
    return model


def checked_component(
    store: GraphStore, uid: str, models: dict[str, Row] | None = None, *, model: str | None = None
) -> ComponentUid:
    """`uid` (or a short form with `model`) parsed and known to the store; else one error
    naming what is wrong: a model nobody has (with near matches), a layer or index past
    the model's bounds, or a component the store lacks."""
    parsed = component_named(store, uid, model=model)
    found = _known_model(
        parsed.model, models if models is not None else stored_models(store), f"{parsed}: "
    )
    if found.get("n_layers") is not None and parsed.layer >= found["n_layers"]:
        raise UidError(
            f"{parsed}: layer {parsed.layer} is out of range; {parsed.model} has "
            f"{found['n_layers']} layers (L0-L{found['n_layers'] - 1})"
        )
    limit = {ComponentKind.HEAD: "n_heads", ComponentKind.NEURON: "d_mlp"}.get(parsed.kind)
    if limit and found.get(limit) is not None and (parsed.index or 0) >= found[limit]:
        raise UidError(
            f"{parsed}: index {parsed.index} is out of range; {parsed.model} has "
            f"{found[limit]} per layer ({limit})"
        )
    if not store.has_node(NodeLabel.of(parsed.kind), str(parsed)):
        if (renamed := _renamed_dictionary(store, parsed)) is not None:
            return renamed
        raise UidError(
            f"{parsed} is not in the store; add its model's components with "
            "`circuitbase model add` or an ingest"
        )
    return parsed


def component_named(store: GraphStore, name: str, *, model: str | None = None) -> ComponentUid:
    """The component NAME means: a uid or short form (`parse_component`), or a dictionary
    feature named the way the field names it (schema/dictionaries.py): Neuronpedia's
    `gpt2-small/0-res-jb/3`, SAELens's `<release>/<SAE id>/<index>` (by the stored
    dictionaries: `circuitbase ingest saes`). Raises the uid's own error if it is neither."""
    try:
        return parse_component(name, model=model)
    except UidError as err:
        problem = err
    if not isinstance(name, str) or model is not None:
        raise problem
    named = parse_neuronpedia_feature(name)
    if named is not None:
        source = name.strip().rsplit("/", 1)[0]
        # the model may be stored under another name (an alias); the layer and set are
        # the name's own, whatever a dictionary's `neuronpedia` property claims
        stored = [
            uid
            for uid in store.dictionaries_by_neuronpedia(source)
            if uid.endswith(f"/L{named.layer}/{named.dictionary}")
        ]
        return parse_component(f"{stored[0]}/F{named.index}") if stored else named
    saelens = parse_saelens_feature(name)
    if saelens is not None:
        rows = store.dictionaries_by_saelens(saelens.release, saelens.sae_id)
        if rows and rows[0]["layer"] is None:
            raise UidError(
                f"{name}: SAELens's {saelens.release} / {saelens.sae_id} does not say "
                "which layer it reads, so its features have no uid"
            )
        if rows:
            return parse_component(f"{rows[0]['uid']}/F{saelens.index}")
    raise problem


def _renamed_dictionary(store: GraphStore, feature: ComponentUid) -> ComponentUid | None:
    """A feature uid from before its dictionary had a Neuronpedia set (an attribution
    graph's transcoder set with '/' as '.'), as the feature is stored now."""
    if feature.kind is not ComponentKind.FEATURE or feature.dictionary is None:
        return None
    uids = store.dictionaries_by_alias(feature.model, feature.layer, feature.dictionary)
    if not uids:
        return None
    renamed = parse_component(f"{uids[0]}/F{feature.index}")
    return renamed if store.has_node(NodeLabel.FEATURE, str(renamed)) else None


def checked_value(
    store: GraphStore,
    label: NodeLabel,
    prop: str | None,
    value: str,
    what: str,
    *,
    prefix: bool = False,
    also: Sequence[str] = (),
) -> str:
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


def checked_metric(store: GraphStore, metric: str) -> str:
    """A per-head metric some stored analysis measured; else one error with near matches."""
    names = store.head_metric_names()
    if metric not in names:
        raise unknown("head metric", metric, names, "`circuitbase analysis list` shows analyses")
    return metric


def checked_choice(value: str, choices: Sequence[str], what: str) -> str:
    """One of a fixed set of values, or one error naming them all."""
    if value not in choices:
        near = near_matches(value, choices)
        raise UnknownName(
            f"no {what} {value!r}; "
            + (f"did you mean {', '.join(near)}? " if near else "")
            + f"it is one of {', '.join(choices)}"
        )
    return value
