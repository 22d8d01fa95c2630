// name: concept_depth_by_size
// description: For each concept and model, the layer of the best probe neuron, with relative depth, ordered by model size: how a concept's best layer moves as models grow.
// param: concept: str = null | names: Concept.name
// param: family: str = null | names: Model.family
// param: metric: str = f1 | one of: f1, mcc, precision, recall, accuracy
// returns: concept, model, n_params, n_layers, best_layer, relative_depth, score, neuron
// example: circuitbase query run concept_depth_by_size --param family=pythia --param concept=fr
MATCH (c:Concept)<-[e:ENCODES]-(n:Neuron)
WHERE ($concept IS NULL OR c.name = $concept) AND e[$metric] IS NOT NULL
MATCH (m:Model {uid: n.model})
WHERE $family IS NULL OR m.family = $family
WITH c, m, n, e
ORDER BY e[$metric] DESC, n.layer, n.uid, e.analysis
WITH c, m, collect({layer: n.layer, depth: n.relative_depth, score: e[$metric], uid: n.uid})[0] AS best
RETURN c.name AS concept, m.uid AS model, m.n_params AS n_params, m.n_layers AS n_layers,
       best.layer AS best_layer, best.depth AS relative_depth, best.score AS score, best.uid AS neuron
ORDER BY concept, n_params, model
