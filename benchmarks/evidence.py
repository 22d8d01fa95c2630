"""Evidence per feature (issue #30): what storing a dictionary feature's evidence costs,
and how fast one feature's evidence is read back, on both backends; and (issue #45)
planning, reading and checking every record, against reading alone: the same files
decoded by the standard library's json, a line at a time (fixed code here, so a faster
reader in circuitbase does not move the target).

Builds a Neuronpedia export (export-data.py's layout and columns) of N features of a
dictionary of gpt2-small, each with its statistics and top logits, one explanation and
three activation examples of 128 tokens, its content drawn from the real SAEDashboard
features in tests/data (the published files' sizes), then ingests it, and measures
the store's growth per feature and the latency of `show` (a feature's evidence and
facts, one query plus its analyses) and of `search` by a word of an explanation.

    python benchmarks/evidence.py [--features 5000] [--runs 100] [--backend both]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import tempfile
import time
from pathlib import Path

import backends
from test_evidence import write_export

from circuitbase.ingest import ingest_files
from circuitbase.ingest.pipeline import expand, plan_files
from circuitbase.ingest.scratch import NothingStored
from circuitbase.queries.show import show
from circuitbase.sources.features import SUFFIXES, feature_records
from circuitbase.store.base import GraphStore

EXAMPLES = 3


def size_bytes(store: GraphStore) -> int | None:
    """What the store takes: FalkorDB's used memory, Neo4j's files (when started here)."""
    if store.backend == "falkordb":
        return int(store.connection.client.connection.info("memory")["used_memory"])
    home = os.environ.get("CIRCUITBASE_BENCH_NEO4J_HOME")
    if not home:
        return None
    return sum(p.stat().st_size for p in Path(home).rglob("*") if p.is_file())


def latency_ms(run, runs: int) -> tuple[float, float]:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(0.95 * len(times)))]


def read_baseline(files: list[Path]) -> float:
    """Seconds to decode every file's JSON with the standard library, nothing checked."""
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        for line in data.splitlines():
            if line.strip():
                json.loads(line)
    return time.perf_counter() - started


def planning(files: list[Path]) -> float:
    """Seconds to read and check every record into a plan (no store: nothing written)."""
    started = time.perf_counter()
    plan_files(NothingStored(), files, feature_records).close()
    return time.perf_counter() - started


def measure(store: GraphStore, files: list[Path], features: int, runs: int) -> dict[str, float]:
    store.persist()
    before = size_bytes(store)
    started = time.perf_counter()
    ingest_files(store, files, feature_records)
    seconds = time.perf_counter() - started
    store.persist()
    after = size_bytes(store)
    rng = random.Random(0)
    picks = [f"gpt2-small/L0/res-jb/F{rng.randrange(features)}" for _ in range(runs)]
    show_p50, show_p95 = latency_ms(lambda i: show(store, picks[i]), runs)
    search_p50, search_p95 = latency_ms(
        lambda i: store.search(f"number {rng.randrange(features)}", ["Feature"]), runs
    )
    return {
        "ingest s": seconds,
        "features/s": features / seconds,
        "bytes/feature": (after - before) / features if None not in (before, after) else None,
        "show p50 ms": show_p50,
        "show p95 ms": show_p95,
        "search p50 ms": search_p50,
        "search p95 ms": search_p95,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=100)
    backends.add_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        batch = 1024  # export-data.py's batch size
        files = expand(
            [
                write_export(
                    Path(folder),
                    -(-args.features // batch),
                    features_per_batch=min(batch, args.features),
                    examples=EXAMPLES,
                    same_features=False,
                )
            ],
            SUFFIXES,
        )
        features = -(-args.features // batch) * min(batch, args.features)
        read, planned = read_baseline(files), planning(files)
        results = {}
        for backend in backends.chosen(args):
            with backends.store_for(backend, args) as store:
                results[backend] = {
                    "read s (stdlib json)": read,
                    "plan s (read + check)": planned,
                    "plan / read": planned / read,
                    **measure(store, files, features, args.runs),
                }
    backends.print_measures(
        f"Evidence of {features:,} features ({EXAMPLES} examples of 127 "
        "tokens, top logits, histograms and one explanation each)",
        results,
    )


if __name__ == "__main__":
    main()
