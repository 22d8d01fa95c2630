// name: features_into_logit
// description: The transcoder features of an attribution graph that reach its target logit along the graph's links (at most 3), most influential first: circuit-tracer's influence is cumulative, so the smaller it is, the more of the output the feature explains. One row per feature node (a feature at one position); hops is its shortest path, direct_weight the weight of its own link into the logit if it has one.
// param: analysis: str = null | names: Analysis
// returns: analysis, target, feature, label, layer, position, node, hops, influence, activation, direct_weight
// example: circuitbase query run features_into_logit --param analysis=attribution-graph/gemma-3-1b-pt/nnsight-123-gemma-3-1b-gemmascope2-16k
MATCH (t:Token)-[o:OUTPUT_NODE]->(:Task)
WHERE o.is_target AND ($analysis IS NULL OR o.analysis = $analysis)
MATCH (t)-[mt:MEASURED_BY {analysis: o.analysis, node_type: 'logit'}]->(:Analysis)
MATCH p = (f:Feature)-[:CIRCUIT_EDGE*1..3]->(t)
WITH o, t, mt, f, relationships(p) AS links
WHERE all(e IN links WHERE e.analysis = o.analysis)
  AND split(links[size(links) - 1].link, ' -> ')[1] = mt.node
  AND all(i IN range(0, size(links) - 2)
          WHERE split(links[i].link, ' -> ')[1] = split(links[i + 1].link, ' -> ')[0])
WITH o, t, mt, f, split(links[0].link, ' -> ')[0] AS node, min(size(links)) AS hops
MATCH (f)-[m:MEASURED_BY {analysis: o.analysis, node: node}]->(:Analysis)
OPTIONAL MATCH (f)-[d:CIRCUIT_EDGE {analysis: o.analysis, link: node + ' -> ' + mt.node}]->(t)
RETURN o.analysis AS analysis, t.text AS target, f.uid AS feature, f.label AS label,
       f.layer AS layer, m.position AS position, node, hops, m.influence AS influence,
       m.activation AS activation, d.weight AS direct_weight
ORDER BY analysis, influence, feature, node
