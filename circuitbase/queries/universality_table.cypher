// name: universality_table
// description: For a pair of models, per component kind, how many of model_a's components have a match in model_b with similarity at or above threshold, and the fraction.
// param: model_a: str
// param: model_b: str
// param: threshold: float = 0.5
// param: metric: str = null | one of: tokens, concepts, vectors, activation-correlation | names: SimilaritySummary.metric
// returns: kind, components, matched, fraction
// example: circuitbase query run universality_table --param model_a=stanford-gpt2-small-a --param model_b=stanford-gpt2-small-b --param threshold=0.5
// Reads the pair's SimilaritySummary (each component's best score in the other model,
// kept by the store whenever similarity edges change) instead of every SIMILAR_TO edge:
// at a million components the edges took 16-19 s. A test holds it to the full query.
MATCH (a:Component {model: $model_a})
WITH [label IN labels(a) WHERE label <> 'Component'][0] AS kind, count(a) AS components
OPTIONAL MATCH (p:SimilaritySummary {uid: $model_a + '|' + $model_b + '|' + coalesce($metric, '*') + '|' + kind})
WITH kind, components, CASE WHEN p IS NULL THEN 0 ELSE size([x IN p.scores WHERE x >= $threshold]) END AS matched
RETURN kind, components, matched, toFloat(matched) / components AS fraction
ORDER BY kind
