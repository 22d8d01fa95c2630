"""The graph's vocabulary: ids, node and relationship models, records, allow-lists."""

from .graph import NodeLabel, RelType, labels_of, label_clause, NODE_KEY, REL_KEY
from .nodes import (Analysis, Component, Concept, HeadRole, ModelSpec, Task, Token,
                    content_hash)
from .records import NodeRecord, NodeRef, RecordError, RelRecord, node, ref, rel
from .relationships import (ActivatesOn, CircuitEdge, Encodes, HasRole, OutputNode,
                            SimilarTo)
from .uids import ComponentKind, ComponentUid, UidError, parse_component

__all__ = [
    "ActivatesOn", "Analysis", "CircuitEdge", "Component", "ComponentKind", "ComponentUid",
    "Concept", "Encodes", "HasRole", "HeadRole", "ModelSpec", "NODE_KEY", "NodeLabel",
    "NodeRecord", "NodeRef", "OutputNode", "REL_KEY", "RecordError", "RelRecord", "RelType",
    "SimilarTo", "Task", "Token", "UidError", "content_hash", "label_clause",
    "labels_of", "node", "parse_component", "ref", "rel",
]
