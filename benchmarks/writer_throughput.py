"""The writer against one query per row and against the backend's raw ceiling.

Two workloads, each written three ways into an emptied store, in one process:

- components: every neuron and head of a model (pythia-1b by default: 131,072
  neurons, 128 heads) with their IN_MODEL edges, as `circuitbase model add` writes;
- N2G patterns: synthetic neuron graphs of the real shape (see n2g_ingest.py),
  as `circuitbase ingest n2g` writes.

The ways: circuitbase's writer (`write_plan`: batched `UNWIND $rows ... MERGE`,
then a snapshot); one query per row sent through the raw client, as a
hand-written script would (timed on a sample, since all rows would take
minutes); and the raw client with one `UNWIND` over all rows of a group, the
same MERGE statements with no batching and no snapshot: the ceiling. A last
line sends the writer's batches with CREATE instead of MERGE (no key look-ups;
not idempotent, so never what circuitbase does): the most any Cypher writer
could get out of the server, which bounds how many times faster than one query
per row a writer can be. Validation (building the plan) is timed on its own line.

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

from circuitbase.sources.models import model_records
from circuitbase.sources.n2g.records import n2g_records
from circuitbase.ingest.plan import Plan, make_plan
from circuitbase.ingest.pipeline import plan_files
from circuitbase.ingest import ingest, write_plan
from circuitbase.ingest.writer import plan_statements
from circuitbase.sources.n2g.feature_model_json import encode
from circuitbase.schema.catalog import known_model
from circuitbase.schema.uids import ComponentKind
import backends
from circuitbase.store import GraphStore
from n2g_ingest import SPEC as N2G_SPEC, VOCAB, random_trie

RawQuery = Callable[[str, dict[str, Any]], Any]
PER_ROW_SAMPLE = 3000


def raw_client(store: GraphStore) -> RawQuery:
    """The backend's own client, bypassing circuitbase's store layer."""
    if store.backend == "falkordb":
        return lambda cypher, params: store.graph.query(cypher, params)
    return lambda cypher, params: store.driver.execute_query(cypher, params,
                                                             database_=store.database)


def fresh(store: GraphStore) -> None:
    store.clear()
    store.ensure_schema()


def one_per_row(store: GraphStore, plan: Plan) -> tuple[int, float]:
    """Rows per second of single-row queries, on a sample of nodes and of relationships."""
    raw = raw_client(store)
    work = plan_statements(plan)
    share = max(1, PER_ROW_SAMPLE // len(work))
    timed_rows, seconds = 0, 0.0
    for cypher, read_rows, _ in work:
        rows = list(read_rows())
        sample = rows[:share]
        started = time.perf_counter()
        for row in sample:
            raw(cypher, {"rows": [row]})
        seconds += time.perf_counter() - started
        timed_rows += len(sample)
        for start in range(share, len(rows), 10_000):  # the rest untimed, so later ends exist
            raw(cypher, {"rows": rows[start:start + 10_000]})
    return timed_rows, seconds


def create_instead_of_merge(cypher: str) -> str:
    """The same statement without the look-up that makes it idempotent."""
    rewritten = cypher.replace(" ON CREATE SET ", " SET ").replace(" MERGE ", " CREATE ")
    if "MERGE" in rewritten:
        raise ValueError(f"a MERGE left in {rewritten!r}: the bound would be the ceiling")
    return rewritten


def one_big_batch(store: GraphStore, plan: Plan) -> tuple[int, float]:
    raw = raw_client(store)
    started = time.perf_counter()
    for cypher, rows, _ in plan_statements(plan):
        raw(cypher, {"rows": list(rows())})
    return plan.node_count + plan.rel_count, time.perf_counter() - started


def batched_creates(store: GraphStore, plan: Plan) -> tuple[int, float]:
    """The writer's batches, with every MERGE made a CREATE."""
    started = time.perf_counter()
    for cypher, rows, _ in plan_statements(plan):
        store.write_rows(create_instead_of_merge(cypher), rows())
    return plan.node_count + plan.rel_count, time.perf_counter() - started


def compare(store: GraphStore, title: str, build: Callable[[], Plan],
            setup: Callable[[], None]) -> list[tuple[str, int, float]]:
    results = []
    fresh(store)
    setup()
    started = time.perf_counter()
    plan = build()
    rows = plan.node_count + plan.rel_count
    results.append((f"{title}: validate (build the plan)", rows, time.perf_counter() - started))
    started = time.perf_counter()
    write_plan(store, plan)
    writer = time.perf_counter() - started
    results.append((f"{title}: circuitbase writer (batched UNWIND + snapshot)", rows, writer))
    fresh(store)
    setup()
    sample, seconds = one_per_row(store, plan)
    results.append((f"{title}: one query per row (raw client, sample)", sample, seconds))
    fresh(store)
    setup()
    rows, ceiling = one_big_batch(store, plan)
    results.append((f"{title}: raw client, one UNWIND per group (ceiling)", rows, ceiling))
    fresh(store)
    setup()
    rows, bound = batched_creates(store, plan)
    results.append((f"{title}: writer's batches, CREATE instead of MERGE (bound)", rows, bound))
    per_row_rate = sample / seconds
    print(f"{store.backend}, {title}: writer at {ceiling / writer:.0%} of the ceiling, "
          f"{rows / writer / per_row_rate:,.0f}x one query per row; no Cypher writer could be more "
          f"than {rows / bound / per_row_rate:,.0f}x (CREATE without MERGE)")
    return results


def n2g_plan_builder(store: GraphStore, folder: Path, neurons: int) -> Callable[[], Plan]:
    rng = random.Random(0)
    ids = {token: i for i, token in enumerate(VOCAB)}
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(neurons):
        (folder / f"{i // 2048}_{i % 2048}.json").write_text(encode(random_trie(rng), ids))
    files = sorted(folder.glob("*.json"))
    return lambda: plan_files(store, files, lambda p: n2g_records(p, vocab=VOCAB,
                                                                   model=N2G_SPEC.name))


def run(store: GraphStore, args: argparse.Namespace, tmp: Path) -> list[tuple[str, int, float]]:
    spec = known_model(args.model)
    kinds = {ComponentKind.NEURON, ComponentKind.HEAD}
    rows = compare(store, "components", lambda: make_plan(model_records(spec, kinds), store),
                   lambda: None)
    build = n2g_plan_builder(store, tmp / "n2g" / N2G_SPEC.name, args.neurons)
    rows += compare(store, "N2G patterns", build,
                    lambda: ingest(store, model_records(N2G_SPEC)))
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
    backends.print_side_by_side(f"Write throughput: {args.model} components, {args.neurons:,} N2G "
                                f"graphs (benchmark process peak RSS {peak_mb:,.0f} MB)", results)


if __name__ == "__main__":
    main()
