"""The writer against one query per row and against the backend's raw ceiling.

Two workloads, each written four ways into an emptied store, in one process:

- components: every neuron and head of a model (pythia-1b by default: 131,072
  neurons, 128 heads) with their IN_MODEL edges, as `circuitbase model add` writes;
- N2G patterns: synthetic neuron graphs of the real shape (see n2g_ingest.py),
  as `circuitbase ingest n2g` writes.

The ways: circuitbase's whole ingest (reading and checking into a plan, then
`write_plan`: batched `UNWIND $rows ... MERGE`, compact rows for a model's
components, then a snapshot), each phase on its own line; one query per row sent
through the raw client, as a hand-written script would (timed on a sample, since all
rows would take minutes); the baseline issue #31 holds the whole ingest to: the same
rows as plain map rows, one raw `UNWIND $rows ... MERGE` per batch, no plan and no
snapshot; and that again with CREATE instead of MERGE (no key look-ups; not
idempotent, so never what circuitbase does), the most a Cypher writer could get out
of the server. Each workload is ingested once untimed first (`warm_up`).

    python benchmarks/writer_throughput.py [--model pythia-1b] [--neurons 2048] [--backend both]
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import backends
from n2g_ingest import SPEC as N2G_SPEC
from n2g_ingest import VOCAB, random_trie

from circuitbase.ingest import Plan, ingest, make_plan, write_plan
from circuitbase.ingest.pipeline import plan_files
from circuitbase.ingest.writer import Statement, plan_statements
from circuitbase.schema.catalog import known_model
from circuitbase.schema.graph import COMPONENT_LABELS, NodeLabel, RelType
from circuitbase.schema.uids import ComponentKind
from circuitbase.sources.models import model_records
from circuitbase.sources.n2g.feature_model_json import encode
from circuitbase.sources.n2g.records import n2g_records
from circuitbase.store import GraphStore, cypher
from circuitbase.store.base import DEFAULT_BATCH_SIZE

RawQuery = Callable[[str, dict[str, Any]], Any]
PER_ROW_SAMPLE = 3000


def raw_client(store: GraphStore) -> RawQuery:
    """The backend's own client, bypassing circuitbase's store layer."""
    if store.backend == "falkordb":
        return lambda cypher, params: store.connection.graph.query(cypher, params)
    return lambda cypher, params: store.connection.driver.execute_query(
        cypher, params, database_=store.connection.database
    )


def fresh(store: GraphStore) -> None:
    store.clear()
    store.ensure_schema()


def map_statements(plan: Plan) -> list[Statement]:
    """The plan's statements with a model's component set spelled out the plain way: a map
    row per component node and per IN_MODEL edge, each written by the general MERGE
    statements (what a hand-written batched script would send)."""
    plain = []
    for statement in plan_statements(plan):
        if "model" not in statement.params:
            plain.append(statement)
            continue
        rows = list(statement.rows())
        label = next(
            label for label in COMPONENT_LABELS if f":{label.value} {{" in statement.cypher
        )
        names = cypher.COMPONENT_ROW
        node_rows = [
            {
                "key": row[0],
                "create": {},
                "props": {
                    "model": statement.params["model"],
                    **{name: value for name, value in zip(names[1:], row[1:]) if value is not None},
                },
            }
            for row in rows
        ]
        edge_rows = [
            {"start": row[0], "end": statement.params["model"], "props": {}} for row in rows
        ]
        plain.append(Statement(cypher.merge_nodes(label), lambda r=node_rows: iter(r), len(rows)))
        plain.append(
            Statement(
                cypher.merge_relationships(RelType.IN_MODEL, label, NodeLabel.MODEL),
                lambda r=edge_rows: iter(r),
                len(rows),
            )
        )
    return plain


def one_per_row(store: GraphStore, plan: Plan) -> tuple[int, float]:
    """Rows per second of single-row queries, on a sample of nodes and of relationships."""
    raw = raw_client(store)
    work = map_statements(plan)
    share = max(1, PER_ROW_SAMPLE // len(work))
    timed_rows, seconds = 0, 0.0
    for statement in work:
        rows = list(statement.rows())
        sample = rows[:share]
        started = time.perf_counter()
        for row in sample:
            raw(statement.cypher, {"rows": [row]})
        seconds += time.perf_counter() - started
        timed_rows += len(sample)
        for start in range(share, len(rows), 10_000):  # the rest untimed, so later ends exist
            raw(statement.cypher, {"rows": rows[start : start + 10_000]})
    return timed_rows, seconds


def create_instead_of_merge(cypher: str) -> str:
    """The same statement without the look-up that makes it idempotent."""
    rewritten = cypher.replace(" ON CREATE SET ", " SET ").replace(" MERGE ", " CREATE ")
    if "MERGE" in rewritten:
        raise ValueError(f"a MERGE left in {rewritten!r}: the bound would be the ceiling")
    return rewritten


def raw_batches(
    store: GraphStore, plan: Plan, rewrite: Callable[[str], str] = str
) -> tuple[int, float]:
    """The same rows as map rows, one raw `UNWIND $rows ... MERGE` per batch (no plan, no
    snapshot): the baseline the whole ingest is held to (issue #31)."""
    raw = raw_client(store)
    work = [
        (rewrite(statement.cypher), list(statement.rows())) for statement in map_statements(plan)
    ]
    started = time.perf_counter()
    for statement, rows in work:
        for first in range(0, len(rows), DEFAULT_BATCH_SIZE):
            raw(statement, {"rows": rows[first : first + DEFAULT_BATCH_SIZE]})
    return plan.node_count + plan.rel_count, time.perf_counter() - started


def warm_up(store: GraphStore, build: Callable[[], Plan], setup: Callable[[], None]) -> None:
    """One untimed ingest first: Neo4j compiles its code paths as they run, and whichever
    way of writing came first ran up to twice as slow as the same rows written later."""
    fresh(store)
    setup()
    with build() as plan:
        write_plan(store, plan)


def compare(
    store: GraphStore, title: str, build: Callable[[], Plan], setup: Callable[[], None]
) -> list[tuple[str, int, float]]:
    results = []
    warm_up(store, build, setup)
    fresh(store)
    setup()
    started = time.perf_counter()
    plan = build()
    rows = plan.node_count + plan.rel_count
    planned = time.perf_counter() - started
    results.append((f"{title}: read and check (build the plan)", rows, planned))
    started = time.perf_counter()
    write_plan(store, plan)
    writer = time.perf_counter() - started
    results.append((f"{title}: circuitbase writer (batched UNWIND + snapshot)", rows, writer))
    results.append((f"{title}: whole ingest (plan + write)", rows, planned + writer))
    fresh(store)
    setup()
    sample, seconds = one_per_row(store, plan)
    results.append((f"{title}: one query per row (raw client, sample)", sample, seconds))
    fresh(store)
    setup()
    rows, baseline = raw_batches(store, plan)
    results.append((f"{title}: raw UNWIND MERGE per batch of map rows (baseline)", rows, baseline))
    fresh(store)
    setup()
    rows, bound = raw_batches(store, plan, create_instead_of_merge)
    results.append((f"{title}: the same, CREATE instead of MERGE (bound)", rows, bound))
    per_row_rate = sample / seconds
    print(
        f"{store.backend}, {title}: whole ingest at {baseline / (planned + writer):.0%} of the "
        f"raw UNWIND MERGE baseline's rows/s (writer alone {baseline / writer:.0%}), "
        f"{rows / writer / per_row_rate:,.0f}x one query per row"
    )
    return results


def n2g_plan_builder(store: GraphStore, folder: Path, neurons: int) -> Callable[[], Plan]:
    rng = random.Random(0)
    ids = {token: i for i, token in enumerate(VOCAB)}
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(neurons):
        (folder / f"{i // 2048}_{i % 2048}.json").write_text(encode(random_trie(rng), ids))
    files = sorted(folder.glob("*.json"))
    return lambda: plan_files(
        store, files, lambda p: n2g_records(p, vocab=VOCAB, model=N2G_SPEC.name)
    )


def run(store: GraphStore, args: argparse.Namespace, tmp: Path) -> list[tuple[str, int, float]]:
    spec = known_model(args.model)
    kinds = {ComponentKind.NEURON, ComponentKind.HEAD}
    rows = compare(
        store, "components", lambda: make_plan(model_records(spec, kinds), store), lambda: None
    )
    build = n2g_plan_builder(store, tmp / "n2g" / N2G_SPEC.name, args.neurons)
    rows += compare(store, "N2G patterns", build, lambda: ingest(store, model_records(N2G_SPEC)))
    fresh(store)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="pythia-1b", help="a catalog model for components")
    parser.add_argument("--neurons", type=int, default=2048, help="N2G graphs to write")
    backends.add_arguments(parser)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends.chosen(args):
            with backends.store_for(backend, args) as store:
                results[backend] = run(store, args, Path(tmp) / backend)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backends.print_side_by_side(
        f"Write throughput: {args.model} components, {args.neurons:,} N2G "
        f"graphs (benchmark process peak RSS {peak_mb:,.0f} MB)",
        results,
    )


if __name__ == "__main__":
    main()
