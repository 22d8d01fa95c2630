"""Measurements compared live (`similar`): head profiles, probe concepts, feature evidence, checkpoints."""

from __future__ import annotations

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
# The words of features' explanations (ingest/evidence_index.py), per explanation fact:
# rows {uid, model, analysis, word, count, features (how many features use the word)}
FEATURE_WORDS = (
    "MATCH (f:Feature)-[r:EXPLAINED_BY]->(:Explanation)-[u:USES_WORD]->(w:Word) "
    "WHERE f.uid IN $uids RETURN f.uid AS uid, f.model AS model, r.analysis AS analysis, "
    "w.uid AS word, u.count AS count, w.features AS features ORDER BY uid, analysis, word"
)
# how many features are explained (the store's count: store/removal.py)
EXPLAINED_FEATURES = "MATCH (c:Corpus {uid: 'explanations'}) RETURN c.features AS n"
# Other features whose explanations use any of `$words` ([[word, my weight, idf]]), per
# model the best `$n` by an upper bound of the cosine of TF-IDF weights: the dot product
# over the shared words divided by `$norm` (mine) times the norm of their shared words'
# weights alone (no more than their whole norm). From the Word's index, filtering after
# the walk (see features_sharing_tokens).
FEATURES_SHARING_WORDS = (
    "UNWIND $words AS mine MATCH (w:Word {uid: mine[0]}) "
    "MATCH (w)<-[u:USES_WORD]-(:Explanation)<-[:EXPLAINED_BY]-(f) "
    "WITH f, mine, sum(u.count) AS tf WHERE f:Feature AND f.uid <> $uid "
    "AND ($model IS NULL OR f.model = $model) "
    "WITH f, sum(mine[1] * tf * mine[2]) AS dot, sum((tf * mine[2]) * (tf * mine[2])) AS shared "
    "WITH f, dot / ($norm * sqrt(shared)) AS bound ORDER BY bound DESC, f.uid "
    "WITH f.model AS model, collect([f.uid, bound]) AS ranked "
    "RETURN model, ranked[..$n] AS best, size(ranked) AS found ORDER BY model"
)


def features_sharing_tokens(type_: str) -> str:
    """Other features reached from the Token nodes of `$tokens` ([[token uid, my weight]])
    over `type_` edges (PROMOTES, SUPPRESSES, PEAKS_ON: ingest/evidence_index.py), grouped
    by model, each model's best `$n` by an upper bound of the weighted Jaccard: the
    overlap `sum(min(mine, theirs))` over the shared tokens (their weight per token being
    an analysis's sum over its edges, the largest analysis's), divided by
    `$mine + theirs - overlap` with `theirs` the largest total an edge carries (no more
    than their true total; at least the overlap). Rows {model, best: [[uid, bound]],
    found: how many that model has}. `type_` is a catalog name, never user text."""
    return (
        # from the Token's index, filtering after the walk: a condition on `f` in the
        # MATCH makes FalkorDB scan every node first (only features have these edges)
        f"UNWIND $tokens AS mine MATCH (t:Token {{uid: mine[0]}}) MATCH (t)<-[p:{type_}]-(f) "
        "WITH f, mine, p WHERE f.uid <> $uid AND ($model IS NULL OR f.model = $model) "
        "WITH f, mine, p.analysis AS analysis, sum(p.weight) AS w, max(p.total) AS total "
        "WITH f, mine, max(w) AS w, max(total) AS total WHERE w > 0 "
        "WITH f, sum(CASE WHEN w < mine[1] THEN w ELSE mine[1] END) AS overlap, "
        "max(total) AS total "
        "WITH f, overlap, CASE WHEN total IS NULL OR total < overlap THEN overlap "
        "ELSE total END AS theirs "
        "WITH f, overlap / ($mine + theirs - overlap) AS bound "
        "ORDER BY bound DESC, f.uid "
        "WITH f.model AS model, collect([f.uid, bound]) AS ranked "
        "RETURN model, ranked[..$n] AS best, size(ranked) AS found ORDER BY model"
    )


RELATIONSHIP_TYPES_AT = (
    "MATCH (n:Component {uid: $uid})-[r]-() WHERE type(r) <> 'IN_MODEL' "
    "RETURN type(r) AS type, count(r) AS n ORDER BY type"
)
FINE_TUNED_PAIRS = (
    "MATCH (m:Model)-[:FINE_TUNED_FROM]->(b:Model) "
    "RETURN m.uid AS model, b.uid AS base ORDER BY model, base"
)


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
