"""Many activation examples of one feature (issue #41): every HAS_EXAMPLE fact of a
feature joins the same two nodes (the feature and its analysis), and a store that finds
the one to merge by walking every relationship between them pays quadratic time. The
writer's time per example should stay flat as the examples of one feature grow: the
facts of an analysis new to the store are created, not merged. An ingest run again merges
every fact (the last row), and on Neo4j that still walks the pair's relationships.

    python benchmarks/examples_of_one_feature.py [--examples 2500,10000,100000] [--backend both]
"""

from __future__ import annotations

import argparse
import time

import backends

from circuitbase.ingest.pipeline import ingest
from circuitbase.schema.evidence import Example
from circuitbase.schema.graph import NodeLabel
from circuitbase.schema.nodes import Analysis
from circuitbase.schema.records import ref

FEATURE = "gpt2-small/L0/res-jb/F3"
TOKENS = [" the", " cat", " sat", " on", " a", " mat", ".", "\n"]


def records(n: int, analysis_uid: str) -> list:
    """One analysis's `n` examples of FEATURE, 8 tokens each."""
    analysis = Analysis(
        uid=analysis_uid, kind="evidence", method="benchmark", models=["gpt2-small"]
    )
    start, end = ref(NodeLabel.FEATURE, FEATURE), analysis.record().ref
    out: list = [*analysis.records()]
    for i in range(n):
        values = [((i * 7 + j) % 11) / 10 for j in range(len(TOKENS))]
        example = Example(analysis=analysis.uid, example=str(i), tokens=TOKENS, values=values)
        out.append(example.record(start, end))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", default="2500,10000,100000")
    backends.add_arguments(parser)
    args = parser.parse_args()
    sizes = [int(n) for n in args.examples.split(",")]
    results: dict[str, backends.Rows] = {}
    for backend in backends.chosen(args):
        with backends.store_for(backend, args) as store:
            ingest(store, records(500, "benchmark/warm-up"))  # Neo4j's JIT, both servers' caches
            rows = []
            for n in sizes:
                batch = records(n, f"benchmark/examples-{n}")
                started = time.perf_counter()
                ingest(store, batch)
                rows.append((f"{n:,} examples of one feature", n, time.perf_counter() - started))
            # the same again: every fact is merged (its analysis is stored now), nothing changes
            again = records(sizes[0], f"benchmark/examples-{sizes[0]}")
            started = time.perf_counter()
            ingest(store, again)
            rows.append((f"{sizes[0]:,} again (merged)", sizes[0], time.perf_counter() - started))
            results[backend] = rows
    backends.print_side_by_side("examples of one feature, written by the writer", results)


if __name__ == "__main__":
    main()
