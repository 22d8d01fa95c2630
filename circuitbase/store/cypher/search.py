"""Search: what full-text hits lead to (components by their explanations), vector look-ups."""

from __future__ import annotations

from ...schema.graph import NodeLabel, label_clause

# The filter and result of a vector look-up; the backend's call comes before it.
NEAREST = (
    " WHERE node <> a AND ($model IS NULL OR node.model = $model) "
    "AND cosine >= $min_cosine "
    "RETURN a.uid AS uid, node.uid AS match, node.model AS model, cosine"
)


def has_vector(label: NodeLabel, vector_property: str) -> str:
    """Whether the node `$uid` of `label` has a vector (`vector_property`)."""
    return (
        f"MATCH (n{label_clause(label)} {{uid: $uid}}) "
        f"RETURN n.{vector_property} IS NOT NULL AS found"
    )


def vectors_of(label: NodeLabel, vector_property: str) -> str:
    """The vectors of the nodes `$uids` of `label` (rescoring what an index found)."""
    return (
        f"MATCH (n{label_clause(label)}) WHERE n.uid IN $uids "
        f"AND n.{vector_property} IS NOT NULL RETURN n.uid AS uid, n.{vector_property} AS vector"
    )


# The component each explanation explains (search finds components by their explanations).
EXPLAINED_COMPONENTS = (
    "MATCH (c:Component)-[:EXPLAINED_BY]->(e:Explanation) WHERE e.uid IN $uids "
    "WITH DISTINCT e, c RETURN e.uid AS uid, c.uid AS component, "
    "[l IN labels(c) WHERE l <> 'Component'][0] AS label"
)


# Explanation embeddings (ingest/evidence_index.py): the numbers an ingest wrote as
# `values`, a batch at a time, to be set as the indexed vector; then `values` dropped.
EMBEDDINGS_TO_INDEX = (
    "MATCH (n:ExplanationEmbedding) WHERE n.values IS NOT NULL "
    "RETURN n.uid AS uid, n.values AS vector LIMIT $batch"
)
EMBEDDINGS_INDEXED = "UNWIND $uids AS k MATCH (n:ExplanationEmbedding {uid: k}) SET n.values = null"
