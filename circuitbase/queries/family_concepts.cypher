// name: family_concepts
// description: Concepts localized in a single neuron (k=1, F1 at or above min_f1) in every model of a family that is in the store.
// param: family: str
// param: min_f1: float = 0.9
// returns: concept, category, n_models, neurons
// example: circuitbase query run family_concepts --param family=pythia --param min_f1=0.95
MATCH (m:Model {family: $family})
WITH collect(m.uid) AS family_models
MATCH (n:Neuron)-[e:ENCODES]->(c:Concept)
WHERE e.k = 1 AND e.f1 >= $min_f1 AND n.model IN family_models
WITH c, family_models, collect(DISTINCT n.model) AS models, collect(DISTINCT n.uid) AS neurons
WHERE size(models) = size(family_models)
RETURN c.name AS concept, c.category AS category, size(models) AS n_models, neurons
ORDER BY concept
