"""Which store a command means: `--db`, else $CIRCUITBASE_URI, else the user's data directory.
Kept apart from the backends so that reading it imports none of them."""

from __future__ import annotations

import os
from pathlib import Path

URI_ENV = "CIRCUITBASE_URI"
NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")


def default_data_dir() -> Path:
    """Where the embedded store lives unless told otherwise: $XDG_DATA_HOME/circuitbase."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "circuitbase"


def resolve_uri(uri: str | os.PathLike[str] | None = None) -> str:
    """The explicit URI, else $CIRCUITBASE_URI, else the user's data directory."""
    if uri:
        return str(uri)
    return os.environ.get(URI_ENV) or str(default_data_dir())
