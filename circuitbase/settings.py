"""Every environment variable circuitbase reads, in one table, each checked where it is
used: a value that is not what the variable takes is one line naming it.

A variable is read when its value is first needed, not when a module loads (so that a
bad one is reported by the command that needs it, and `--help` needs none), and parsed
once per value it holds: a library user or a test that changes it is heard. Credentials
are read here and passed to the stores; nothing else reads `os.environ`.
"""

from __future__ import annotations

import math
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SettingError


@dataclass(frozen=True)
class Setting:
    """One variable: what it is for, its default, and how its text becomes a value."""

    name: str
    doc: str
    default: Any = None
    parse: Callable[[str, Setting], Any] | None = None  # None: the text as it is

    def value(self) -> Any:
        text = os.environ.get(self.name, "")
        if not text.strip():
            return self.default
        if self.parse is None:
            return text
        key = (self.name, text)
        if key not in _PARSED:
            _PARSED[key] = self.parse(text, self)
        return _PARSED[key]


_PARSED: dict[tuple[str, str], Any] = {}


def _number(low: float, high: float, *, integer: bool = False, what: str = "") -> Callable:
    def parse(text: str, setting: Setting) -> float:
        try:
            value: float = int(text.strip()) if integer else float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            kind = what or ("a whole number" if integer else "a number")
            raise SettingError(
                f"${setting.name} must be {kind} from {low:g} to {high:g}, not {text[:40]!r}"
            )
        return value

    return parse


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("CIRCUITBASE_URI", "the store a command uses when --db is not given"),
        Setting("XDG_DATA_HOME", "where the default store lives (its circuitbase/ folder)"),
        Setting("CIRCUITBASE_ALIASES", "a JSON file of the user's own model aliases"),
        Setting(
            "CIRCUITBASE_QUERY_TIMEOUT", "seconds a query may run", 30.0, _number(0.001, 86_400)
        ),
        Setting(
            "CIRCUITBASE_MAX_ROWS", "rows a query reads", 100_000, _number(1, 10**9, integer=True)
        ),
        Setting(
            "CIRCUITBASE_MAX_RESULT_BYTES",
            "bytes of rows a query reads",
            64 * 2**20,
            _number(1024, 2**40, integer=True),
        ),
        Setting(
            "CIRCUITBASE_MAX_FILE_BYTES",
            "the largest input file (unpacked)",
            1 << 30,
            _number(1, 1 << 50, integer=True),
        ),
        Setting(
            "CIRCUITBASE_INGEST_WORKERS",
            "processes that read an ingest's files (default: one per CPU for large inputs; "
            "1: the command's own process)",
            None,
            _number(1, 256, integer=True),
        ),
        Setting(
            "CIRCUITBASE_QUERY_MEMORY",
            "bytes of the embedded server's memory one query may use",
            4 * 2**30,
            _number(2**20, 2**40, integer=True),
        ),
        Setting(
            "CIRCUITBASE_SERVER_IDLE",
            "seconds the embedded server waits without a client before it stops",
            900.0,
            _number(0, 7 * 86400, what="seconds (0: stop with the last client)"),
        ),
        Setting("NEO4J_USERNAME", "the Neo4j user", "neo4j"),
        Setting("NEO4J_PASSWORD", "the Neo4j password"),
        Setting("NEO4J_DATABASE", "the Neo4j database (the server's default if unset)"),
        Setting(
            "CIRCUITBASE_NEO4J_ADMIN",
            "the neo4j-admin command line an offline import runs (default: "
            "NEO4J_HOME/bin/neo4j-admin)",
            (),
            lambda text, setting: tuple(shlex.split(text)),
        ),
        Setting("FALKORDB_USERNAME", "a FalkorDB server's user"),
        Setting("FALKORDB_PASSWORD", "a FalkorDB server's password"),
        Setting(
            "FALKORDB_TLS_CA_FILE", "the CA file a falkors:// server's certificate is checked with"
        ),
        Setting(
            "HF_ENDPOINT",
            "the Hugging Face hub (as huggingface_hub reads it)",
            "https://huggingface.co",
        ),
        Setting("HTTPS_PROXY", "the proxy on the way to the hub"),
    )
}


def check_all() -> None:
    """Read every variable once: a command refuses a bad one before it starts, whichever
    it would have needed (a library caller meets each only where it is used)."""
    for each in SETTINGS.values():
        each.value()


def setting(name: str) -> Any:
    """The value of one variable of the table (its default when unset or empty)."""
    return SETTINGS[name].value()


def neo4j_admin() -> tuple[str, ...]:
    return tuple(setting("CIRCUITBASE_NEO4J_ADMIN"))


def query_timeout() -> float:
    return float(setting("CIRCUITBASE_QUERY_TIMEOUT"))


def max_rows() -> int:
    return int(setting("CIRCUITBASE_MAX_ROWS"))


def max_result_bytes() -> int:
    return int(setting("CIRCUITBASE_MAX_RESULT_BYTES"))


def max_file_bytes() -> int:
    return int(setting("CIRCUITBASE_MAX_FILE_BYTES"))


def ingest_workers() -> int | None:
    """Processes an ingest reads its files with, where the user set it (None: by size)."""
    value = setting("CIRCUITBASE_INGEST_WORKERS")
    return None if value is None else int(value)


def query_memory_bytes() -> int:
    return int(setting("CIRCUITBASE_QUERY_MEMORY"))


def server_idle_seconds() -> float:
    return float(setting("CIRCUITBASE_SERVER_IDLE"))


def aliases_file() -> str | None:
    return setting("CIRCUITBASE_ALIASES")


def default_data_dir() -> Path:
    """Where the embedded store lives unless told otherwise: $XDG_DATA_HOME/circuitbase."""
    base = setting("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "circuitbase"


def store_uri() -> str | None:
    return setting("CIRCUITBASE_URI")


@dataclass(frozen=True)
class Credentials:
    """What a server asks of a client; passed to the store that connects."""

    username: str | None = None
    password: str | None = None
    database: str | None = None
    ca_file: str | None = None


def neo4j_credentials() -> Credentials:
    return Credentials(
        setting("NEO4J_USERNAME"), setting("NEO4J_PASSWORD"), setting("NEO4J_DATABASE")
    )


def falkordb_credentials() -> Credentials:
    return Credentials(
        setting("FALKORDB_USERNAME"),
        setting("FALKORDB_PASSWORD"),
        ca_file=setting("FALKORDB_TLS_CA_FILE"),
    )


def hub_endpoint() -> str:
    return str(setting("HF_ENDPOINT"))


def https_proxy() -> str | None:
    return setting("HTTPS_PROXY") or os.environ.get("https_proxy") or None
