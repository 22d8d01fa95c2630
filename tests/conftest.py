"""Fixtures: a real FalkorDB started by the project, and Neo4j when a test URI is given.

Every test that takes `store` runs once per available backend. The Neo4j run
needs CIRCUITBASE_TEST_NEO4J_URI (plus NEO4J_USERNAME / NEO4J_PASSWORD); the
database behind it is wiped before each test, so point it at a scratch one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from circuitbase.store import GraphStore, open_store

NEO4J_ENV = "CIRCUITBASE_TEST_NEO4J_URI"
DATA = Path(__file__).parent / "data"


def _backends() -> list:
    neo4j = pytest.param("neo4j", marks=pytest.mark.skipif(
        not os.environ.get(NEO4J_ENV),
        reason=f"Neo4j tests need {NEO4J_ENV} (e.g. bolt://localhost:7687 from docker/compose.yaml)"))
    return ["falkordb", neo4j]


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


@pytest.fixture(params=_backends())
def store(request: pytest.FixtureRequest, falkor_dir: Path,
          _session_stores: dict[str, GraphStore]) -> GraphStore:
    """An empty store with the schema in place, on each backend."""
    backend = request.param
    if backend not in _session_stores:
        uri = os.environ[NEO4J_ENV] if backend == "neo4j" else str(falkor_dir)
        _session_stores[backend] = open_store(uri)
        _session_stores[backend].ensure_schema()
    current = _session_stores[backend]
    current.clear()
    return current


@pytest.fixture
def store_uri(store: GraphStore) -> str:
    """The URI of `store`, for CLI tests that open the same store in the command."""
    return store.location


@pytest.fixture
def data() -> Path:
    return DATA
