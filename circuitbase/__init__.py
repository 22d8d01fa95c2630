"""circuitbase: a graph knowledge base of language-model components and what
interpretability analyses found about them.

The package, by room (README's Layout section has the full table): `schema` (the
graph's vocabulary), `sources` (one module per foreign file format, producing
records), `ingest` (the one pipeline: plan, then write), `store` (FalkorDB and Neo4j,
and every Cypher statement the library sends), `queries` (the user-facing Cypher
templates), `analyze` (analyses that produce records), `export` (subgraphs, figures,
citations), `api` (`circuitbase.open()`: the object a notebook opens, a method per
command) and `cli` (thin click commands over it and the rest).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .api import KnowledgeBase


def open(  # noqa: A001  # circuitbase.open(), as a notebook spells it
    uri: str | os.PathLike[str] | None = None, *, read_only: bool = False
) -> KnowledgeBase:
    """The knowledge base at `uri` (the command line's rules; $CIRCUITBASE_URI, else the
    default store): `with circuitbase.open() as kb: kb.similar(...)`. See api/knowledge.py."""
    from .api import KnowledgeBase

    return KnowledgeBase.open(uri, read_only=read_only)
