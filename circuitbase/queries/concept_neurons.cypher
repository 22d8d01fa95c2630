// name: concept_neurons
// description: The neurons that encode a concept, in each model, best probe first (k-sparse probing).
// param: concept: str
// param: min_f1: float = 0.0
// param: max_k: int = 1
// returns: model, neuron, layer, relative_depth, k, f1, rank, analysis
// example: circuitbase query run concept_neurons --param concept=fr --param min_f1=0.9
MATCH (n:Neuron)-[e:ENCODES]->(c:Concept {name: $concept})
WHERE e.k <= $max_k AND coalesce(e.f1, 0.0) >= $min_f1
RETURN n.model AS model, n.uid AS neuron, n.layer AS layer, n.relative_depth AS relative_depth,
       e.k AS k, e.f1 AS f1, e.rank AS rank, e.analysis AS analysis
ORDER BY model, f1 DESC, neuron
