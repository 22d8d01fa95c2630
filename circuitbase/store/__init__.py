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


def open_store(uri: str | os.PathLike[str] | None = None, *, create: bool = True) -> GraphStore:
    """Open (and for the embedded store, start if needed) the store at `uri`. Without
    `create`, an embedded store that does not exist is an error naming the nearest one
    (a path typed wrong would otherwise answer every question from a new, empty store)."""
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
    path = Path(target.removeprefix("falkordb://"))
    if not create and not is_embedded_store(path):
        raise StoreError(f"no store at {path}{_nearest_store(path)}")
    return GraphStore(FalkorDriver(path))


# files an embedded store's directory holds once anything has used it
_STORE_FILES = ("graph.rdb", "server.json", "falkordb.pid")


def is_embedded_store(path: Path) -> bool:
    """Whether `path` is an embedded store's directory (one a command has created)."""
    try:
        return path.is_dir() and any((path / name).exists() for name in _STORE_FILES)
    except OSError:
        return False


def _nearest_store(path: Path) -> str:
    """'; did you mean X?' for the embedded stores near `path`: its siblings, the store
    in the working directory and the default one (init, ingest or import creates one)."""
    import difflib

    candidates: set[Path] = {settings.default_data_dir(), Path(".circuitbase").absolute()}
    parent = path.absolute().parent
    try:
        candidates |= {p for p in parent.iterdir() if p.is_dir()} if parent.is_dir() else set()
    except OSError:
        pass
    stores = sorted(str(p) for p in candidates if is_embedded_store(p))
    near = difflib.get_close_matches(str(path.absolute()), stores, n=3, cutoff=0.5) or stores[:3]
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    return f"{hint} (only init, demo, ingest, import, model add, similarity compute and analyze create a store)"


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
