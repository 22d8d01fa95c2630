"""Open the graph store a URI names: Neo4j for bolt/neo4j URIs, the embedded FalkorDB otherwise.

The store classes load on first use (`open_store`, or a name below), so that reading
which store is meant imports no backend.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from ..settings import default_data_dir
from .uri import NEO4J_SCHEMES, URI_ENV, resolve_uri

if TYPE_CHECKING:
    from .base import GraphStore

_FROM_BASE = {"GraphStore", "QueryTimeout", "ReadOnlyViolation", "StoreError", "WriteCounts"}


def __getattr__(name: str) -> Any:
    if name not in _FROM_BASE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.base"), name)


def open_store(uri: str | os.PathLike[str] | None = None) -> GraphStore:
    """Open (and for the embedded store, start if needed) the store at `uri`."""
    from .base import GraphStore, StoreError

    target = resolve_uri(uri)
    if target.startswith(NEO4J_SCHEMES):
        from .neo4j_store import Neo4jDriver

        return GraphStore(Neo4jDriver(target, settings.neo4j_credentials()))
    from .falkor import REMOTE_SCHEMES, FalkorDriver

    if target.startswith(REMOTE_SCHEMES):
        return GraphStore(FalkorDriver(target, credentials=settings.falkordb_credentials()))
    if "://" in target and not target.startswith("falkordb://"):
        raise StoreError(
            f"unknown store URI {target!r}: use a directory, falkordb://DIR, "
            f"falkor://HOST:PORT, falkors://HOST:PORT, or one of {', '.join(NEO4J_SCHEMES)}"
        )
    return GraphStore(FalkorDriver(Path(target.removeprefix("falkordb://"))))


__all__ = [
    "GraphStore",
    "QueryTimeout",
    "ReadOnlyViolation",
    "StoreError",
    "WriteCounts",
    "open_store",
    "resolve_uri",
    "default_data_dir",
    "URI_ENV",
]
