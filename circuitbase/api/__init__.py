"""The library's public surface for a notebook: `circuitbase.open()` returns a
`KnowledgeBase` (knowledge.py), whose results are `Rows`, `Node` and `Graph`
(results.py); `tables.py` draws rows as the command line prints them."""

from __future__ import annotations

from .knowledge import KnowledgeBase
from .results import Graph, Node, Rows

__all__ = ["Graph", "KnowledgeBase", "Node", "Rows"]
