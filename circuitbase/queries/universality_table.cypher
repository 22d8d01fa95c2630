// name: universality_table
// description: For a pair of models, per component kind, how many of model_a's components have a match in model_b with similarity at or above threshold, and the fraction.
// param: model_a: str
// param: model_b: str
// param: threshold: float = 0.5
// param: metric: str = null
// returns: kind, components, matched, fraction
// example: circuitbase query run universality_table --param model_a=stanford-gpt2-small-a --param model_b=stanford-gpt2-small-b --param threshold=0.5
// Each direction on its own: one undirected expansion was slower than both directed ones
// at a million components. (`forward` is carried by name: FalkorDB 4.16 loses an
// aggregate that is added to in the same WITH.)
MATCH (a:Component {model: $model_a})
OPTIONAL MATCH (a)-[s:SIMILAR_TO]->(b:Component)
WHERE b.model = $model_b AND s.score >= $threshold AND ($metric IS NULL OR s.metric = $metric)
WITH a, count(b) AS forward
OPTIONAL MATCH (a)<-[s:SIMILAR_TO]-(b:Component)
WHERE b.model = $model_b AND s.score >= $threshold AND ($metric IS NULL OR s.metric = $metric)
WITH a, forward, count(b) AS backward
WITH [label IN labels(a) WHERE label <> 'Component'][0] AS kind, count(a) AS components,
     count(CASE WHEN forward + backward > 0 THEN 1 END) AS matched
RETURN kind, components, matched, toFloat(matched) / components AS fraction
ORDER BY kind
