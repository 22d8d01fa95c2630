"""Fixtures: a real FalkorDB and a real Neo4j 5, both started by the project.

Every test that takes `store` runs once per backend. Neo4j comes from
CIRCUITBASE_TEST_NEO4J_URI (plus NEO4J_USERNAME / NEO4J_PASSWORD) when that is set;
otherwise the run starts its own (`tests/neo4j_server/`) when Java 17+ and Maven
are on the machine, and stops it at the end. Without Java or Maven the Neo4j
variants are skipped, with the reason in the summary; with them, a Neo4j that does
not start fails the run. The database behind the URI is wiped before each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j_server import server as neo4j_server

from circuitbase.store import GraphStore, open_store

NEO4J_ENV = "CIRCUITBASE_TEST_NEO4J_URI"
# Embedded servers stay warm between commands, as for users, but stop soon after the
# tests that used their (temporary) stores have moved on.
os.environ.setdefault("CIRCUITBASE_SERVER_IDLE", "15")
DATA = Path(__file__).parent / "data"
_started: dict[str, neo4j_server.Neo4jServer] = {}
# `./test` runs two pytest-xdist workers on these two cores: torch's threads in each would
# wait on the other's (the heads analysis ran six times slower), so each keeps one.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _parallel(config: pytest.Config) -> bool:
    """Whether this process hands the tests to pytest-xdist workers (`-n N`)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """Start the test Neo4j before collection, so every test (and every CLI subprocess)
    sees its URI and credentials in the environment. Under pytest-xdist each worker starts
    its own: a Neo4j Community server holds one database, which each test empties."""
    if os.environ.get(NEO4J_ENV):
        if _parallel(config) and config.option.numprocesses > 1:
            raise pytest.UsageError(f"{NEO4J_ENV} is one database: run its tests with -n 0")
        return
    if _parallel(config):
        return
    try:
        server = neo4j_server.start()
    except neo4j_server.Neo4jUnavailable as err:
        raise pytest.UsageError(str(err)) from err
    if server is not None:
        _started["neo4j"] = server
        os.environ.update(server.env())


def pytest_unconfigure(config: pytest.Config) -> None:
    if server := _started.pop("neo4j", None):
        server.stop()


def pytest_report_header(config: pytest.Config) -> str:
    if _parallel(config) and not os.environ.get(NEO4J_ENV):
        return "neo4j: each worker starts its own (authentication on)"
    if server := _started.get("neo4j"):
        return f"neo4j: {server.version} started for this run at {server.uri} (authentication on)"
    if os.environ.get(NEO4J_ENV):
        return f"neo4j: {os.environ[NEO4J_ENV]} (from {NEO4J_ENV})"
    return f"neo4j: not started: {neo4j_server.missing_tools()}"


def skip_without_neo4j() -> None:
    """Decided when a test runs, after pytest_configure had its chance to start one."""
    if not os.environ.get(NEO4J_ENV):
        pytest.skip(
            f"{neo4j_server.missing_tools()}; or set {NEO4J_ENV} "
            "(e.g. bolt://localhost:7687 from docker/compose.yaml)"
        )


@pytest.fixture(scope="session")
def falkor_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("falkordb")


@pytest.fixture(scope="session")
def _session_stores(falkor_dir: Path) -> Iterator[dict[str, GraphStore]]:
    """One connection per backend for the whole session; the FalkorDB server starts once."""
    stores: dict[str, GraphStore] = {}
    yield stores
    for store in stores.values():
        store.close()


def empty_store(backend: str, falkor_dir: Path, stores: dict[str, GraphStore]) -> GraphStore:
    """The session's store of `backend`, emptied, with the schema in place."""
    if backend == "neo4j":
        skip_without_neo4j()
    if backend not in stores:
        uri = os.environ[NEO4J_ENV] if backend == "neo4j" else str(falkor_dir)
        stores[backend] = open_store(uri)
        stores[backend].ensure_schema()
    current = stores[backend]
    current.clear()
    return current


@pytest.fixture(params=["falkordb", "neo4j"])
def store(
    request: pytest.FixtureRequest, falkor_dir: Path, _session_stores: dict[str, GraphStore]
) -> GraphStore:
    """An empty store with the schema in place, on each backend."""
    return empty_store(request.param, falkor_dir, _session_stores)


@pytest.fixture
def store_uri(store: GraphStore) -> str:
    """The URI of `store`, for CLI tests that open the same store in the command."""
    return store.location


@pytest.fixture
def data() -> Path:
    return DATA
