// name: universal_neurons
// description: The neurons of a model in each named family (universal, prediction, suppression, ...: Gurnee et al. 2024), counted by family and layer, with their mean excess correlation across training seeds and best correlation where the source gives them.
// param: model: str
// param: family: str = null | names: NeuronFamily.name
// returns: family, layer, neurons, mean_excess_corr, max_corr, analysis
// example: circuitbase query run universal_neurons --param model=pythia-160m --param family=universal
MATCH (n:Neuron {model: $model})-[f:IN_FAMILY]->(family:NeuronFamily)
WHERE $family IS NULL OR family.name = $family
RETURN family.name AS family, n.layer AS layer, count(n) AS neurons,
       avg(f.excess_corr) AS mean_excess_corr, max(f.max_corr) AS max_corr, f.analysis AS analysis
ORDER BY family, layer, analysis
