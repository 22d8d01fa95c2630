// name: shared_output_nodes
// description: Components that are output nodes of the same task in two models, paired by category (e.g. correct-letter heads in both), with their effects and depths.
// param: task: str | names: Task.name
// param: model_a: str
// param: model_b: str
// param: same_category: bool = true
// returns: category, a, a_depth, a_direct_effect, b, b_depth, b_direct_effect
// example: circuitbase query run shared_output_nodes --param task=ioi --param model_a=gpt2-small --param model_b=pythia-160m
// From the task, which is indexed; ends unlabelled, else FalkorDB scans every component.
MATCH (t:Task {name: $task})<-[oa:OUTPUT_NODE]-(a)
WHERE a.model = $model_a
MATCH (t)<-[ob:OUTPUT_NODE]-(b)
WHERE b.model = $model_b AND (NOT $same_category OR oa.category = ob.category)
RETURN oa.category AS category, a.uid AS a, a.relative_depth AS a_depth,
       oa.direct_effect AS a_direct_effect, b.uid AS b, b.relative_depth AS b_depth,
       ob.direct_effect AS b_direct_effect
ORDER BY category, a, b, a_direct_effect, b_direct_effect
