"""Writing: one UNWIND ... MERGE per label or relationship group (the ingest writer's)."""

from __future__ import annotations

from ...schema.graph import NODE_KEY, NodeLabel, RelType, label_clause


def _differs(var: str) -> str:
    """Whether a property of `row.props` differs from `var`'s. Properties are set only
    then: Neo4j counts every property a SET names as set, changed or not, and a re-ingest
    must report that it changed nothing."""
    return f"any(k IN keys(row.props) WHERE {var}[k] IS NULL OR {var}[k] <> row.props[k])"


def merge_nodes(label: NodeLabel, *, update: bool = True) -> str:
    """Rows {key, props, create}. With `update=False`, existing nodes are not touched at
    all: even an empty `SET n += {}` re-indexes a FalkorDB node's vectors."""
    label = NodeLabel(label)
    query = (
        f"UNWIND $rows AS row MERGE (n{label_clause(label)} {{{NODE_KEY[label]}: row.key}}) "
        "ON CREATE SET n += row.create"
    )
    return query + f" WITH n, row WHERE {_differs('n')} SET n += row.props" if update else query


MATCHED = " RETURN count(*) AS matched"

# The properties of a component row (`ModelComponents.rows`), in order.
COMPONENT_ROW = ("uid", "layer", "index", "name", "relative_depth")


def merge_components(label: NodeLabel, *, indexed: bool) -> str:
    """Rows [uid, layer, index, name, relative_depth] of components of model `$model`:
    each node (its properties set when it is created; they follow from its uid) and its
    IN_MODEL edge, in one statement, since the node was just found (the model matched
    after the node: matched first, Neo4j's plan took twice as long). Compact rows: a list
    per row costs the client and the server less than a map. Components with no index
    (a layer's MLP) have none set: Neo4j would count setting null as setting a property."""
    label = NodeLabel(label)
    created = ", ".join(
        f"n.{name} = row[{i}]"
        for i, name in enumerate(COMPONENT_ROW)
        if i and (indexed or name != "index")
    )
    return (
        f"UNWIND $rows AS row MERGE (n{label_clause(label)} {{{NODE_KEY[label]}: row[0]}}) "
        f"ON CREATE SET n.model = $model, {created} "
        f"WITH n MATCH (m:{NodeLabel.MODEL.value} {{{NODE_KEY[NodeLabel.MODEL]}: $model}}) "
        f"MERGE (n)-[:{RelType.IN_MODEL.value}]->(m)" + MATCHED
    )


def merge_relationships(type_: RelType, start: NodeLabel, end: NodeLabel) -> str:
    """Rows {start, end, props}; the relationship's identity is its ends plus its catalog identity.
    Ends are matched by their own label alone, indexed on its key (matching
    `:Component:Neuron` as well was slower on FalkorDB). It returns how many rows found
    both ends (`matched`), so that the writer can tell a row that found none from one
    that changed nothing."""
    type_, start, end = RelType(type_), NodeLabel(start), NodeLabel(end)
    identity = ", ".join(f"{name}: row.props.{name}" for name in type_.spec.identity)
    pattern = f"[r:{type_.value} {{{identity}}}]" if identity else f"[r:{type_.value}]"
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{start.value} {{{NODE_KEY[start]}: row.start}}) "
        f"MATCH (b:{end.value} {{{NODE_KEY[end]}: row.end}}) "
        f"MERGE (a)-{pattern}->(b) "
        f"FOREACH (_ IN CASE WHEN {_differs('r')} THEN [1] ELSE [] END | SET r += row.props)"
        + MATCHED
    )


def create_relationships(type_: RelType, start: NodeLabel, end: NodeLabel) -> str:
    """`merge_relationships` for rows that cannot be stored yet (the facts of an analysis
    the store did not hold when the write was planned; the plan holds each identity once):
    CREATE costs the same for each row, where a MERGE walks every relationship already
    between the two ends."""
    type_, start, end = RelType(type_), NodeLabel(start), NodeLabel(end)
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{start.value} {{{NODE_KEY[start]}: row.start}}) "
        f"MATCH (b:{end.value} {{{NODE_KEY[end]}: row.end}}) "
        f"CREATE (a)-[r:{type_.value}]->(b) SET r += row.props" + MATCHED
    )
