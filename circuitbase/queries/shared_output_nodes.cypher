// name: shared_output_nodes
// description: Components that are output nodes of the same task in two models, paired by category (e.g. correct-letter heads in both), with their effects and depths.
// param: task: str
// param: model_a: str
// param: model_b: str
// param: same_category: bool = true
// returns: category, a, a_depth, a_direct_effect, b, b_depth, b_direct_effect
// example: circuitbase query run shared_output_nodes --param task=ioi --param model_a=gpt2-small --param model_b=pythia-160m
MATCH (a:Component)-[oa:OUTPUT_NODE]->(t:Task {name: $task})<-[ob:OUTPUT_NODE]-(b:Component)
WHERE a.model = $model_a AND b.model = $model_b
  AND (NOT $same_category OR oa.category = ob.category)
RETURN oa.category AS category, a.uid AS a, a.relative_depth AS a_depth,
       oa.direct_effect AS a_direct_effect, b.uid AS b, b.relative_depth AS b_depth,
       ob.direct_effect AS b_direct_effect
ORDER BY category, a, b
