"""Which store a command means: `--db`, else $CIRCUITBASE_URI, else the user's data directory.
Kept apart from the backends so that reading it imports none of them."""

from __future__ import annotations

import os

from .. import settings

URI_ENV = "CIRCUITBASE_URI"
NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")


def resolve_uri(uri: str | os.PathLike[str] | None = None) -> str:
    """The explicit URI, else $CIRCUITBASE_URI, else the user's data directory."""
    if uri:
        return str(uri)
    return settings.store_uri() or str(settings.default_data_dir())
