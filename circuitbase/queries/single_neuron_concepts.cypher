// name: single_neuron_concepts
// description: Concepts localized in a single neuron (a k=1 probe with the metric (default F1) at or above min_score) in at least min_models models.
// param: min_score: float = 0.9
// param: metric: str = f1 | one of: f1, mcc, precision, recall, accuracy
// param: min_models: int = 2
// param: family: str = null | names: Model.family
// returns: concept, categories, n_models, models
// example: circuitbase query run single_neuron_concepts --param min_score=0.95 --param min_models=3
MATCH (c:Concept)<-[e:ENCODES]-(n:Neuron)
WHERE e.k = 1 AND e[$metric] >= $min_score
MATCH (m:Model {uid: n.model})
WHERE $family IS NULL OR m.family = $family
WITH c, collect(DISTINCT m.uid) AS models, collect(DISTINCT e.category) AS categories
WHERE size(models) >= $min_models
RETURN c.name AS concept, categories, size(models) AS n_models, models
ORDER BY n_models DESC, concept
