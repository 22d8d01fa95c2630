// name: roles_after_fine_tuning
// description: The heads of a base model with a role (score >= min_score) and the same head (layer and index) in each model fine-tuned from it (FINE_TUNED_FROM): its score there, the change, and whether it keeps the role. Scores are compared within one method; `source` keeps analyses whose uid starts with it.
// param: role: str = induction | names: HeadRole.name
// param: min_score: float = 0.1
// param: source: str = null | starts: Analysis
// param: model: str = null
// returns: tuned_model, base_model, head, relative_depth, base_score, tuned_score, change, keeps_role
// example: circuitbase query run roles_after_fine_tuning --param role=previous-token --param model=gemma-2-2b-it
MATCH (tuned:Model)-[:FINE_TUNED_FROM]->(base:Model)
WHERE $model IS NULL OR tuned.uid = $model OR base.uid = $model
MATCH (base)<-[:IN_MODEL]-(hb:AttentionHead)-[rb:HAS_ROLE]->(:HeadRole {name: $role})
WHERE rb.score >= $min_score AND ($source IS NULL OR rb.analysis STARTS WITH $source)
// the same head of the tuned model: its uid is the base head's with the model's name
// swapped, computed first so that it is looked up by the uid index; and its role is
// reached from that head (from the role, the planner would walk every head's edge to it)
WITH tuned, base, hb, rb, tuned.uid + substring(hb.uid, size(base.uid)) AS tuned_uid
MATCH (ht:AttentionHead {uid: tuned_uid})-[rt:HAS_ROLE]->(same_role)
WHERE same_role.name = $role AND coalesce(rt.method, '') = coalesce(rb.method, '')
RETURN tuned.uid AS tuned_model, base.uid AS base_model, hb.name AS head,
       hb.relative_depth AS relative_depth, rb.score AS base_score, rt.score AS tuned_score,
       rt.score - rb.score AS change, rt.score >= $min_score AS keeps_role
ORDER BY tuned_model, base_score DESC, head, base_model, tuned_score
