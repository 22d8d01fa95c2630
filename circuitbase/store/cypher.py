"""Every Cypher statement the library sends, kept together (the user-facing questions are
the `.cypher` templates in `circuitbase/queries/`).

Both backends speak this Cypher; where they differ (vector properties and indexes,
schema statements, batched deletes) the backend module has its own. Labels and
relationship types are spliced in only from the schema's allow-lists (`NodeLabel`,
`RelType`); every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..schema.graph import COMPONENT_LABEL, NODE_KEY, NodeLabel, RelType, label_clause
from .neo4j_import import EMPTY_LISTS, PENDING_LABEL

# --- writing: one UNWIND ... MERGE per label or relationship group --------------------


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


# --- reading ----------------------------------------------------------------------------

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


def _property(name: str) -> str:
    """A property name put into Cypher text (template headers name them): plain words only."""
    if not (name.isascii() and name.isidentifier()):
        raise ValueError(f"not a property name: {name!r}")
    return name


def has_value(label: NodeLabel, prop: str, *, prefix: bool = False) -> str:
    test = "STARTS WITH" if prefix else "="
    return (
        f"MATCH (n{label_clause(label)}) WHERE n.{_property(prop)} {test} $value "
        "RETURN 1 AS found LIMIT 1"
    )


def values_of(label: NodeLabel, prop: str) -> str:
    return (
        f"MATCH (n{label_clause(label)}) WHERE n.{_property(prop)} IS NOT NULL "
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


# The filter and result of a vector look-up; the backend's call comes before it.
NEAREST = (
    " WHERE node <> a AND ($model IS NULL OR node.model = $model) "
    "AND cosine >= $min_cosine "
    "RETURN a.uid AS uid, node.uid AS match, node.model AS model, cosine"
)


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
# An evidence relationship's lists (an example's tokens and values, logits, histograms) are
# read with its component (`show`); listed from its analysis, it is its identity and strength.
_LIGHT_PROPS = (
    f"CASE WHEN type(r) IN ['{RelType.HAS_EVIDENCE.value}', '{RelType.HAS_EXAMPLE.value}'] "
    "THEN {analysis: r.analysis, example: r.example, max_value: r.max_value, "
    "frac_nonzero: r.frac_nonzero} ELSE properties(r) END"
)
FACTS_OF = (
    "MATCH (a)-[r]->(b) WHERE r.analysis = $analysis "
    "RETURN type(r) AS type, labels(a) AS start_labels, coalesce(a.uid, a.name) AS start, "
    f"coalesce(b.uid, b.name) AS end, {_LIGHT_PROPS} AS props"
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

# Neo4j: end the transactions whose metadata tags them (Ctrl-C on a running query).
TAGGED_TRANSACTIONS = (
    "SHOW TRANSACTIONS YIELD transactionId, metaData "
    "WHERE metaData[$key] = $tag RETURN transactionId"
)
TERMINATE_TRANSACTIONS = "TERMINATE TRANSACTIONS $ids"

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


# Live similarity (queries/similar.py): comparable measurements, compared at query time.
HEAD_PROFILES_OF = (
    "MATCH (h:AttentionHead {uid: $uid})-[m:MEASURED_BY]->(a:Analysis) "
    "WHERE a.profile_metrics IS NOT NULL "
    "RETURN properties(m) AS measured, a.uid AS analysis, a.method AS method, "
    "a.profile_metrics AS metrics ORDER BY analysis"
)
HEAD_PROFILES_IN = (
    "MATCH (h:AttentionHead {model: $model})-[m:MEASURED_BY]->(a:Analysis) "
    "WHERE a.profile_metrics IS NOT NULL "
    "RETURN h.uid AS uid, h.layer AS layer, h.index AS head, properties(m) AS measured, "
    "a.method AS method, a.profile_metrics AS metrics, a.uid AS analysis "
    "ORDER BY uid, analysis"
)


HEAD_MEASUREMENTS_IN = (
    "MATCH (h:AttentionHead {model: $model})-[m:MEASURED_BY]->(a:Analysis) "
    "RETURN h.layer AS layer, h.index AS head, properties(m) AS measured, "
    "a.uid AS analysis, a.profile_metrics AS metrics"
)
HEAD_ROLE_SCORES_IN = (
    "MATCH (h:AttentionHead {model: $model})-[r:HAS_ROLE]->(role:HeadRole) "
    "RETURN h.layer AS layer, h.index AS head, role.name AS role, "
    "r.score AS score, r.analysis AS analysis"
)


HEAD_PROFILE_PACKS = (
    "MATCH (a:Analysis) WHERE a.method = $method AND a.profile_metrics = $metrics "
    "AND a.profile_table IS NOT NULL AND NOT (a)-[:ABOUT]->(:Model {uid: $exclude}) "
    "MATCH (a)-[:ABOUT]->(m:Model) WHERE $model IS NULL OR m.uid = $model "
    "RETURN a.uid AS analysis, m.uid AS model, a.profile_heads AS heads, "
    "a.profile_table AS table, a.profile_values AS values ORDER BY analysis"
)
HEADS_MEASURED = (
    "UNWIND $pairs AS pair MATCH (h:AttentionHead {uid: pair[0]})-[m:MEASURED_BY]->"
    "(a:Analysis {uid: pair[1]}) RETURN h.uid AS uid, properties(m) AS measured, "
    "a.uid AS analysis"
)


PROBE_CONCEPTS_OF = (
    "MATCH (n:Neuron {uid: $uid})-[e:ENCODES]->(c:Concept) "
    "WITH c, coalesce(e.f1, e.mcc) AS score, e.analysis AS analysis "
    "WHERE score >= $min_score RETURN c.name AS concept, max(score) AS score, "
    "collect(DISTINCT analysis) AS analyses ORDER BY concept"
)
PROBE_CONCEPT_CANDIDATES = (
    "UNWIND $concepts AS name MATCH (c:Concept {name: name})<-[e:ENCODES]-(o:Neuron) "
    "WHERE o.model <> $exclude AND ($model IS NULL OR o.model = $model) "
    "AND coalesce(e.f1, e.mcc) >= $min_score "
    "WITH o, name, max(coalesce(e.f1, e.mcc)) AS score, collect(DISTINCT e.analysis) AS analyses "
    "WITH o, collect([name, score]) AS shared, collect(analyses) AS analyses "
    "MATCH (o)-[e2:ENCODES]->(c2:Concept) WHERE coalesce(e2.f1, e2.mcc) >= $min_score "
    "WITH o, shared, analyses, c2, max(coalesce(e2.f1, e2.mcc)) AS best "
    "RETURN o.uid AS uid, o.model AS model, shared, analyses, sum(best) AS theirs"
)
# A dictionary feature's evidence, by analysis: its promoted and suppressed logits and how
# often it fires (HAS_EVIDENCE), and the token at each example's maximum (HAS_EXAMPLE).
FEATURE_LOGITS = (
    "MATCH (f:Feature)-[e:HAS_EVIDENCE]->(a:Analysis) WHERE f.uid IN $uids "
    "RETURN f.uid AS uid, f.model AS model, a.uid AS analysis, e.pos_str AS pos_str, "
    "e.pos_values AS pos_values, e.neg_str AS neg_str, e.neg_values AS neg_values, "
    "e.frac_nonzero AS frac_nonzero ORDER BY uid, analysis"
)
FEATURE_PEAKS = (
    "MATCH (f:Feature)-[x:HAS_EXAMPLE]->(a:Analysis) WHERE f.uid IN $uids "
    "RETURN f.uid AS uid, f.model AS model, a.uid AS analysis, x.tokens[x.max_index] AS token, "
    "x.max_value AS value, x.example AS example ORDER BY uid, analysis, example"
)
# Every feature's explanations (of one model, or all): the corpus explanations are
# compared in, since a word's weight depends on how many features' explanations use it
FEATURE_EXPLANATIONS = (
    "MATCH (f:Feature)-[r:EXPLAINED_BY]->(e:Explanation) "
    "WHERE $model IS NULL OR f.model = $model OR f.uid = $uid "
    "RETURN f.uid AS uid, f.model AS model, r.analysis AS analysis, e.text AS text "
    "ORDER BY uid, analysis, text"
)
# Features whose evidence names any of `tokens` (promoted, suppressed, or peaked on)
FEATURES_PROMOTING = (
    "MATCH (f:Feature)-[e:HAS_EVIDENCE]->(:Analysis) WHERE f.uid <> $uid "
    "AND ($model IS NULL OR f.model = $model) "
    "AND any(t IN coalesce(e[$side], []) WHERE t IN $tokens) RETURN DISTINCT f.uid AS uid"
)
FEATURES_PEAKING = (
    "MATCH (f:Feature)-[x:HAS_EXAMPLE]->(:Analysis) WHERE f.uid <> $uid "
    "AND ($model IS NULL OR f.model = $model) "
    "AND x.tokens[x.max_index] IN $tokens RETURN DISTINCT f.uid AS uid"
)
RELATIONSHIP_TYPES_AT = (
    "MATCH (n:Component {uid: $uid})-[r]-() WHERE type(r) <> 'IN_MODEL' "
    "RETURN type(r) AS type, count(r) AS n ORDER BY type"
)
FINE_TUNED_PAIRS = (
    "MATCH (m:Model)-[:FINE_TUNED_FROM]->(b:Model) "
    "RETURN m.uid AS model, b.uid AS base ORDER BY model, base"
)

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
    return (
        f"MATCH (n:{label.value}) OPTIONAL MATCH (n)-[r]-() WITH n, count(r) AS degree "
        "WHERE degree = 0 RETURN count(n) AS n"
    )


def delete_unreferenced(label: NodeLabel) -> str:
    """Nodes of a shared label (concepts, tasks, roles, families, tokens) that no
    relationship refers to any more."""
    label = NodeLabel(label)
    return (
        f"MATCH (n:{label.value}) OPTIONAL MATCH (n)-[r]-() WITH n, count(r) AS degree "
        "WHERE degree = 0 DELETE n"
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
        f"o.text AS other_text, CASE WHEN n:Component THEN properties(r) ELSE {_LIGHT_PROPS} "
        "END AS props LIMIT $limit"
    )


# The component each explanation explains (search finds components by their explanations).
EXPLAINED_COMPONENTS = (
    "MATCH (c:Component)-[:EXPLAINED_BY]->(e:Explanation) WHERE e.uid IN $uids "
    "WITH DISTINCT e, c RETURN e.uid AS uid, c.uid AS component, "
    "[l IN labels(c) WHERE l <> 'Component'][0] AS label"
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


# --- finishing an offline import into Neo4j (neo4j_import) -------------------------------

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
    prop = _property(prop)
    return f"MATCH {_element(name, of_nodes=of_nodes)} WHERE '{prop}' IN n.{EMPTY_LISTS} SET n.{prop} = []"


def drop_empty_list_marks(name: str, *, of_nodes: bool) -> str:
    return f"MATCH {_element(name, of_nodes=of_nodes)} WHERE n.{EMPTY_LISTS} IS NOT NULL REMOVE n.{EMPTY_LISTS}"


# the per-head metrics head analyses measured (their names, for near matches)
HEAD_METRIC_NAMES = (
    "MATCH (a:Analysis) WHERE a.profile_metrics IS NOT NULL "
    "UNWIND a.profile_metrics AS metric RETURN DISTINCT metric ORDER BY metric"
)

# a model's training checkpoints and their positions (schema/checkpoints.py)
CHECKPOINTS_OF = (
    "MATCH (c:Model)-[co:CHECKPOINT_OF]->(:Model {uid: $model}) "
    "RETURN c.uid AS uid, co.step AS step, co.tokens AS tokens, c.stage AS stage"
)
