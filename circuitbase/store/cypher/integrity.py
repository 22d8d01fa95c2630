"""Checking a store (`check`): what an earlier version or a cut-off command could leave behind."""

from __future__ import annotations

from ...schema.graph import NodeLabel
from .removal import UNREFERENCED

# Checking a store (GraphStore.integrity): what an earlier version could leave behind.
CITED_ANALYSES = (
    "MATCH ()-[r]->() WHERE r.analysis IS NOT NULL AND r.analysis <> '' "
    "RETURN r.analysis AS uid, count(r) AS n"
)
ANALYSIS_UIDS = "MATCH (a:Analysis) RETURN a.uid AS uid"
ANALYSIS_SOURCES = (
    "MATCH (a:Analysis) OPTIONAL MATCH (a)-[:ABOUT]->(m:Model) "
    "RETURN a.uid AS uid, a.params AS params, collect(m.uid) AS models"
)
COMPONENTS_OUT_OF_MODEL = (
    "MATCH (c:Component) OPTIONAL MATCH (c)-[:IN_MODEL]->(m:Model) "
    "WITH c, collect(m.uid) AS models WHERE size(models) <> 1 OR models[0] <> c.model "
    "RETURN c.uid AS uid, c.model AS model, models ORDER BY uid LIMIT $limit"
)
# components their model's shape does not have: a layer past its last, an index past
# its width (a head past n_heads, a neuron past d_mlp)
COMPONENTS_OUT_OF_SHAPE = (
    "MATCH (c:Component)-[:IN_MODEL]->(m:Model) "
    "WHERE c.layer >= m.n_layers OR c.layer < 0 OR c.index < 0 "
    "OR ('AttentionHead' IN labels(c) AND c.index >= m.n_heads) "
    "OR ('Neuron' IN labels(c) AND c.index >= m.d_mlp) "
    "RETURN c.uid AS uid, m.n_layers AS n_layers ORDER BY uid LIMIT $limit"
)
UNREFERENCED_PATTERN_NODES = (
    "MATCH (n:PatternNode) OPTIONAL MATCH (n)<-[r:TRIE_ROOT|TRIE_CHILD]-() "
    "WITH n, count(r) AS parents WHERE parents = 0 RETURN n.uid AS uid"
)
DELETE_PATTERN_NODE_TREE = (
    "MATCH (:PatternNode {uid: $uid})-[:TRIE_CHILD*0..]->(x:PatternNode) "
    "WITH DISTINCT x DETACH DELETE x"
)


def count_unreferenced(label: NodeLabel) -> str:
    """How many nodes of a shared label no relationship refers to."""
    label = NodeLabel(label)
    return f"MATCH (n:{label.value}) {UNREFERENCED} RETURN count(n) AS n"
