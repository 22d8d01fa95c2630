// name: neuron_concepts
// description: The concepts a neuron encodes, by probe quality, with the analysis that found each.
// param: uid: str | names: Component
// returns: concept, category, dataset, k, f1, mcc, precision, recall, analysis
// example: circuitbase query run neuron_concepts --param uid=pythia-70m/L3/N609
MATCH (n:Neuron {uid: $uid})-[e:ENCODES]->(c:Concept)
RETURN c.name AS concept, e.category AS category, e.dataset AS dataset, e.k AS k, e.f1 AS f1,
       e.mcc AS mcc, e.precision AS precision, e.recall AS recall, e.analysis AS analysis
ORDER BY coalesce(f1, mcc) DESC, concept, dataset, analysis, k
