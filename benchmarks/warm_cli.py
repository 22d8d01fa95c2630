"""A question from the command line costs what its query costs (issue #19).

Builds the scale benchmark's graph (`scale_queries.py`: every MLP neuron and head of
pythia-6.9b, llama-2-7b and pythia-2.8b, 8.6M SIMILAR_TO edges) plus the 73,728 indexed
vectors of `vector_similarity.py`, then times, as a user meets them:

- `circuitbase --help`, process start to exit;
- `circuitbase similar UID --in MODEL --top 1`, process start to exit, with the store's
  server warm (already running: the usual case) and cold (stopped before each run:
  started and loaded by the command; FalkorDB only, Neo4j is a server of its own);
- `universality_table` for a pair, read from the similarity summaries, against the
  query over every SIMILAR_TO edge that it replaces.

    python benchmarks/warm_cli.py [--scale 1.0] [--runs 30] [--backend both] [--python PY]

`--python` runs the commands with another interpreter, e.g. of a virtual environment
with circuitbase alone (`pip install circuitbase`, no extras): with the `[analysis]`
extra, wandb's OpenTelemetry is installed and redis-py imports it (about 90 ms more).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import backends
import scale_queries
import vector_similarity
from rich.console import Console
from rich.table import Table
from test_similarity_summaries import FULL as FULL_UNIVERSALITY  # tests/ is on the path (backends)

from circuitbase.queries import run_template
from circuitbase.store import GraphStore

PAIR = {"model_a": "pythia-2.8b", "model_b": "pythia-6.9b", "threshold": 0.5, "metric": None}


# As on a user's machine, Python caches compiled modules; some sandboxes switch that off
# (PYTHONDONTWRITEBYTECODE), which makes every command compile the package again.
def timed(command: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr}")
    return time.perf_counter() - started


PYTHON = [sys.executable]


def cli(uri: str, *args: str) -> list[str]:
    return [*PYTHON, "-m", "circuitbase", "--db", uri, *args]


def percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, int(0.95 * len(values)))]


def build(store: GraphStore, scale: float, tmp: Path) -> float:
    started = time.perf_counter()
    scale_queries.build(store, scale)
    rng = random.Random(0)
    neurons = [f"L{layer}N{index}" for layer in range(12) for index in range(3072)]
    vectors_a = {n: [rng.gauss(0, 1) for _ in range(64)] for n in neurons}
    vectors_b = {n: [v + rng.gauss(0, 0.3) for v in vectors_a[n]] for n in neurons}
    vector_similarity.run(store, tmp, vectors_a, vectors_b)
    return time.perf_counter() - started


def measure(store: GraphStore, uri: str, runs: int) -> list[tuple[str, float, float]]:
    """(what, p50 s, p95 s)."""
    rows = []
    helps = [timed([*PYTHON, "-m", "circuitbase", "--help"]) for _ in range(runs)]
    rows.append(("circuitbase --help", *percentiles(helps)))
    uids = [
        r["uid"]
        for r in store.read(
            "MATCH (n:Neuron {model: 'pythia-6.9b'})-[:SIMILAR_TO]->(:Neuron {model: 'llama-2-7b'}) "
            "RETURN DISTINCT n.uid AS uid LIMIT $n",
            {"n": runs},
        )
    ]
    question = lambda uid: cli(uri, "similar", uid, "--in", "llama-2-7b", "--top", "1")  # noqa: E731
    timed(question(uids[0]))  # the server is up after this, as for any user's second command
    warm = [timed(question(uid)) for uid in uids]
    rows.append(("similar UID --in MODEL, warm server", *percentiles(warm)))
    if store.backend == "falkordb":
        cold = []
        for uid in uids[:3]:
            timed(cli(uri, "server", "stop"))
            cold.append(timed(question(uid)))
        rows.append(
            ("similar UID --in MODEL, cold (server started by the command)", *percentiles(cold))
        )
    summary = []
    for _ in range(5):
        started = time.perf_counter()
        run_template(store, "universality_table", PAIR)
        summary.append(time.perf_counter() - started)
    rows.append(
        ("universality_table, pythia-2.8b vs pythia-6.9b (summaries)", *percentiles(summary))
    )
    started = time.perf_counter()
    full = store.read(FULL_UNIVERSALITY, PAIR, timeout=3600)
    rows.append(
        (
            "the same over every SIMILAR_TO edge (before)",
            time.perf_counter() - started,
            time.perf_counter() - started,
        )
    )
    answer = [
        {k: r[k] for k in ("kind", "components", "matched")}
        for r in run_template(store, "universality_table", PAIR)
    ]
    assert answer == [{k: r[k] for k in ("kind", "components", "matched")} for r in full], (
        answer,
        full,
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each model's neurons")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter that runs the commands"
    )
    backends.add_arguments(parser)
    args = parser.parse_args()
    PYTHON[:] = [args.python]
    results: dict[str, list[tuple[str, float, float]]] = {}
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends.chosen(args):
            with backends.store_for(backend, args) as store:
                seconds = build(store, args.scale, Path(tmp))
                components = store.read("MATCH (c:Component) RETURN count(c) AS n")[0]["n"]
                notes.append(f"{backend}: {components:,} components, built in {seconds:.0f} s")
                uri = store.location if backend == "falkordb" else args.neo4j or store.location
                results[backend] = measure(store, uri, args.runs)
    table = Table(title="From the command line: " + "; ".join(notes))
    table.add_column("what")
    for backend in results:
        table.add_column(f"{backend} p50 s", justify="right")
        table.add_column(f"{backend} p95 s", justify="right")
    first = next(iter(results.values()))
    for what, *_ in first:
        cells = [what]
        for rows in results.values():
            match = next((r for r in rows if r[0] == what), None)
            cells += [f"{match[1]:.3f}", f"{match[2]:.3f}"] if match else ["-", "-"]
        table.add_row(*cells)
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
