"""The graph's vocabulary: ids, node and relationship models, records, allow-lists.

The names below are loaded from their modules on first use, so that code needing only
the allow-lists or uids (a quick query) does not build every pydantic model.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "graph": [
        "NodeLabel",
        "RelType",
        "RelSpec",
        "define_rel_type",
        "rel_spec",
        "labels_of",
        "label_clause",
        "NODE_KEY",
    ],
    "nodes": [
        "Analysis",
        "Component",
        "Concept",
        "HeadRole",
        "ModelSpec",
        "Task",
        "Token",
        "content_hash",
    ],
    "records": ["NodeRecord", "NodeRef", "RecordError", "RelRecord", "node", "ref", "rel"],
    "relationships": [
        "ActivatesOn",
        "CircuitEdge",
        "Encodes",
        "HasRole",
        "OutputNode",
        "SimilarTo",
    ],
    "uids": ["ComponentKind", "ComponentUid", "UidError", "parse_component"],
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


__all__ = sorted(_MODULE_OF)
