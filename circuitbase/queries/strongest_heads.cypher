// name: strongest_heads
// description: For every model with scores for a head role, its highest-scoring head: where it sits (relative depth) and whether it reaches min_score. Olsson et al. 2022 (arXiv 2209.11895) find induction heads in every transformer they studied: has_role says whether each loaded model bears that out. The default threshold, 0.1, is a head putting a tenth of its attention where the role says (Neuronpedia's induction_score / prev_token_score); TransformerLens detector scores are on the same 0-1 scale; a circuit's named heads have score 1. `source` keeps the scores of analyses whose uid starts with it (e.g. neuronpedia-headvis/), so that one method is compared across models.
// param: role: str = induction | names: HeadRole.name
// param: min_score: float = 0.1
// param: source: str = null | starts: Analysis
// returns: model, n_layers, head, layer, relative_depth, score, has_role, analysis
// example: circuitbase query run strongest_heads --param role=previous-token
MATCH (h:AttentionHead)-[r:HAS_ROLE]->(:HeadRole {name: $role})
WHERE $source IS NULL OR r.analysis STARTS WITH $source
WITH h, r
ORDER BY r.score DESC, h.uid, r.analysis
WITH h.model AS model,
     collect({uid: h.uid, layer: h.layer, depth: h.relative_depth, score: r.score, analysis: r.analysis})[0] AS best
MATCH (m:Model {uid: model})
RETURN model, m.n_layers AS n_layers, best.uid AS head, best.layer AS layer,
       best.depth AS relative_depth, best.score AS score, best.score >= $min_score AS has_role,
       best.analysis AS analysis
ORDER BY coalesce(m.n_params, 0), n_layers, model
