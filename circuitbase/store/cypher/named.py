"""Names the field gives things: dictionaries by their Neuronpedia and SAELens names, N2G tries."""

from __future__ import annotations

PATTERNS_OF = (
    "MATCH (:Neuron {uid: $neuron})-[h:HAS_PATTERN]->(p:Pattern) "
    "WHERE $analysis IS NULL OR h.analysis = $analysis "
    "RETURN p.uid AS uid, p.rule AS rule, h.analysis AS analysis ORDER BY analysis"
)

PATTERN_TRIE = (
    "MATCH (:Pattern {uid: $pattern})-[:TRIE_ROOT]->(:PatternNode)-[:TRIE_CHILD*0..]->"
    "(x:PatternNode) RETURN DISTINCT coalesce(x.full_key, x.uid) AS uid, x.token AS token, "
    "x.token_id AS token_id, x.ignore AS ignore, x.importance AS importance, "
    "x.activation AS activation"
)
# Dictionaries by the names the field gives them (schema/dictionaries.py).
DICTIONARY_BY_NEURONPEDIA = (
    "MATCH (d:Dictionary) WHERE d.neuronpedia = $id RETURN d.uid AS uid ORDER BY uid"
)
DICTIONARY_BY_SAELENS = (
    "MATCH (d:Dictionary) WHERE d.release = $release AND d.sae_id = $sae_id "
    "RETURN d.uid AS uid, d.layer AS layer"
)
DICTIONARY_BY_ALIAS = (
    "MATCH (d:Dictionary) WHERE d.model = $model AND d.layer = $layer AND "
    "d.set_alias = $alias RETURN d.uid AS uid ORDER BY uid"
)
