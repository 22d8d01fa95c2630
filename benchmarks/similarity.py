"""How long `similarity compute --metric tokens` takes for two models of 36,864 neurons.

Gives every MLP neuron of two gpt2-small-shaped models an activating-token profile
(2-8 tokens drawn by Zipf's law from a 50k vocabulary; half of model B's neurons are
perturbed copies of model A's, so real matches exist), then times reading the
profiles, scoring every pair with one sparse product, and writing the top-5 edges
of each neuron.

    python benchmarks/similarity.py [--backend both]
"""

from __future__ import annotations

import argparse
import itertools
import random
import time

import backends

from circuitbase.analyze.similarity import (
    _profiles,
    drop_stop_features,
    scores,
    similarity_records,
    top_pairs,
)
from circuitbase.ingest import ingest, write_plan
from circuitbase.ingest.plan import make_plan
from circuitbase.schema import ActivatesOn, Analysis, ModelSpec, NodeLabel, RelType, Token, ref, rel
from circuitbase.schema.graph import token_uid
from circuitbase.store import GraphStore

VOCAB = [f" tok{i}" for i in range(50_000)]
WEIGHTS = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(VOCAB))))
MODELS = [
    ModelSpec(name=name, n_layers=12, d_model=768, n_heads=12, d_mlp=3072)
    for name in ("bench-a", "bench-b")
]


def profile(rng: random.Random) -> dict[str, float]:
    chosen = rng.choices(VOCAB, cum_weights=WEIGHTS, k=rng.randint(2, 8))
    return {token: round(rng.uniform(0.2, 1.0), 3) for token in chosen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    backends.add_arguments(parser)
    args = parser.parse_args()
    records, n_neurons = synthetic_records()
    results, matched = {}, {}
    for backend in backends.chosen(args):
        with backends.store_for(backend, args) as store:
            results[backend], matched[backend] = run(store, records)
    backends.print_side_by_side(
        f"token similarity: 2 x {n_neurons:,} neurons; of model A's neurons, "
        + ", ".join(f"{n:,} on {b}" for b, n in matched.items())
        + " have a match >= 0.5",
        results,
    )


def synthetic_records() -> tuple[list, int]:
    """Both models' activating-token profiles, as records; and the neurons per model."""
    rng = random.Random(0)
    neurons = [(layer, index) for layer in range(12) for index in range(3072)]
    profiles_a = [profile(rng) for _ in neurons]
    profiles_b = [
        dict(list(p.items())[:-1]) | profile(rng) if rng.random() < 0.5 else profile(rng)
        for p in profiles_a
    ]
    facts = Analysis(
        uid="bench/profiles", kind="n2g", method="synthetic", models=[m.name for m in MODELS]
    )
    records = [facts.record(), *[m.record() for m in MODELS]]
    records += [
        rel(RelType.ABOUT, facts.record().ref, ref(NodeLabel.MODEL, m.name)) for m in MODELS
    ]
    for spec, profiles in zip(MODELS, (profiles_a, profiles_b)):
        for (layer, index), tokens in zip(neurons, profiles):
            for text, activation in tokens.items():
                records.append(Token(text=text).record())
                records.append(
                    ActivatesOn(analysis=facts.uid, activation=activation).record(
                        ref(NodeLabel.NEURON, f"{spec.name}/L{layer}/N{index}"),
                        ref(NodeLabel.TOKEN, token_uid(text)),
                    )
                )
    return records, len(neurons)


def run(store: GraphStore, records: list) -> tuple[list[tuple[str, int, float]], int]:
    rows = []
    started = time.perf_counter()
    ingest(store, records)
    rows.append(
        ("set-up: ingest both models' profiles", len(records), time.perf_counter() - started)
    )
    started = time.perf_counter()
    a, b = _profiles(store, "tokens", ("bench-a", "bench-b"), 0.0)
    read = time.perf_counter()
    a, b = drop_stop_features(a, b, 0.01)
    matrix = scores("tokens", a.matrix, b.matrix)
    pairs = top_pairs(matrix, 5, 0.1)
    pairs.update(top_pairs(matrix.T.tocsr(), 5, 0.1))
    scored = time.perf_counter()
    rows.append(("read profiles", a.matrix.nnz + b.matrix.nnz, read - started))
    rows.append(("score all pairs (sparse product) + top-5", matrix.nnz, scored - read))
    started = time.perf_counter()
    similarity = similarity_records(store, "bench-a", "bench-b", "tokens", top_k=5, min_score=0.1)
    plan = make_plan(similarity, store)
    counts = write_plan(store, plan)
    rows.append(
        (
            "similarity compute, end to end (read, score, check, write)",
            counts.relationships_created,
            time.perf_counter() - started,
        )
    )
    matched = store.read(
        "MATCH (a:Neuron {model: 'bench-a'})-[s:SIMILAR_TO]->() "
        "WHERE s.score >= 0.5 RETURN count(DISTINCT a) AS n"
    )[0]["n"]
    return rows, matched


if __name__ == "__main__":
    main()
