"""The bulk path against the writer, building the scale store's components (issue #32).

Every component of pythia-6.9b, llama-2-7b and pythia-2.8b (1.2 million: their MLP
neurons, heads and layers, as `scale_queries.py` builds them) with their IN_MODEL edges,
in one ingest into an empty store, once through the writer (MERGE statements) and once
through the backend's bulk loader: FalkorDB's GRAPH.BULK into the embedded store, and on
Neo4j the offline importer into a new database, then a Neo4j started on it and
`circuitbase init` (constraints, indexes, summaries). Times are wall clock, end to end
(reading and checking included); the two stores are then compared by their counts.

    python benchmarks/bulk_load.py [--models pythia-6.9b,llama-2-7b,pythia-2.8b] [--backend both]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import backends
from neo4j_server import server as neo4j_server
from rich.console import Console
from rich.table import Table

from circuitbase.ingest import ingest, ingest_offline
from circuitbase.ingest.pipeline import records_in
from circuitbase.schema.catalog import known_model
from circuitbase.schema.uids import ComponentKind
from circuitbase.sources.models import model_records
from circuitbase.store import GraphStore, open_store
from circuitbase.store.falkor_server import EmbeddedServer
from circuitbase.store.neo4j_import import OfflineNeo4j

MODELS = ("pythia-6.9b", "llama-2-7b", "pythia-2.8b")
KINDS = frozenset(ComponentKind) - {ComponentKind.FEATURE}


def records(models: list[str]) -> list:
    found = []
    for name in models:
        found += model_records(known_model(name), KINDS)
    return found


def counts(store: GraphStore) -> tuple[int, int]:
    nodes = store.read("MATCH (n) RETURN count(n) AS n")[0]["n"]
    rels = store.read("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    return nodes, rels


def timed(run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def falkordb(models: list[str]) -> tuple[float, float, tuple, tuple]:
    folder = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    try:
        writer, bulk = open_store(folder / "writer"), open_store(folder / "bulk")
        written, _ = timed(lambda: ingest(writer, records(models), bulk=False))
        loaded, _ = timed(lambda: ingest(bulk, records(models), bulk=True))
        result = (written, loaded, counts(writer), counts(bulk))
        for store, name in ((writer, "writer"), (bulk, "bulk")):
            store.close()
            EmbeddedServer(folder / name).stop()
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def neo4j(models: list[str], writer: GraphStore) -> tuple[float, float, tuple, tuple, str]:
    writer.clear()
    written, _ = timed(lambda: ingest(writer, records(models), bulk=False))
    written_counts = counts(writer)
    writer.clear()
    home = Path(tempfile.mkdtemp(prefix="bulk-bench-neo4j-"))
    target = OfflineNeo4j(home / "dbms", admin=tuple(neo4j_server.admin_command() or ()))
    started = time.perf_counter()
    imported, _ = timed(lambda: ingest_offline(target, records(models)))
    server = neo4j_server.start(heap="4g", home=home)
    saved = {k: os.environ.get(k) for k in ("NEO4J_USERNAME", "NEO4J_PASSWORD")}
    os.environ.update({"NEO4J_USERNAME": server.username, "NEO4J_PASSWORD": server.password})
    try:
        loaded_store = open_store(server.uri)
        loaded_store.prepare_for_writes()  # what `circuitbase init` does
        total = time.perf_counter() - started
        loaded_counts = counts(loaded_store)
        loaded_store.close()
    finally:
        server.stop()
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value
    note = f"import {imported:.0f} s, then start and init {total - imported:.0f} s"
    return written, total, written_counts, loaded_counts, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    backends.add_arguments(parser)
    args = parser.parse_args()
    models = args.models.split(",")
    rows = sum(map(records_in, records(models)))
    table = Table(title=f"{rows:,} components and their IN_MODEL edges, into an empty store")
    for column in ("backend", "writer", "bulk path", "speed-up", "same counts", "note"):
        table.add_column(column)
    for backend in backends.chosen(args):
        if backend == "falkordb":
            written, loaded, a, b = falkordb(models)
            note = "GRAPH.BULK, indexes after"
        else:
            with backends.store_for("neo4j", args) as store:
                written, loaded, a, b, note = neo4j(models, store)
        table.add_row(
            backend,
            f"{written:.1f} s",
            f"{loaded:.1f} s",
            f"{written / loaded:.1f}x",
            "yes" if a == b else f"no: {a} vs {b}",
            note,
        )
    Console().print(table)


if __name__ == "__main__":
    main()
