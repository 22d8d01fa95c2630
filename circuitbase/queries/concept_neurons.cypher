// name: concept_neurons
// description: The neurons that encode a concept, in each model, best probe first (k-sparse probing), by a chosen metric (f1, mcc, precision, recall, accuracy; probes without it are left out).
// param: concept: str | names: Concept.name
// param: min_score: float = 0.0
// param: metric: str = f1 | one of: f1, mcc, precision, recall, accuracy
// param: max_k: int = 1
// returns: model, neuron, layer, relative_depth, k, score, f1, mcc, rank, dataset, analysis
// example: circuitbase query run concept_neurons --param concept=fr --param min_score=0.9
MATCH (n:Neuron)-[e:ENCODES]->(c:Concept {name: $concept})
WHERE e.k <= $max_k AND e[$metric] >= $min_score
RETURN n.model AS model, n.uid AS neuron, n.layer AS layer, n.relative_depth AS relative_depth,
       e.k AS k, e[$metric] AS score, e.f1 AS f1, e.mcc AS mcc, e.rank AS rank,
       e.dataset AS dataset, e.analysis AS analysis
ORDER BY model, score DESC, neuron, dataset, k, analysis
