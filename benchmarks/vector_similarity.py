"""How long `similarity compute --metric vectors` takes for two models of 36,864 neurons.

Each MLP neuron of two gpt2-small-shaped models gets a 64-dimensional embedding
(half of model B's are noisy copies of model A's), stored and indexed through the
store's vector index; then each neuron's nearest neighbours are asked of the index
in batches, and the top-5 matches of each written as SIMILAR_TO edges.

    python benchmarks/vector_similarity.py [--dimension 64] [--backend both]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import backends

from circuitbase.analyze.similarity import similarity_records
from circuitbase.ingest import ingest, ingest_vectors
from circuitbase.schema import ModelSpec
from circuitbase.sources.models import model_records
from circuitbase.sources.vectors import read_vector_files
from circuitbase.store import GraphStore

MODELS = [
    ModelSpec(name=name, n_layers=12, d_model=768, n_heads=12, d_mlp=3072)
    for name in ("bench-a", "bench-b")
]


def run(
    store: GraphStore, tmp: Path, vectors_a: dict, vectors_b: dict
) -> tuple[list[tuple[str, int, float]], int]:
    rows = []
    for spec in MODELS:
        ingest(store, model_records(spec))
    started = time.perf_counter()
    for spec, vectors in zip(MODELS, (vectors_a, vectors_b)):
        path = tmp / f"{spec.name}.json"
        path.write_text(json.dumps({"vectors": vectors}))
        ingest_vectors(store, read_vector_files([path], spec.name))
    rows.append(
        (
            "ingest + index both models' vectors",
            len(vectors_a) + len(vectors_b),
            time.perf_counter() - started,
        )
    )
    started = time.perf_counter()
    records = similarity_records(store, "bench-a", "bench-b", "vectors", top_k=5, min_score=0.5)
    queried = time.perf_counter()
    counts = ingest(store, records).counts
    done = time.perf_counter()
    rows.append(
        (
            "nearest neighbours of every neuron, by the index",
            len(vectors_a) + len(vectors_b),
            queried - started,
        )
    )
    rows.append(("similarity compute, end to end", counts.relationships_created, done - started))
    matched = store.read(
        "MATCH (a:Neuron {model: 'bench-a'})-[s:SIMILAR_TO {metric: 'vectors'}]->() "
        "WHERE s.score >= 0.8 RETURN count(DISTINCT a) AS n"
    )[0]["n"]
    return rows, matched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dimension", type=int, default=64)
    backends.add_arguments(parser)
    args = parser.parse_args()
    rng = random.Random(0)
    neurons = [f"L{layer}N{index}" for layer in range(12) for index in range(3072)]
    vectors_a = {n: [rng.gauss(0, 1) for _ in range(args.dimension)] for n in neurons}
    vectors_b = {
        n: [v + rng.gauss(0, 0.3) for v in vectors_a[n]]
        if rng.random() < 0.5
        else [rng.gauss(0, 1) for _ in range(args.dimension)]
        for n in neurons
    }
    results, matched = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends.chosen(args):
            with backends.store_for(backend, args) as store:
                results[backend], matched[backend] = run(store, Path(tmp), vectors_a, vectors_b)
    backends.print_side_by_side(
        f"vector similarity: 2 x {len(neurons):,} neurons, dimension {args.dimension}; A's neurons "
        "matched >= 0.8 (18,432 planted): "
        + ", ".join(f"{n:,} on {b}" for b, n in matched.items()),
        results,
    )


if __name__ == "__main__":
    main()
