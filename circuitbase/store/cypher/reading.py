"""Reading: the lookups every room of the store shares (models, keys, properties, neighbourhoods, counts)."""

from __future__ import annotations

from collections.abc import Sequence

from ...schema.graph import COMPONENT_LABEL, NODE_KEY, NodeLabel, RelType, label_clause

ANY_NODE = "MATCH (n) RETURN 1 AS found LIMIT 1"

MODELS = "MATCH (m:Model) WHERE $names IS NULL OR m.uid IN $names RETURN m ORDER BY m.uid"


def existing_keys(label: NodeLabel) -> str:
    key = NODE_KEY[NodeLabel(label)]
    return f"UNWIND $keys AS k MATCH (n{label_clause(label)} {{{key}: k}}) RETURN n.{key} AS k"


def node_properties(label: NodeLabel) -> str:
    key = NODE_KEY[NodeLabel(label)]
    return (
        f"UNWIND $keys AS k MATCH (n{label_clause(label)} {{{key}: k}}) "
        f"RETURN n.{key} AS k, properties(n) AS props"
    )


def fact_properties(type_: RelType, start: NodeLabel, end: NodeLabel) -> str:
    """Rows {i, start, end, props}: the stored relationship of each row's ends and catalog
    identity, if any (identity names come from the catalog: safe to splice)."""
    type_, start, end = RelType(type_), NodeLabel(start), NodeLabel(end)
    same = "".join(f" AND r.{name} = row.props.{name}" for name in type_.spec.identity)
    return (
        f"UNWIND $rows AS row MATCH (a:{start.value} {{{NODE_KEY[start]}: row.start}})"
        f"-[r:{type_.value}]->(b:{end.value} {{{NODE_KEY[end]}: row.end}}) WHERE true{same} "
        "RETURN row.i AS i, properties(r) AS props"
    )


MAX_NAMES = 100_000  # stored values read for near matches of a name the store lacks


def plain_property(name: str) -> str:
    """A property name put into Cypher text (template headers name them): plain words only."""
    if not (name.isascii() and name.isidentifier()):
        raise ValueError(f"not a property name: {name!r}")
    return name


def has_value(label: NodeLabel, prop: str, *, prefix: bool = False) -> str:
    test = "STARTS WITH" if prefix else "="
    return (
        f"MATCH (n{label_clause(label)}) WHERE n.{plain_property(prop)} {test} $value "
        "RETURN 1 AS found LIMIT 1"
    )


def values_of(label: NodeLabel, prop: str) -> str:
    return (
        f"MATCH (n{label_clause(label)}) WHERE n.{plain_property(prop)} IS NOT NULL "
        f"RETURN DISTINCT n.{prop} AS value LIMIT {MAX_NAMES}"
    )


def nodes_by_key(label: NodeLabel) -> str:
    return (
        f"UNWIND $keys AS k MATCH (n{label_clause(label)} {{{NODE_KEY[NodeLabel(label)]}: k}}) "
        "RETURN labels(n) AS labels, properties(n) AS props"
    )


def outgoing(label: NodeLabel) -> str:
    return (
        f"UNWIND $keys AS k MATCH (a{label_clause(label)} {{{NODE_KEY[NodeLabel(label)]}: k}})"
        "-[r]->(b) RETURN properties(a) AS a, type(r) AS type, properties(r) AS props, "
        "labels(b) AS b_labels, properties(b) AS b"
    )


def neighbourhood(label: NodeLabel, hops: int, rel_types: Sequence[RelType]) -> str:
    types = "|".join(RelType(t).value for t in rel_types)
    pattern = f"[:{types}*1..{int(hops)}]" if types else f"[*1..{int(hops)}]"
    return (
        f"MATCH (c{label_clause(label)} {{{NODE_KEY[NodeLabel(label)]}: $k}})-{pattern}-(x) "
        "RETURN DISTINCT labels(x) AS labels, properties(x) AS props"
    )


LABEL_COUNTS = "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n"
RELATIONSHIP_COUNTS = "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n"
MODEL_COMPONENT_COUNTS = (
    f"MATCH (m:Model) OPTIONAL MATCH (c:{COMPONENT_LABEL})-[:IN_MODEL]->(m) "
    "WITH m, c, [l IN labels(c) WHERE l <> $component][0] AS kind "
    "WITH m, kind, count(c) AS n ORDER BY kind "
    "RETURN m.uid AS model, m.n_layers AS layers, "
    "collect(CASE WHEN kind IS NULL THEN NULL ELSE kind + ': ' + toString(n) END) AS components "
    "ORDER BY model"
)

ANALYSES = (
    "MATCH (a:Analysis) WHERE a.uid IN $uids OPTIONAL MATCH (a)-[:ABOUT]->(m:Model) "
    "RETURN a.uid AS uid, a.method AS method, a.citation AS citation, "
    "a.created_at AS created_at, collect(m.uid) AS models ORDER BY uid"
)

NEURON_PROFILES = {
    "tokens": "MATCH (n:Neuron {model: $model})-[a:ACTIVATES_ON]->(t:Token) "
    "RETURN n.uid AS uid, t.uid AS feature, a.activation AS weight",
    "concepts": "MATCH (n:Neuron {model: $model})-[e:ENCODES]->(c:Concept) "
    "WHERE coalesce(e.f1, 0.0) >= $min_f1 "
    "RETURN n.uid AS uid, c.name AS feature, 1.0 AS weight",
}


def with_vectors(label: NodeLabel, vector_property: str) -> str:
    return (
        f"MATCH (n:{NodeLabel(label).value} {{model: $model}}) "
        f"WHERE n.{vector_property} IS NOT NULL RETURN n.uid AS uid"
    )


# Removing an analysis (GraphStore.remove_analysis): its facts in batches, then the nodes
# nothing refers to any more, then the analysis itself (last, so a rerun finishes the job).
ANALYSIS_LIST = (
    "MATCH (a:Analysis) OPTIONAL MATCH (a)-[:ABOUT]->(m:Model) "
    "RETURN a.uid AS uid, a.kind AS kind, a.method AS method, "
    "collect(m.uid) AS models ORDER BY uid"
)
FACT_COUNTS = (
    "MATCH ()-[r]->() WHERE r.analysis = $analysis "
    "RETURN type(r) AS type, count(r) AS n ORDER BY type"
)


def node_with_relationships(label: NodeLabel) -> str:
    """One node and every relationship at it (but a model's IN_MODEL edges, which are its
    components: counted instead), with the other end's labels and key."""
    label = NodeLabel(label)
    return (
        f"MATCH (n:{label.value} {{{NODE_KEY[label]}: $key}}) "
        "OPTIONAL MATCH (n)-[r]-(o) WHERE type(r) <> 'IN_MODEL' OR NOT n:Model "
        "RETURN properties(n) AS node, type(r) AS type, startNode(r) = n AS outgoing, "
        "labels(o) AS labels, coalesce(o.uid, o.name) AS other, o.model AS other_model, "
        f"o.text AS other_text, CASE WHEN n:Component THEN properties(r) ELSE {LIGHT_PROPS} "
        "END AS props LIMIT $limit"
    )


# An evidence relationship's lists (an example's tokens and values, logits, histograms) are
# read with its component (`show`); listed from its analysis, it is its identity and strength.
LIGHT_PROPS = (
    f"CASE WHEN type(r) IN ['{RelType.HAS_EVIDENCE.value}', '{RelType.HAS_EXAMPLE.value}'] "
    "THEN {analysis: r.analysis, example: r.example, max_value: r.max_value, "
    "frac_nonzero: r.frac_nonzero} ELSE properties(r) END"
)
