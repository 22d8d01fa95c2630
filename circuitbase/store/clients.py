"""The FalkorDB and redis clients, loaded without OpenTelemetry's SDK.

redis-py loads OpenTelemetry's metrics SDK whenever it is installed (the `[analysis]`
extra brings it, through wandb) for metrics it only records once an application turns
them on, which circuitbase never does: 76 ms of every command's start on these
machines, a quarter of a warm `similar`. The SDK is hidden while redis loads (redis
then notes it as absent) and visible again afterwards; where something loaded it before,
nothing is hidden.
"""

from __future__ import annotations

import sys

_SDK = "opentelemetry.sdk.metrics"


def _load() -> None:
    hide = _SDK not in sys.modules and "redis" not in sys.modules
    if hide:
        sys.modules[_SDK] = None  # type: ignore[assignment]  # `import` of it raises ImportError
    try:
        import falkordb  # noqa: F401
        import redis  # noqa: F401
    finally:
        if hide and sys.modules.get(_SDK, 0) is None:
            del sys.modules[_SDK]


_load()

import falkordb  # noqa: E402
import redis  # noqa: E402

__all__ = ["falkordb", "redis"]
