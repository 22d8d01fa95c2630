// name: universal_head_roles
// description: Head roles (induction, previous-token, ...) found in every model that has head-role data (optionally of one family, or from one analysis), with each model's heads and their mean relative depth.
// param: min_score: float = 0.5
// param: family: str = null | names: Model.family
// param: analysis: str = null | names: Analysis
// returns: role, model, heads, mean_relative_depth, best_score
// example: circuitbase query run universal_head_roles --param min_score=0.1
MATCH (m:Model)<-[:IN_MODEL]-(:AttentionHead)-[r:HAS_ROLE]->(:HeadRole)
WHERE ($family IS NULL OR m.family = $family) AND ($analysis IS NULL OR r.analysis = $analysis)
WITH collect(DISTINCT m.uid) AS analysed
MATCH (h:AttentionHead)-[r:HAS_ROLE]->(role:HeadRole)
WHERE r.score >= $min_score AND h.model IN analysed AND ($analysis IS NULL OR r.analysis = $analysis)
WITH role, analysed, collect(DISTINCT h.model) AS models
WHERE size(models) = size(analysed)
MATCH (h:AttentionHead)-[r:HAS_ROLE]->(role)
WHERE r.score >= $min_score AND h.model IN analysed AND ($analysis IS NULL OR r.analysis = $analysis)
WITH role, h.model AS model, collect(DISTINCT h.uid) AS heads, avg(h.relative_depth) AS depth,
     max(r.score) AS best
RETURN role.name AS role, model, heads, depth AS mean_relative_depth, best AS best_score
ORDER BY role, model
