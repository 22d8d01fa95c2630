"""Open the graph store a URI names: Neo4j for bolt/neo4j URIs, the embedded FalkorDB otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from .base import GraphStore, QueryTimeout, ReadOnlyViolation, StoreError, WriteCounts
from .neo4j_store import NEO4J_SCHEMES

URI_ENV = "CIRCUITBASE_URI"


def default_data_dir() -> Path:
    """Where the embedded store lives unless told otherwise: $XDG_DATA_HOME/circuitbase."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "circuitbase"


def resolve_uri(uri: str | os.PathLike[str] | None = None) -> str:
    """The explicit URI, else $CIRCUITBASE_URI, else the user's data directory."""
    if uri:
        return str(uri)
    return os.environ.get(URI_ENV) or str(default_data_dir())


def open_store(uri: str | os.PathLike[str] | None = None) -> GraphStore:
    """Open (and for the embedded store, start if needed) the store at `uri`."""
    target = resolve_uri(uri)
    if target.startswith(NEO4J_SCHEMES):
        from .neo4j_store import Neo4jStore

        return Neo4jStore(target)
    from .falkor import REMOTE_SCHEMES, FalkorStore

    if target.startswith(REMOTE_SCHEMES):
        return FalkorStore(target)
    if "://" in target and not target.startswith("falkordb://"):
        raise StoreError(f"unknown store URI {target!r}: use a directory, falkordb://DIR, "
                         f"falkor://HOST:PORT, falkors://HOST:PORT, or one of {', '.join(NEO4J_SCHEMES)}")
    return FalkorStore(Path(target.removeprefix("falkordb://")))


__all__ = ["GraphStore", "QueryTimeout", "ReadOnlyViolation", "StoreError", "WriteCounts", "open_store",
           "resolve_uri", "URI_ENV"]
