// name: similar_components
// description: Components of other models most similar to a given one (SIMILAR_TO edges, either way: a match listed from both ends counts once, at its best score), best first, with the metric and the analysis behind each match and its parameters (e.g. the tokens and text-file hash of an activation correlation).
// param: uid: str | names: Component
// param: model: str = null
// param: metric: str = null | one of: tokens, concepts, vectors, activation-correlation, decoder | names: SimilaritySummary.metric
// param: top: int = 10
// returns: match, model, layer, relative_depth, score, metric, analysis, params
// example: circuitbase query run similar_components --param uid=gpt2-small/L3/N1234 --param model=pythia-160m
MATCH (c:Component {uid: $uid})-[s:SIMILAR_TO]-(o:Component)
WHERE ($model IS NULL OR o.model = $model) AND ($metric IS NULL OR s.metric = $metric)
WITH o, s.metric AS metric, s.analysis AS analysis, max(s.score) AS score
ORDER BY score DESC, o.uid, metric, analysis
LIMIT $top
OPTIONAL MATCH (a:Analysis {uid: analysis})
RETURN o.uid AS match, o.model AS model, o.layer AS layer, o.relative_depth AS relative_depth,
       score, metric, analysis, a.params AS params
ORDER BY score DESC, match, metric, analysis
