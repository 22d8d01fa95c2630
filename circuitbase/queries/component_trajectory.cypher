// name: component_trajectory
// description: A component over training: its every stored score (a role's or any fact's score, and every metric an analysis measured on it) at each checkpoint of its model (CHECKPOINT_OF) in training order, the final model last. The component is named in the final model or in any checkpoint; `source` keeps analyses whose uid starts with it.
// param: uid: str | names: Component
// param: source: str = null | starts: Analysis
// returns: checkpoint, step, tokens, measure, about, score, analysis
// example: circuitbase query run component_trajectory --param uid=OLMo-2-1124-7B/L9/H2 --param source=head-scores/n2048_seqlen30/
// (each component label looked up by its uid index: an unlabelled lookup reads every node)
OPTIONAL MATCH (n:Neuron {uid: $uid})
OPTIONAL MATCH (h:AttentionHead {uid: $uid})
OPTIONAL MATCH (f:Feature {uid: $uid})
OPTIONAL MATCH (mlp:MLP {uid: $uid})
OPTIONAL MATCH (att:Attention {uid: $uid})
WITH coalesce(n, h, f, mlp, att) AS given
MATCH (given)-[:IN_MODEL]->(own:Model)
OPTIONAL MATCH (own)-[:CHECKPOINT_OF]->(up:Model)
WITH given, own, coalesce(up, own) AS final
OPTIONAL MATCH (c:Model)-[co:CHECKPOINT_OF]->(final)
WITH given, own, final, collect(CASE WHEN c IS NULL THEN null
                         ELSE {uid: c.uid, step: co.step, tokens: co.tokens, stage: c.stage, last: 0} END) AS points
UNWIND points + [{uid: final.uid, step: null, tokens: null, stage: null, last: 1}] AS point
// the same component in that checkpoint: its uid with the model's name swapped
WITH point, point.uid + substring(given.uid, size(own.uid)) AS uid
OPTIONAL MATCH (n:Neuron {uid: uid})
OPTIONAL MATCH (h:AttentionHead {uid: uid})
OPTIONAL MATCH (f:Feature {uid: uid})
OPTIONAL MATCH (mlp:MLP {uid: uid})
OPTIONAL MATCH (att:Attention {uid: uid})
WITH point, coalesce(n, h, f, mlp, att) AS x
MATCH (x)-[r]->(target)
WHERE (r.score IS NOT NULL OR type(r) = 'MEASURED_BY')
  AND ($source IS NULL OR r.analysis STARTS WITH $source)
  AND coalesce(r.unmeasured, false) = false
UNWIND CASE WHEN type(r) = 'MEASURED_BY'
            THEN [k IN keys(r) WHERE NOT k IN ['analysis', 'node', 'unmeasured'] AND NOT k STARTS WITH 'profile_']
            ELSE ['score'] END AS key
RETURN point.uid AS checkpoint, point.step AS step, point.tokens AS tokens,
       CASE WHEN type(r) = 'MEASURED_BY' THEN key ELSE type(r) END AS measure,
       CASE WHEN type(r) = 'MEASURED_BY' THEN null ELSE coalesce(target.name, target.uid) END AS about,
       r[key] AS score, r.analysis AS analysis
ORDER BY point.last, coalesce(point.stage, 0), coalesce(point.step, 0), coalesce(point.tokens, 0),
         checkpoint, measure, about, analysis
