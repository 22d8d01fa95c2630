"""circuitbase: a graph knowledge base of language-model components and what
interpretability analyses found about them.

The package, by room (README's Layout section has the full table): `schema` (the
graph's vocabulary), `sources` (one module per foreign file format, producing
records), `ingest` (the one pipeline: plan, then write), `store` (FalkorDB and Neo4j,
and every Cypher statement the library sends), `queries` (the user-facing Cypher
templates), `analyze` (analyses that produce records), `export` (subgraphs, figures,
citations), `cli` (thin click commands over all of it).
"""
