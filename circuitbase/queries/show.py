"""Everything the store knows about one thing (`circuitbase show NAME`), as plain data.

NAME is a component uid (or a short form, `L5H1`, with `model`), a model, a concept, a
task, a head role, a neuron family, a token or an analysis uid. The answer groups the
relationships at the node by type, each with the analysis behind it, adds those analyses'
citations, and for components the best match in every other model.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from ..errors import CircuitbaseError
from ..schema.dictionaries import neuronpedia_feature_id
from ..schema.evidence import EVIDENCE_TYPES
from ..schema.graph import (
    COMPONENT_LABELS,
    NODE_KEY,
    NodeLabel,
    RelType,
    primary_label,
    score_of,
    token_uid,
)
from ..schema.uids import UidError, parse_component
from ..store.base import GraphStore
from .match import LIVE_METRICS
from .names import UnknownName, checked_component, component_named, near_matches
from .similar import similar as find

MAX_RELATIONSHIPS = 10_000  # a node with more is shown in part, and says so


def resolve(store: GraphStore, name: str, model: str | None = None) -> tuple[NodeLabel, str]:
    """The label and key of the node NAME means; else one error naming the bound a uid
    broke, or the nearest names the store holds."""
    try:
        uid = component_named(store, name, model=model)
    except UidError:
        uid = None
    if uid is not None:
        try:
            return NodeLabel.of(uid.kind), str(checked_component(store, str(uid)))
        except CircuitbaseError as err:
            problem = err  # unless NAME is also another thing's name
    named = [label for label in NodeLabel if label.spec.named]  # the catalog says which
    for label in named:
        if store.has_node(label, name):
            return label, name
    if store.has_node(NodeLabel.TOKEN, token_uid(name)):
        return NodeLabel.TOKEN, token_uid(name)
    if uid is not None:
        raise problem
    names = [value for label in named for value in store.values_of(label, NODE_KEY[label])]
    near = near_matches(name, names + store.values_of(NodeLabel.TOKEN, "text"))
    raise UnknownName(
        f"nothing called {name!r} in the store; "
        + (
            f"did you mean {', '.join(near)}?"
            if near
            else "give a uid, a short form such as L5H1 with --model, a model, concept, "
            "task, role, family, token or analysis (`circuitbase search` finds names)"
        )
    )


def strongest_first(fact: dict[str, Any], type_: str) -> tuple:
    """Sort key of a fact: by its score, strongest first (a circuit edge by the size of its
    signed weight), facts without one last; then by analysis, then by content."""
    score = score_of(fact, type_)
    if score is not None and type_ == RelType.CIRCUIT_EDGE.value:
        score = abs(score)
    return (
        score is None,
        -(score or 0.0),
        fact["analysis"] or "",
        json.dumps(fact, sort_keys=True, default=str),
    )


def _kind(labels: list[str] | None) -> str | None:
    return primary_label(labels).value if labels else None


# Properties kept for machines (a head-metrics analysis's packed ranks, read by `similar`):
# shown by what they hold, not as thousands of characters of base64.
PACKED = {
    "profile_heads": "heads",
    "profile_table": "bytes of ranks (base64)",
    "profile_values": "bytes of values (base64)",
}


def _readable(properties: dict[str, Any]) -> dict[str, Any]:
    shown = dict(properties)
    for name, what in PACKED.items():
        if isinstance(shown.get(name), str):
            size = len(shown[name].split(" ")) if name == "profile_heads" else len(shown[name])
            shown[name] = f"({size:,} {what}, packed for `similar`)"
    return shown


def show(
    store: GraphStore, name: str, model: str | None = None, *, kind: NodeLabel | str | None = None
) -> dict[str, Any]:
    """{kind, key, properties, relationships: {TYPE: [...]}, similar: [...], analyses:
    [...], truncated} for NAME; with `kind`, NAME is that label's key as stored (no
    guessing: the web explorer's links name both)."""
    label, key = (NodeLabel(kind), name) if kind is not None else resolve(store, name, model)
    rows = store.node_with_relationships(label, key, MAX_RELATIONSHIPS)
    if not rows:
        raise CircuitbaseError(f"{label.value} {key!r} is not in the store")
    evidence = _evidence(rows) if label in COMPONENT_LABELS else None
    grouped = _facts_by_type(rows, evidence is not None)
    similar = _stored_matches(rows)
    if label in COMPONENT_LABELS:  # beside the stored matches, those the measurements give
        similar |= _live_matches(store, label, key)
    cited = {f["analysis"] for facts in grouped.values() for f in facts if f["analysis"]}
    if label is NodeLabel.ANALYSIS:
        cited.add(key)
    result: dict[str, Any] = {
        "kind": label.value,
        "key": key,
        "properties": _readable(rows[0]["node"]),
        "relationships": dict(sorted(grouped.items())),
        "similar": sorted(similar.values(), key=lambda s: (-s["score"], s["model"])),
        "analyses": store.analyses(cited),
        "truncated": len(rows) >= MAX_RELATIONSHIPS,
    }
    if evidence is not None:
        result["evidence"] = evidence
    # a head whose layer a head-metrics file left all zeros: stored as the file says, but
    # not a measurement (never ranked, matched or given a role)
    unmeasured = sorted(
        f["analysis"] for f in grouped.get(RelType.MEASURED_BY.value, []) if f.get("unmeasured")
    )
    if unmeasured:
        result["unmeasured"] = unmeasured
    if label is NodeLabel.FEATURE:
        result["neuronpedia"] = _neuronpedia_page(store, key, grouped)
    if label is NodeLabel.MODEL:
        result["components"] = store.model_contents(key)["components"]
    return result


def _facts_by_type(
    rows: list[dict[str, Any]], with_evidence: bool
) -> dict[str, list[dict[str, Any]]]:
    """The node's relationships by type, each the other end, its direction, the analysis
    and the fact's properties, strongest first (evidence, shown apart, left out)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["type"] is None or (with_evidence and row["type"] in EVIDENCE_TYPES):
            continue
        props = dict(row["props"] or {})
        if row["type"] in EVIDENCE_TYPES:  # at an analysis: which component, how strong
            props = {k: v for k, v in props.items() if v is not None}
        grouped[row["type"]].append(
            {
                "direction": "out" if row["outgoing"] else "in",
                "other": row["other"],
                "other_kind": _kind(row["labels"]),
                "analysis": props.pop("analysis", None),
                **props,
            }
        )
    for type_, facts in grouped.items():
        facts.sort(key=lambda f: strongest_first(f, type_))
    return grouped


def _stored_matches(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The best stored SIMILAR_TO match in each other model."""
    similar: dict[str, dict[str, Any]] = {}
    for row in rows:
        other_model, props = row["other_model"], row["props"] or {}
        if row["type"] != RelType.SIMILAR_TO.value or not other_model:
            continue
        if other_model not in similar or props["score"] > similar[other_model]["score"]:
            similar[other_model] = {
                "model": other_model,
                "match": row["other"],
                "kind": _kind(row["labels"]),
                "score": props["score"],
                "metric": props.get("metric"),
                "analysis": props.get("analysis"),
            }
    return similar


def _live_matches(store: GraphStore, label: NodeLabel, key: str) -> dict[str, dict[str, Any]]:
    """The best match in each other model by what the store measured (`similar`'s own)."""
    return {
        f"{match.model} {match.metric}": {
            "model": match.model,
            "match": match.uid,
            "kind": label.value,
            "score": match.score,
            "metric": match.metric,
            "analysis": ", ".join(match.analyses),
        }
        for match in find(store, key, per_model=True)
        if match.metric in LIVE_METRICS
    }


NEURONPEDIA = "https://www.neuronpedia.org/"


def _neuronpedia_page(
    store: GraphStore, key: str, grouped: dict[str, list[dict[str, Any]]]
) -> str | None:
    """The feature's page on Neuronpedia, where its dictionary's Neuronpedia id is known."""
    for fact in grouped.get(RelType.IN_DICTIONARY.value, []):
        for row in store.nodes(NodeLabel.DICTIONARY, [fact["other"]]):
            source = row["props"].get("neuronpedia")
            if isinstance(source, str):
                return NEURONPEDIA + neuronpedia_feature_id(source, parse_component(key).index or 0)
    return None


def _evidence(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A component's evidence from the rows `show` read (schema/evidence.py): explanations
    (best scored first), statistics and top logits per analysis, and activation examples,
    the strongest first."""
    found: dict[str, list[dict[str, Any]]] = {"explanations": [], "statistics": [], "examples": []}
    for row in rows:
        props = dict(row["props"] or {})
        if row["type"] == RelType.EXPLAINED_BY.value:
            found["explanations"].append({"text": row["other_text"], **props})
        elif row["type"] == RelType.HAS_EVIDENCE.value:
            found["statistics"].append(props)
        elif row["type"] == RelType.HAS_EXAMPLE.value:
            found["examples"].append(props)
    found["explanations"].sort(
        key=lambda e: (
            e.get("score") is None,
            -(e.get("score") or 0),
            e["analysis"],
            e["text"] or "",
        )
    )
    found["statistics"].sort(key=lambda e: e["analysis"])
    found["examples"].sort(key=lambda e: (-e["max_value"], e["analysis"], e["example"]))
    return {name: items for name, items in found.items() if items}
