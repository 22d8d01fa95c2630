"""How long a whole model's N2G graphs take to ingest, on each backend.

The N2G paper built graphs for every neuron of a 6-layer model (6 x 2048 = 12,288).
This writes that many synthetic neuron models of the real shape in the fork's JSON
format (3-8 activating tokens, contexts up to 4 tokens deep, some ignore nodes,
tokens drawn from a 50k vocabulary by Zipf's law as in text),
then ingests them through the same runner as `circuitbase ingest n2g`, and prints
a table of the phases.

    python benchmarks/n2g_ingest.py [--neurons 12288] [--backend both]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import tempfile
import time
from pathlib import Path

import backends

from circuitbase.ingest import ingest, write_plan
from circuitbase.ingest.pipeline import plan_files
from circuitbase.schema import ModelSpec
from circuitbase.sources.models import model_records
from circuitbase.sources.n2g.feature_model_json import encode
from circuitbase.sources.n2g.records import n2g_records
from circuitbase.sources.n2g.trie import NeuronGraph, TrieNode
from circuitbase.store import GraphStore, WriteCounts

VOCAB = [f" tok{i}" for i in range(50_000)]
# Token frequency in text is Zipfian, so N2G graphs share common tokens across neurons.
CUMULATIVE_WEIGHTS = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(VOCAB))))


def tokens(rng: random.Random, k: int) -> list[int]:
    """k distinct token ids, drawn by Zipf's law."""
    chosen: set[int] = set()
    while len(chosen) < k:
        chosen.add(rng.choices(range(len(VOCAB)), cum_weights=CUMULATIVE_WEIGHTS)[0])
    return list(chosen)


SPEC = ModelSpec(name="bench-6l", n_layers=6, d_model=512, n_heads=8, d_mlp=2048)


def random_trie(rng: random.Random) -> NeuronGraph:
    def subtree(depth: int) -> list[TrieNode]:
        if depth == 4:
            return []
        children = []
        for token in tokens(rng, rng.randint(0, 3 if depth < 2 else 1)):
            node = TrieNode(
                VOCAB[token],
                rng.random(),
                rng.random() if rng.random() < 0.5 else None,
                token,
                subtree(depth + 1),
            )
            children.append(node)
        if rng.random() < 0.2:
            children.append(TrieNode(None, 0.0, None, None, subtree(depth + 1)))
        return children

    roots = [
        TrieNode(VOCAB[t], 1.0, rng.random(), t, subtree(1)) for t in tokens(rng, rng.randint(3, 8))
    ]
    return NeuronGraph(roots)


def write_files(folder: Path, neurons: int) -> tuple[list[Path], int, float]:
    """Synthetic N2G JSON files: the files, their trie nodes, and the seconds it took."""
    rng = random.Random(0)
    ids = {token: i for i, token in enumerate(VOCAB)}
    folder.mkdir(parents=True)
    started = time.perf_counter()
    n_nodes = 0
    for i in range(neurons):
        graph = random_trie(rng)
        n_nodes += len(list(graph.nodes()))
        (folder / f"{i // 2048}_{i % 2048}.json").write_text(encode(graph, ids))
    return sorted(folder.glob("*.json")), n_nodes, time.perf_counter() - started


def run(
    store: GraphStore, files: list[Path]
) -> tuple[list[tuple[str, int, float]], WriteCounts, int]:
    rows = []
    ingest(store, model_records(SPEC))
    started = time.perf_counter()
    for path in files:  # reading alone, the baseline planning is held to (#45): fixed code
        json.loads(path.read_bytes())
    rows.append(("read (stdlib json, nothing checked)", len(files), time.perf_counter() - started))
    started = time.perf_counter()
    plan = plan_files(store, files, lambda p: n2g_records(p, vocab=VOCAB, model=SPEC.name))
    planned = time.perf_counter()
    rows.append(
        ("read + validate (records, plan)", plan.node_count + plan.rel_count, planned - started)
    )
    counts = write_plan(store, plan)
    written = time.perf_counter()
    rows.append(
        ("write (batched UNWIND MERGE)", plan.node_count + plan.rel_count, written - planned)
    )
    rows.append(("ingest total", len(files), written - started))
    started = time.perf_counter()
    plan2 = plan_files(store, files, lambda p: n2g_records(p, vocab=VOCAB, model=SPEC.name))
    counts2 = write_plan(store, plan2)
    rows.append(("re-ingest (changes nothing)", len(files), time.perf_counter() - started))
    return rows, counts, counts2.nodes_created + counts2.relationships_created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=6 * 2048)
    backends.add_arguments(parser)
    args = parser.parse_args()
    results, summary = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        files, n_nodes, seconds = write_files(Path(tmp) / "neuron_graphs" / SPEC.name, args.neurons)
        print(
            f"wrote {len(files):,} synthetic N2G JSON files ({n_nodes:,} trie nodes) in {seconds:.1f} s"
        )
        for backend in backends.chosen(args):
            with backends.store_for(backend, args) as store:
                results[backend], counts, again = run(store, files)
                summary.append(
                    f"{backend}: {counts.nodes_created:,} nodes / "
                    f"{counts.relationships_created:,} relationships created, "
                    f"re-ingest created {again}"
                )
    backends.print_side_by_side(
        f"N2G ingest: {args.neurons:,} neurons; " + "; ".join(summary), results
    )


if __name__ == "__main__":
    main()
