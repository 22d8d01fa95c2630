// name: heads_over_training
// description: For each head with a role in the final model (score >= min_score), when it got it: the first checkpoint of the model's (CHECKPOINT_OF, in training order, the final model last) at which the same head (layer and index) reached min_score, and whether it kept it at every later checkpoint measured. The role is a head role's score (`role`) or a per-head metric as measured (`metric`); `source` keeps analyses whose uid starts with it (one measurement across checkpoints).
// param: model: str
// param: role: str = null | names: HeadRole.name
// param: metric: str = null | names: Analysis.profile_metrics
// param: min_score: float = 0.3
// param: source: str = null | starts: Analysis
// choose: role, metric
// returns: head, final_score, first_checkpoint, first_step, first_tokens, kept, checkpoints_measured
// example: circuitbase query run heads_over_training --param model=OLMo-2-1124-7B --param metric=next_tok_attn --param source=head-scores/n2048_seqlen30/
MATCH (final:Model {uid: $model})<-[:IN_MODEL]-(h:AttentionHead)-[r:HAS_ROLE|MEASURED_BY]->(x)
WHERE CASE WHEN $role IS NULL THEN type(r) = 'MEASURED_BY' AND r[$metric] IS NOT NULL
                                   AND coalesce(r.unmeasured, false) = false
           ELSE type(r) = 'HAS_ROLE' AND x.name = $role END
  AND ($source IS NULL OR r.analysis STARTS WITH $source)
WITH final, h, max(CASE WHEN $role IS NULL THEN r[$metric] ELSE r.score END) AS final_score
WHERE final_score >= $min_score
OPTIONAL MATCH (c:Model)-[co:CHECKPOINT_OF]->(final)
WITH final, h, final_score, collect(CASE WHEN c IS NULL THEN null
                         ELSE {uid: c.uid, step: co.step, tokens: co.tokens, stage: c.stage, last: 0} END) AS points
UNWIND points + [{uid: final.uid, step: null, tokens: null, stage: null, last: 1}] AS point
// the same head at that checkpoint: its uid with the model's name swapped
WITH h, final_score, point, point.uid + substring(h.uid, size(final.uid)) AS uid
MATCH (same:AttentionHead {uid: uid})-[r:HAS_ROLE|MEASURED_BY]->(x)
WHERE CASE WHEN $role IS NULL THEN type(r) = 'MEASURED_BY' AND r[$metric] IS NOT NULL
                                   AND coalesce(r.unmeasured, false) = false
           ELSE type(r) = 'HAS_ROLE' AND x.name = $role END
  AND ($source IS NULL OR r.analysis STARTS WITH $source)
WITH h, final_score, point, max(CASE WHEN $role IS NULL THEN r[$metric] ELSE r.score END) AS score
ORDER BY point.last, coalesce(point.stage, 0), coalesce(point.step, 0), coalesce(point.tokens, 0), point.uid
WITH h, final_score, collect({point: point, reached: score >= $min_score}) AS track
WITH h, final_score, track, [i IN range(0, size(track) - 1) WHERE track[i].reached][0] AS first
RETURN h.name AS head, final_score, track[first].point.uid AS first_checkpoint,
       track[first].point.step AS first_step, track[first].point.tokens AS first_tokens,
       all(i IN range(first, size(track) - 1) WHERE track[i].reached) AS kept,
       size(track) AS checkpoints_measured
ORDER BY final_score DESC, head
