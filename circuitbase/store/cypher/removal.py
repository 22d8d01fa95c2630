"""Removing an analysis or a model, and the similarity summaries and pending lists kept with them."""

from __future__ import annotations

from ...schema.graph import NODE_KEY, NodeLabel, RelType, label_clause
from ..neo4j_import import EMPTY_LISTS, PENDING_LABEL
from .reading import LIGHT_PROPS, plain_property


def analyses_at(label: NodeLabel) -> str:
    label = NodeLabel(label)
    return (
        f"UNWIND $keys AS k MATCH (n{label_clause(label)} {{{NODE_KEY[label]}: k}})-[r]-() "
        "WHERE r.analysis IS NOT NULL RETURN DISTINCT r.analysis AS a"
    )


NODES_OF_ANALYSIS = (
    "MATCH (a)-[r]->(b) WHERE r.analysis = $analysis UNWIND [a, b] AS n "
    "RETURN DISTINCT labels(n) AS labels, properties(n) AS props"
)
FACTS_OF = (
    "MATCH (a)-[r]->(b) WHERE r.analysis = $analysis "
    "RETURN type(r) AS type, labels(a) AS start_labels, coalesce(a.uid, a.name) AS start, "
    f"coalesce(b.uid, b.name) AS end, {LIGHT_PROPS} AS props"
)


def delete_facts(type_: RelType, start: NodeLabel) -> str:
    """Rows {start, end, identity}: one `type_` relationship of `$analysis` each, found from
    its start node's index; `identity` holds the values of its identity besides the analysis."""
    type_, start = RelType(type_), NodeLabel(start)
    same = "".join(
        f" AND r.{name} = row.identity.{name}" for name in type_.spec.identity if name != "analysis"
    )
    return (
        f"UNWIND $rows AS row MATCH (a:{start.value} {{{NODE_KEY[start]}: row.start}})"
        f"-[r:{type_.value}]->(b) WHERE r.analysis = $analysis "
        f"AND coalesce(b.uid, b.name) = row.end{same} DELETE r"
    )


DELETE_FACTS_BATCH = "MATCH ()-[r]->() WHERE r.analysis = $analysis WITH r LIMIT $batch DELETE r"
UNUSED_PATTERNS = (
    "MATCH (p:Pattern) OPTIONAL MATCH (p)<-[h:HAS_PATTERN]-() "
    "WITH p, count(h) AS uses WHERE uses = 0 RETURN p.uid AS uid"
)
DELETE_PATTERN_TRIE = (
    "MATCH (:Pattern {uid: $pattern})-[:TRIE_ROOT]->(:PatternNode)"
    "-[:TRIE_CHILD*0..]->(x:PatternNode) WITH DISTINCT x DETACH DELETE x"
)
DELETE_PATTERN = "MATCH (p:Pattern {uid: $pattern}) DETACH DELETE p"
DELETE_ANALYSIS = "MATCH (a:Analysis {uid: $analysis}) DETACH DELETE a"

# Removing a model (GraphStore.remove_model).
MODEL_COMPONENTS = (
    "MATCH (c:Component)-[:IN_MODEL]->(:Model {uid: $model}) "
    "RETURN [l IN labels(c) WHERE l <> 'Component'][0] AS label, count(c) AS n "
    "ORDER BY label"
)
ANALYSES_ONLY_ABOUT = (
    "MATCH (a:Analysis)-[:ABOUT]->(:Model {uid: $model}) "
    "OPTIONAL MATCH (a)-[:ABOUT]->(other:Model) WHERE other.uid <> $model "
    "WITH a, count(other) AS others WHERE others = 0 RETURN a.uid AS uid "
    "ORDER BY uid"
)
DELETE_COMPONENTS_BATCH = (
    "MATCH (c:Component)-[:IN_MODEL]->(:Model {uid: $model}) WITH c LIMIT $batch DETACH DELETE c"
)
DELETE_MODEL = "MATCH (m:Model {uid: $model}) DETACH DELETE m"


def delete_unreferenced(label: NodeLabel) -> str:
    """Nodes of a shared label (concepts, tasks, roles, families, tokens) that no
    relationship refers to any more."""
    label = NodeLabel(label)
    return f"MATCH (n:{label.value}) {UNREFERENCED} DETACH DELETE n"


# What makes a node unreferenced: no relationship at it but the index edges it derives
# itself (an explanation's words: ingest/evidence_index.py), which go with it.
UNREFERENCED = (
    "OPTIONAL MATCH (n)-[r]-() WHERE NOT (type(r) = 'USES_WORD' AND startNode(r) = n) "
    "WITH n, count(r) AS degree WHERE degree = 0"
)

# The word counts `similar --metric explanation` weighs words by (queries/feature_matches.py):
# per word, how many dictionary features' explanations use it; in the corpus, how many
# features are explained. Recounted from the graph after each change to explanations.
RECOUNT_WORDS = (
    "MATCH (w:Word) OPTIONAL MATCH (w)<-[:USES_WORD]-(:Explanation)<-[:EXPLAINED_BY]-(f:Feature) "
    "WITH w, count(DISTINCT f) AS n SET w.features = n"
)
WORD_COUNTS_MISSING = (  # words (of features' explanations) but no corpus counted
    "OPTIONAL MATCH (c:Corpus) WITH c LIMIT 1 OPTIONAL MATCH (w:Word) WITH c, w LIMIT 1 "
    "RETURN c IS NULL AND w IS NOT NULL AS missing"
)
COUNT_EXPLAINED = "MATCH (f:Feature)-[:EXPLAINED_BY]->(:Explanation) RETURN count(DISTINCT f) AS n"
SET_CORPUS = "MERGE (c:Corpus {uid: 'explanations'}) SET c.features = $features"
DELETE_CORPUS = "MATCH (c:Corpus) DELETE c"


# Similarity summaries (GraphStore.refresh_similarity_summaries): for an ordered pair of
# models, per metric (and '*' for any) and kind of the first model's components, the best
# score each of its components has with any component of the second, either direction.
_SUMMARY_WRITE = (
    "WITH [l IN labels(a) WHERE l <> 'Component'][0] AS kind, metric, best ORDER BY best DESC "
    "WITH kind, metric, collect(best) AS scores "
    "MERGE (p:SimilaritySummary {uid: $a + '|' + $b + '|' + metric + '|' + kind}) "
    "SET p.model_a = $a, p.model_b = $b, p.metric = metric, p.kind = kind, p.scores = scores"
)
SUMMARY_BY_METRIC = (
    "MATCH (a:Component {model: $a})-[s:SIMILAR_TO]-(b:Component) WHERE b.model = $b "
    "WITH a, s.metric AS metric, max(s.score) AS best " + _SUMMARY_WRITE
)
SUMMARY_ANY_METRIC = (
    "MATCH (a:Component {model: $a})-[s:SIMILAR_TO]-(b:Component) WHERE b.model = $b "
    "WITH a, '*' AS metric, max(s.score) AS best " + _SUMMARY_WRITE
)
DELETE_SUMMARIES = (
    "MATCH (p:SimilaritySummary) WHERE (p.model_a = $a AND p.model_b = $b) "
    "OR ($b IS NULL AND (p.model_a = $a OR p.model_b = $a)) DELETE p"
)
SIMILARITY_PAIRS_OF = (
    "MATCH (a:Component)-[s:SIMILAR_TO]->(b:Component) WHERE s.analysis = $analysis "
    "RETURN DISTINCT a.model AS a, b.model AS b"
)
ALL_SIMILARITY_PAIRS = (
    "MATCH (a:Component)-[:SIMILAR_TO]->(b:Component) RETURN DISTINCT a.model AS a, b.model AS b"
)
SUMMARIES_MISSING = (
    "OPTIONAL MATCH (p:SimilaritySummary) WITH p LIMIT 1 "
    "OPTIONAL MATCH ()-[s:SIMILAR_TO]->() WITH p, s LIMIT 1 "
    "RETURN p IS NULL AND s IS NOT NULL AS missing"
)


PENDING_EMPTY_LISTS = (
    f"MATCH (p:{PENDING_LABEL} {{uid: '{EMPTY_LISTS}'}}) RETURN p.nodes AS nodes, p.rels AS rels"
)
DELETE_PENDING = f"MATCH (p:{PENDING_LABEL}) DELETE p"


def _element(name: str, *, of_nodes: bool) -> str:
    """The nodes of label `name` or relationships of type `name` (from the allow-list)."""
    return f"(n:{NodeLabel(name).value})" if of_nodes else f"()-[n:{RelType(name).value}]->()"


def set_empty_list(where: str, *, of_nodes: bool) -> str:
    """Set the empty lists the importer could not write of property `where` =
    `Label.property` (or `TYPE.property`). The names come from the database itself: the
    label or type must be on the allow-list and the property a plain word."""
    name, _, prop = where.partition(".")
    prop = plain_property(prop)
    return f"MATCH {_element(name, of_nodes=of_nodes)} WHERE '{prop}' IN n.{EMPTY_LISTS} SET n.{prop} = []"


def drop_empty_list_marks(name: str, *, of_nodes: bool) -> str:
    return f"MATCH {_element(name, of_nodes=of_nodes)} WHERE n.{EMPTY_LISTS} IS NOT NULL REMOVE n.{EMPTY_LISTS}"
