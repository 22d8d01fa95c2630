"""Measurements compared live (`similar`): head profiles, probe concepts, feature evidence, checkpoints."""

from __future__ import annotations

from ...schema.graph import RelType

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
# often it fires (HAS_EVIDENCE), and the token at each example's maximum, decoded, with the
# maximum (PEAKS_ON, the planner's index of each HAS_EXAMPLE: its lists are packed).
FEATURE_LOGITS = (
    "MATCH (f:Feature)-[e:HAS_EVIDENCE]->(a:Analysis) WHERE f.uid IN $uids "
    "RETURN f.uid AS uid, f.model AS model, a.uid AS analysis, e.pos_str AS pos_str, "
    "e.pos_values AS pos_values, e.neg_str AS neg_str, e.neg_values AS neg_values, "
    "e.frac_nonzero AS frac_nonzero ORDER BY uid, analysis"
)
FEATURE_PEAKS = (
    "MATCH (f:Feature)-[x:PEAKS_ON]->(t:Token) WHERE f.uid IN $uids "
    "RETURN f.uid AS uid, f.model AS model, x.analysis AS analysis, t.text AS token, "
    "x.weight AS value, x.example AS example ORDER BY uid, analysis, example"
)
# how often each feature fires: the largest `frac_nonzero` of its evidence
FIRING_RATES = (
    "MATCH (f:Feature)-[e:HAS_EVIDENCE]->(:Analysis) WHERE f.uid IN $uids "
    "RETURN f.uid AS uid, max(e.frac_nonzero) AS rate"
)
# The words of features' explanations (ingest/evidence_index.py), per explanation fact:
# rows {uid, model, analysis, word, count, features (how many features use the word)}
FEATURE_WORDS = (
    "MATCH (f:Feature)-[r:EXPLAINED_BY]->(:Explanation)-[u:USES_WORD]->(w:Word) "
    "WHERE f.uid IN $uids RETURN f.uid AS uid, f.model AS model, r.analysis AS analysis, "
    "w.uid AS word, u.count AS count, w.features AS features ORDER BY uid, analysis, word"
)
# A feature's explanation embeddings (ingest/evidence_index.py), each with the analysis
# that gave it and its text; and the features whose explanations the embeddings `$uids`
# are of, with how often each fires.
EMBEDDINGS_OF_FEATURES = (
    "UNWIND $uids AS k MATCH (f:Feature {uid: k})-[r:EXPLAINED_BY]->(e:Explanation)"
    "-[x:EMBEDDED_AS]->(v:ExplanationEmbedding) WHERE x.analysis = r.analysis "
    "RETURN f.uid AS uid, v.uid AS embedding, x.analysis AS analysis, e.text AS text "
    "ORDER BY uid, embedding"
)
FEATURES_OF_EMBEDDINGS = (
    "UNWIND $uids AS k MATCH (v:ExplanationEmbedding {uid: k})<-[x:EMBEDDED_AS]-(e:Explanation)"
    "<-[r:EXPLAINED_BY]-(f:Feature) WHERE r.analysis = x.analysis "
    "OPTIONAL MATCH (f)-[h:HAS_EVIDENCE]->(:Analysis) "
    "RETURN k AS embedding, f.uid AS uid, f.model AS model, x.analysis AS analysis, "
    "e.text AS text, max(h.frac_nonzero) AS fires ORDER BY embedding, uid"
)
# how many features are explained (the store's count: store/removal.py)
EXPLAINED_FEATURES = "MATCH (c:Corpus {uid: 'explanations'}) RETURN c.features AS n"


# How a walk's candidates come back, ranked by their `bound` (best first, ties by uid):
# each model's best `$n` and whether it has more (`per_model`), else the best `$n` of all
# (a top-n the store keeps as it goes, no sort of every candidate) as one group.
def _ranked(per_model: bool) -> str:
    if per_model:
        return (
            "ORDER BY bound DESC, f.uid WITH f.model AS model, collect([f.uid, bound]) AS ranked "
            "RETURN model, ranked[..$n] AS best, size(ranked) > $n AS more ORDER BY model"
        )
    return "ORDER BY bound DESC, f.uid LIMIT $n RETURN f.uid AS uid, f.model AS model, bound"


def features_sharing_words(per_model: bool) -> str:
    """Other features whose explanations use any of `$walk` ([[word, my weight, idf]]),
    the best `$n` (each model's, with `per_model`) of those whose upper bound of the
    cosine is at least `$floor` (a score the answer is known to reach), by that bound, of
    TF-IDF weights: the dot product `c` over the walked words and the norm `p` of their
    weights for those words alone (their whole norm is at least that), with `$rest` the
    norm of my words not walked (they may share those too): `sqrt((c / p)^2 + $rest^2) /
    $norm` (Cauchy-Schwarz; each explanation's word edge counts alone, so `p` is no
    larger than the true one). Each of those is then scored exactly over all its words
    (idf over `$explained` features): the dot product of the walk and over my words not
    walked (`$unwalked`: [[word, my weight]]), the cosine `similar` gives. Rows {uid, model, score, beyond: the largest bound of the
    group's candidates not scored (null where none is left)}; `$more` is `$n + 1`. From the Word's index,
    filtering after the walk (see features_sharing_tokens)."""
    if per_model:
        ranked = (
            "ORDER BY bound DESC, f.uid WITH f.model AS model, collect([f, bound, dot]) AS ranked "
        )
    else:  # a top-n the store keeps as it goes, no sort of every candidate
        ranked = "ORDER BY bound DESC, f.uid LIMIT $more WITH collect([f, bound, dot]) AS ranked "
    return (
        "UNWIND $walk AS mine MATCH (w:Word {uid: mine[0]}) "
        "MATCH (w)<-[u:USES_WORD]-(:Explanation)<-[:EXPLAINED_BY]-(f) "
        "WITH f, sum(mine[1] * u.count * mine[2]) AS dot, "
        "sum((u.count * mine[2]) * (u.count * mine[2])) AS shared "
        "WHERE f:Feature AND f.uid <> $uid AND ($model IS NULL OR f.model = $model) "
        "WITH f, dot, dot / sqrt(shared) AS part "
        "WITH f, dot, sqrt(part * part + $rest * $rest) / $norm AS bound "
        "WITH f, dot, bound WHERE bound >= $floor WITH f, dot, bound "
        + ranked
        + "WITH ranked[..$n] AS picked, "
        "CASE WHEN size(ranked) > $n THEN ranked[$n][1] ELSE null END AS beyond "
        "UNWIND picked AS pick WITH pick[0] AS f, pick[2] AS walked, beyond "
        "MATCH (f)-[:EXPLAINED_BY]->(:Explanation)-[v:USES_WORD]->(x:Word) "
        "WITH f, walked, beyond, x, sum(v.count) AS tf "
        "WITH f, walked, beyond, x, CASE WHEN x.features > 0 AND x.features < $explained "
        "THEN tf * log(toFloat($explained) / x.features) ELSE 0.0 END AS weight "
        "WITH f, walked, beyond, sum(weight * weight) AS theirs, "
        "sum(weight * coalesce(head([p IN $unwalked WHERE p[0] = x.uid | p[1]]), 0.0)) AS dot "
        "WITH f, beyond, "
        "CASE WHEN theirs > 0 THEN (walked + dot) / ($norm * sqrt(theirs)) ELSE 0.0 END AS score "
        "OPTIONAL MATCH (f)-[e:HAS_EVIDENCE]->(:Analysis) "
        "RETURN f.uid AS uid, f.model AS model, beyond, score, max(e.frac_nonzero) AS fires"
    )


def features_sharing_tokens(type_: str, per_model: bool) -> str:
    """Other features reached from the Token nodes of `$tokens` ([[token uid, my weight]])
    over `type_` edges (PROMOTES, SUPPRESSES, PEAKS_ON: ingest/evidence_index.py), ranked
    (`_ranked`) by an upper bound of the weighted Jaccard: the overlap, at most the sum
    of `min(mine, theirs)` with theirs an edge's weight (a token's logit: one edge per
    analysis) or, for PEAKS_ON, the sum of their edges to the token (an analysis's weight
    for a token is the sum of its examples', and the largest analysis's counts: no more
    than the sum over analyses), divided by `$mine + theirs - overlap` with `theirs` the
    largest total an edge carries (no more than their true total; at least the
    overlap). `type_` is a catalog name, never user text."""
    return (
        # from the Token's index, filtering after the walk: a condition on `f` in the
        # MATCH makes FalkorDB scan every node first (only features have these edges)
        f"UNWIND $tokens AS mine MATCH (t:Token {{uid: mine[0]}}) MATCH (t)<-[p:{type_}]-(f) "
        # many examples peak on one token: their weights add up before the min (the cost
        # of a second grouping is paid only there)
        + (
            "WITH f, mine, sum(p.weight) AS w, max(p.total) AS total "
            if type_ == RelType.PEAKS_ON.value
            else "WITH f, mine, p.weight AS w, p.total AS total "
        )
        + "WITH f, sum(CASE WHEN w < mine[1] THEN w ELSE mine[1] END) AS overlap, "
        "max(total) AS total "
        "WHERE f.uid <> $uid AND ($model IS NULL OR f.model = $model) "
        "WITH f, overlap, CASE WHEN total IS NULL OR total < overlap THEN overlap "
        "ELSE total END AS theirs "
        "WITH f, overlap / ($mine + theirs - overlap) AS bound " + _ranked(per_model)
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
