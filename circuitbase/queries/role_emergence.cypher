// name: role_emergence
// description: When a head role formed in training: a model's checkpoints (CHECKPOINT_OF) in training order, the final model last, each with its step and tokens, how many heads reach min_score, its strongest head and score, and whether it is the first checkpoint at which any head does. The role is a head role's score (`role`) or a per-head metric as measured (`metric`, e.g. next_tok_attn); `source` keeps analyses whose uid starts with it, so that one measurement is followed across checkpoints (e.g. head-scores/n2048_seqlen30/). Olsson et al. 2022 (arXiv 2209.11895): induction heads form in a phase change early in training.
// param: model: str
// param: role: str = null | names: HeadRole.name
// param: metric: str = null | names: Analysis.profile_metrics
// param: min_score: float = 0.3
// param: source: str = null | starts: Analysis
// choose: role, metric
// returns: checkpoint, step, tokens, heads_with_role, strongest_head, strongest_score, first_with_role
// example: circuitbase query run role_emergence --param model=OLMo-2-1124-7B --param metric=next_tok_attn --param source=head-scores/n2048_seqlen30/
MATCH (final:Model {uid: $model})
OPTIONAL MATCH (c:Model)-[co:CHECKPOINT_OF]->(final)
WITH final, collect(CASE WHEN c IS NULL THEN null
                         ELSE {uid: c.uid, step: co.step, tokens: co.tokens, stage: c.stage, last: 0} END) AS points
UNWIND points + [{uid: final.uid, step: null, tokens: null, stage: null, last: 1}] AS point
MATCH (m:Model {uid: point.uid})
// each head's score at this checkpoint: its best among the analyses kept
OPTIONAL MATCH (m)<-[:IN_MODEL]-(h:AttentionHead)-[r:HAS_ROLE|MEASURED_BY]->(x)
WHERE CASE WHEN $role IS NULL THEN type(r) = 'MEASURED_BY' AND r[$metric] IS NOT NULL
                                   AND coalesce(r.unmeasured, false) = false
           ELSE type(r) = 'HAS_ROLE' AND x.name = $role END
  AND ($source IS NULL OR r.analysis STARTS WITH $source)
WITH point, h, max(CASE WHEN $role IS NULL THEN r[$metric] ELSE r.score END) AS score
ORDER BY score DESC, h.uid
WITH point, collect(CASE WHEN h IS NULL THEN null ELSE {uid: h.uid, name: h.name, score: score} END) AS heads
WITH point, heads, size([x IN heads WHERE x.score >= $min_score]) AS reaching
ORDER BY point.last, coalesce(point.stage, 0), coalesce(point.step, 0), coalesce(point.tokens, 0), point.uid
WITH collect({point: point, heads: heads, reaching: reaching}) AS rows
WITH rows, [i IN range(0, size(rows) - 1) WHERE rows[i].reaching > 0] AS emerged
UNWIND range(0, size(rows) - 1) AS i
RETURN rows[i].point.uid AS checkpoint, rows[i].point.step AS step, rows[i].point.tokens AS tokens,
       rows[i].reaching AS heads_with_role, rows[i].heads[0].name AS strongest_head,
       rows[i].heads[0].score AS strongest_score,
       size(emerged) > 0 AND emerged[0] = i AS first_with_role
ORDER BY i
