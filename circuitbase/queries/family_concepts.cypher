// name: family_concepts
// description: Concepts localized in a single neuron (k=1, the metric (default F1) at or above min_score) in every model of a family that is in the store.
// param: family: str | names: Model.family
// param: min_score: float = 0.9
// param: metric: str = f1 | one of: f1, mcc, precision, recall, accuracy
// returns: concept, categories, n_models, neurons
// example: circuitbase query run family_concepts --param family=pythia --param min_score=0.95
// Concepts first: there are few, and starting from every neuron of a large model is slow.
MATCH (c:Concept)<-[e:ENCODES]-(n:Neuron)
WHERE e.k = 1 AND e[$metric] >= $min_score
WITH c, collect(DISTINCT n.model) AS found, collect(DISTINCT n.uid) AS neurons,
     collect(DISTINCT e.category) AS categories
MATCH (m:Model {family: $family})
WITH c, found, neurons, categories, collect(m.uid) AS family_models
WITH c, neurons, categories, family_models, [model IN found WHERE model IN family_models] AS models
WHERE size(models) = size(family_models)
RETURN c.name AS concept, categories, size(models) AS n_models,
       [uid IN neurons WHERE split(uid, '/')[0] IN family_models] AS neurons
ORDER BY concept
