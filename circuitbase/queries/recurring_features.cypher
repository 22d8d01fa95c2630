// name: recurring_features
// description: Dictionary features that occur in several attribution graphs (prompts) of a model: one node per feature whatever the prompt, so a feature that keeps coming back is one row, with the graphs it is in and its best (smallest, cumulative) influence in any of them.
// param: model: str = null
// param: min_graphs: int = 2
// returns: model, feature, label, layer, n_graphs, graphs, best_influence
// example: circuitbase query run recurring_features --param model=gemma-3-1b-pt
MATCH (f:Feature)-[m:MEASURED_BY]->(a:Analysis {kind: 'circuit'})
WHERE $model IS NULL OR f.model = $model
WITH f, collect(DISTINCT a.uid) AS graphs, min(m.influence) AS best
WHERE size(graphs) >= $min_graphs
RETURN f.model AS model, f.uid AS feature, f.label AS label, f.layer AS layer,
       size(graphs) AS n_graphs, graphs, best AS best_influence
ORDER BY model, n_graphs DESC, best_influence, feature
