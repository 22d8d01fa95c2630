"""The database clients, loaded without the optional packages they would load for
features circuitbase does not use.

Each client looks for optional packages when it loads, and with the `[analysis]` extra
installed finds them: redis-py loads OpenTelemetry's metrics API and SDK (wandb brings
them) for metrics an application must turn on, which circuitbase never does (76 ms of
every command with the SDK, 20-30 ms more with the API); the Neo4j driver loads numpy, pandas and pyarrow for `Result.to_df()` and
numpy parameters (about 0.6 s), and circuitbase neither asks for data frames nor sends
numpy values (every value is a checked Python scalar or list). Those packages are hidden
while the client loads (it notes them as absent) and visible again afterwards; one that
something loaded before is not hidden.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

REDIS_OPTIONAL = ("opentelemetry",)  # the API as well as the SDK: redis-py loads both if present
NEO4J_OPTIONAL = ("numpy", "pandas", "pyarrow")


def import_without(name: str, optional: tuple[str, ...]) -> ModuleType:
    """`import name`, with the `optional` packages it would load hidden, unless loaded."""
    if name in sys.modules:
        return sys.modules[name]
    hidden = [package for package in optional if package not in sys.modules]
    for package in hidden:
        sys.modules[package] = None  # type: ignore[assignment]  # `import` of it raises ImportError
    try:
        return importlib.import_module(name)
    finally:
        for package in hidden:
            if sys.modules.get(package, 0) is None:
                del sys.modules[package]


def load_falkordb() -> tuple[ModuleType, ModuleType]:
    """(falkordb, redis)."""
    redis = import_without("redis", REDIS_OPTIONAL)
    return import_without("falkordb", REDIS_OPTIONAL), redis


def load_neo4j() -> ModuleType:
    return import_without("neo4j", NEO4J_OPTIONAL)
