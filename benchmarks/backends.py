"""Which stores a benchmark runs on, and the table that sets their numbers side by side.

Every benchmark takes `--backend falkordb|neo4j|both` (default both). FalkorDB is the
embedded store in a fresh temporary directory (or `--falkordb DIR`); Neo4j is
`--neo4j URI`, else $CIRCUITBASE_TEST_NEO4J_URI, else a Neo4j 5 started here the way
`./test` starts one (tests/neo4j_server/, needs Java 17+ and Maven). A Neo4j database
is emptied before and after the benchmark, so point `--neo4j` at a scratch one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from circuitbase.store import GraphStore, open_store

BACKENDS = ("falkordb", "neo4j")
Rows = list[tuple[str, int, float]]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=[*BACKENDS, "both"],
        default="both",
        help="which store(s) to measure (default: both, one after the other)",
    )
    parser.add_argument(
        "--falkordb",
        metavar="DIR",
        help="embedded store directory (default: a fresh temporary one)",
    )
    parser.add_argument(
        "--neo4j",
        metavar="URI",
        help="a scratch Neo4j (default: $CIRCUITBASE_TEST_NEO4J_URI, else one started here)",
    )


def chosen(args: argparse.Namespace) -> tuple[str, ...]:
    return BACKENDS if args.backend == "both" else (args.backend,)


@contextmanager
def _neo4j_uri(args: argparse.Namespace) -> Iterator[str]:
    uri = args.neo4j or os.environ.get("CIRCUITBASE_TEST_NEO4J_URI")
    if uri:
        yield uri
        return
    from neo4j_server import server

    if reason := server.missing_tools():
        raise SystemExit(f"--backend neo4j: {reason}")
    # The benchmarks write a group's rows in one transaction (the raw ceiling): allow 3 GiB.
    running = server.start(heap="4g", transaction_memory=3 << 30)
    print(f"started Neo4j {running.version} at {running.uri}", file=sys.stderr)
    # where its files are, for benchmarks that report the store's size on disk
    env = {**running.env(), "CIRCUITBASE_BENCH_NEO4J_HOME": str(running.home)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield running.uri
    finally:
        running.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def store_for(backend: str, args: argparse.Namespace) -> Iterator[GraphStore]:
    """An empty store of `backend` with its schema, emptied again afterwards (Neo4j)."""
    with ExitStack() as stack:
        if backend == "neo4j":
            uri = stack.enter_context(_neo4j_uri(args))
        else:
            uri = args.falkordb or str(
                Path(stack.enter_context(tempfile.TemporaryDirectory())) / "db"
            )
        if backend == "falkordb" and not args.falkordb:
            stack.callback(_stop_server, Path(uri))  # its directory goes with the benchmark
        store = stack.enter_context(open_store(uri))
        store.clear()
        store.ensure_schema()
        yield store
        if backend == "neo4j":
            store.clear()


def _stop_server(data_dir: Path) -> None:
    from circuitbase.store.falkor_server import EmbeddedServer

    EmbeddedServer(data_dir).stop()


def print_side_by_side(title: str, results: dict[str, Rows]) -> None:
    """Phases as rows; seconds and rate per backend; the time ratio of the second to the first."""
    backends = list(results)
    table = Table(title=title)
    table.add_column("phase")
    table.add_column("items", justify="right")
    for backend in backends:
        table.add_column(f"{backend} s", justify="right")
        table.add_column(f"{backend} items/s", justify="right")
    if len(backends) == 2:
        table.add_column(f"{backends[1]} / {backends[0]} time", justify="right")
    first = results[backends[0]]
    for i, (phase, items, _) in enumerate(first):
        cells = [phase, f"{items:,}"]
        for backend in backends:
            _, n, seconds = results[backend][i]
            cells += [f"{seconds:.2f}", f"{n / seconds:,.0f}" if seconds else "-"]
        if len(backends) == 2:
            a, b = results[backends[0]][i][2], results[backends[1]][i][2]
            cells.append(f"{b / a:.2f}x" if a else "-")
        table.add_row(*cells)
    Console(width=220).print(table)


def print_latency_side_by_side(
    title: str, results: dict[str, Sequence[tuple[str, int, float, float, int]]]
) -> None:
    """Queries as rows; p50/p95 (ms) and rows per backend; the p50 ratio."""
    backends = list(results)
    table = Table(title=title)
    table.add_column("query")
    for backend in backends:
        for column in ("p50 ms", "p95 ms", "rows"):
            table.add_column(f"{backend} {column}", justify="right")
    if len(backends) == 2:
        table.add_column(f"{backends[1]} / {backends[0]} p50", justify="right")
    for i, (name, *_rest) in enumerate(results[backends[0]]):
        cells = [name]
        for backend in backends:
            _, _, p50, p95, rows = results[backend][i]
            cells += [f"{p50:,.1f}", f"{p95:,.1f}", f"{rows:,}"]
        if len(backends) == 2:
            cells.append(f"{results[backends[1]][i][2] / results[backends[0]][i][2]:.2f}x")
        table.add_row(*cells)
    Console(width=220).print(table)


def print_measures(title: str, results: Mapping[str, Mapping[str, float | None]]) -> None:
    """Measures as rows (each backend's dict, in the first one's order), one column per
    backend; a measure a backend could not take (None) shows as '-'."""
    table = Table(title=title)
    table.add_column("measure")
    for backend in results:
        table.add_column(backend, justify="right")
    for name in next(iter(results.values())):
        table.add_row(
            name, *[("-" if r[name] is None else f"{r[name]:,.1f}") for r in results.values()]
        )
    Console(width=160).print(table)
