// name: features_into_logit
// description: The transcoder features of an attribution graph that reach its target logit along the graph's links (at most 3), most influential first: circuit-tracer's influence is cumulative, so the smaller it is, the more of the output the feature explains. One row per feature node (a feature at one position); hops is its shortest path, direct_weight the weight of its own link into the logit if it has one.
// param: analysis: str = null | names: Analysis
// returns: analysis, target, feature, label, layer, position, node, hops, influence, activation, direct_weight
// example: circuitbase query run features_into_logit --param analysis=attribution-graph/gemma-3-1b-pt/nnsight-123-gemma-3-1b-gemmascope2-16k
MATCH (t:Token)-[o:OUTPUT_NODE]->(:Task)
WHERE o.is_target AND ($analysis IS NULL OR o.analysis = $analysis)
MATCH (t)-[mt:MEASURED_BY {analysis: o.analysis, node_type: 'logit'}]->(:Analysis)
// the graph's nodes one, two and three links upstream of the logit, a level at a time:
// each level holds each node once, however many paths reach it
MATCH (n1)-[e1:CIRCUIT_EDGE {analysis: o.analysis}]->(t)
WHERE split(e1.link, ' -> ')[1] = mt.node
WITH o, t, mt, collect(DISTINCT [n1, split(e1.link, ' -> ')[0]]) AS level1
// each level in a subquery of its own: its lists are not grouping keys of the next one's
// aggregation (hashing a list of hundreds of nodes per row took seconds)
CALL {
  WITH o, level1
  UNWIND level1 AS r1
  WITH o, r1[0] AS n1, r1[1] AS id1
  MATCH (n2)-[e2:CIRCUIT_EDGE {analysis: o.analysis}]->(n1)
  WHERE split(e2.link, ' -> ')[1] = id1
  RETURN collect(DISTINCT [n2, split(e2.link, ' -> ')[0]]) AS level2
}
CALL {
  WITH o, level2
  UNWIND level2 AS r2
  WITH o, r2[0] AS n2, r2[1] AS id2
  MATCH (n3)-[e3:CIRCUIT_EDGE {analysis: o.analysis}]->(n2)
  WHERE split(e3.link, ' -> ')[1] = id2
  RETURN collect(DISTINCT [n3, split(e3.link, ' -> ')[0]]) AS level3
}
UNWIND [r IN level1 | [r[0], r[1], 1]] + [r IN level2 | [r[0], r[1], 2]] +
       [r IN level3 | [r[0], r[1], 3]] AS reached
WITH o, t, mt, reached[0] AS f, reached[1] AS node, min(reached[2]) AS hops
WHERE f:Feature
MATCH (f)-[m:MEASURED_BY {analysis: o.analysis, node: node}]->(:Analysis)
OPTIONAL MATCH (f)-[d:CIRCUIT_EDGE {analysis: o.analysis, link: node + ' -> ' + mt.node}]->(t)
RETURN o.analysis AS analysis, t.text AS target, f.uid AS feature, f.label AS label,
       f.layer AS layer, m.position AS position, node, hops, m.influence AS influence,
       m.activation AS activation, d.weight AS direct_weight
ORDER BY analysis, influence, feature, node, position
