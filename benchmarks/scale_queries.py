"""Query latency at the size of whole large models, and the memory it takes.

Builds a graph of every MLP neuron and head of pythia-6.9b (524,288 neurons),
llama-2-7b (352,256) and pythia-2.8b (327,680): 1.2 million components, with
synthetic analyses of the real shapes: top-5 token-similarity edges both ways
between pythia-6.9b and each of the others (8.6 million SIMILAR_TO), two
activating tokens per neuron of pythia-6.9b and llama-2-7b drawn by Zipf's law
from a 50k vocabulary, k=1 probes of 100 concepts in every model, a head role
for every head and a task's output nodes. Then it times each template a user
runs (p50/p95 over repeated runs with varied parameters) and reports the
server's and this process's memory.

    python benchmarks/scale_queries.py [--scale 1.0] [--runs 200] [--backend both]

`--scale 0.05` builds the same shape with 5% of the neurons, for a quick look, or to
compare the backends on this machine (the full size is FalkorDB's measurement).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import backends
from n2g_ingest import CUMULATIVE_WEIGHTS, VOCAB

from circuitbase.ingest import ingest
from circuitbase.queries import run_template
from circuitbase.schema import ModelSpec
from circuitbase.schema.catalog import known_model
from circuitbase.schema.graph import NodeLabel, RelType, token_uid
from circuitbase.schema.nodes import Analysis, Concept, HeadRole, Task, Token
from circuitbase.schema.records import ref
from circuitbase.schema.relationships import Encodes, HasRole, OutputNode
from circuitbase.schema.uids import ComponentKind, ComponentUid
from circuitbase.sources.models import model_records
from circuitbase.store import GraphStore
from circuitbase.store.cypher import merge_relationships

MODELS = ("pythia-6.9b", "llama-2-7b", "pythia-2.8b")
SIMILARITY_PAIRS = (("pythia-6.9b", "llama-2-7b"), ("pythia-2.8b", "pythia-6.9b"))
TOKENS_FOR = ("pythia-6.9b", "llama-2-7b")
TOP_K = 5
CONCEPTS = 100


def scaled(name: str, scale: float) -> ModelSpec:
    spec = known_model(name)
    return (
        spec if scale == 1.0 else spec.model_copy(update={"d_mlp": max(8, int(spec.d_mlp * scale))})
    )


def neuron_uids(spec: ModelSpec) -> list[str]:
    return [
        str(ComponentUid(spec.name, layer, ComponentKind.NEURON, i))
        for layer in range(spec.n_layers)
        for i in range(spec.d_mlp)
    ]


def similarity_rows(
    a: list[str], b: list[str], analysis: str, rng: random.Random
) -> Iterator[dict[str, Any]]:
    for uid in a:
        for match in rng.sample(b, TOP_K):
            yield {
                "start": uid,
                "end": match,
                "props": {"analysis": analysis, "metric": "tokens", "score": rng.random()},
            }


def token_rows(neurons: list[str], analysis: str, rng: random.Random) -> Iterator[dict[str, Any]]:
    for uid in neurons:
        for token in set(rng.choices(VOCAB, cum_weights=CUMULATIVE_WEIGHTS, k=2)):
            yield {
                "start": uid,
                "end": token_uid(token),
                "props": {"analysis": analysis, "activation": rng.random() * 10},
            }


def small_analyses(
    specs: dict[str, ModelSpec], neurons: dict[str, list[str]], rng: random.Random
) -> Iterator[Any]:
    """Probes, head roles and output nodes: few rows, written through the normal ingest."""
    for name, spec in specs.items():
        probe = Analysis(uid=f"bench-probe/{name}", kind="probe", method="synthetic", models=[name])
        roles = Analysis(uid=f"bench-heads/{name}", kind="heads", method="synthetic", models=[name])
        circuit = Analysis(
            uid=f"bench-circuit/{name}", kind="circuit", method="synthetic", models=[name]
        )
        yield from (*probe.records(), *roles.records(), *circuit.records())
        for c in range(CONCEPTS):
            yield Concept(name=f"concept-{c}").record()
            fact = Encodes(
                analysis=probe.uid, k=1, f1=0.8 + 0.2 * rng.random(), rank=0, category="synthetic"
            )
            yield fact.record(
                ref(NodeLabel.NEURON, rng.choice(neurons[name])),
                ref(NodeLabel.CONCEPT, f"concept-{c}"),
            )
        for layer in range(spec.n_layers):
            for head in range(spec.n_heads):
                uid = str(ComponentUid(name, layer, ComponentKind.HEAD, head))
                role = ("induction", "previous-token", "duplicate-token")[(layer + head) % 3]
                yield HeadRole(name=role).record()
                yield HasRole(analysis=roles.uid, score=rng.random()).record(
                    ref(NodeLabel.HEAD, uid), ref(NodeLabel.HEAD_ROLE, role)
                )
                if head < 1 and layer >= spec.n_layers - 20:
                    yield Task(name="mcq-letter").record()
                    yield OutputNode(
                        analysis=circuit.uid, category="correct letter", direct_effect=rng.random()
                    ).record(ref(NodeLabel.HEAD, uid), ref(NodeLabel.TASK, "mcq-letter"))


def build(store: GraphStore, scale: float) -> list[tuple[str, int, float]]:
    rng = random.Random(0)
    phases = []
    specs = {name: scaled(name, scale) for name in MODELS}
    started = time.perf_counter()
    total = 0
    for spec in specs.values():
        counts = ingest(
            store, model_records(spec, {ComponentKind.NEURON, ComponentKind.HEAD})
        ).counts
        total += counts.nodes_created + counts.relationships_created
    phases.append(("components + IN_MODEL (ingest)", total, time.perf_counter() - started))
    neurons = {name: neuron_uids(spec) for name, spec in specs.items()}

    started = time.perf_counter()
    analyses = [
        record
        for a, b in SIMILARITY_PAIRS
        for record in Analysis(
            uid=f"bench-similarity/{a}+{b}", kind="similarity", method="synthetic", models=[a, b]
        ).records()
    ]
    analyses += [
        record
        for m in TOKENS_FOR
        for record in Analysis(
            uid=f"bench-tokens/{m}", kind="n2g", method="synthetic", models=[m]
        ).records()
    ]
    counts = ingest(
        store,
        [*analyses, *(Token(text=t).record() for t in VOCAB), *small_analyses(specs, neurons, rng)],
    ).counts
    phases.append(
        (
            "tokens, probes, head roles, output nodes (ingest)",
            counts.nodes_created + counts.relationships_created,
            time.perf_counter() - started,
        )
    )

    started = time.perf_counter()
    similar = merge_relationships(RelType.SIMILAR_TO, NodeLabel.NEURON, NodeLabel.NEURON)
    total = 0
    for a, b in SIMILARITY_PAIRS:
        analysis = f"bench-similarity/{a}+{b}"
        for x, y in ((a, b), (b, a)):
            total += store._write_rows(
                similar, similarity_rows(neurons[x], neurons[y], analysis, rng)
            ).relationships_created
    phases.append(
        ("SIMILAR_TO top-5 both ways (writer query, batched)", total, time.perf_counter() - started)
    )

    started = time.perf_counter()
    activates = merge_relationships(RelType.ACTIVATES_ON, NodeLabel.NEURON, NodeLabel.TOKEN)
    total = sum(
        store._write_rows(
            activates, token_rows(neurons[m], f"bench-tokens/{m}", rng)
        ).relationships_created
        for m in TOKENS_FOR
    )
    phases.append(("ACTIVATES_ON (writer query, batched)", total, time.perf_counter() - started))
    started = time.perf_counter()
    store.refresh_similarity_summaries(SIMILARITY_PAIRS)  # what an ingest of the edges does
    phases.append(
        (
            "similarity summaries of both pairs, both ways",
            len(SIMILARITY_PAIRS) * 2,
            time.perf_counter() - started,
        )
    )
    started = time.perf_counter()
    store.persist()  # the writes above went through write_rows, which marks the store dirty
    phases.append(("snapshot to disk", 1, time.perf_counter() - started))
    return phases


def latencies(run: Callable[[int], list[Any]], runs: int) -> tuple[float, float, int]:
    times, rows = [], 0
    for i in range(runs):
        started = time.perf_counter()
        rows = len(run(i))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    return statistics.median(times), p95, rows


def measure(store: GraphStore, runs: int) -> list[tuple[str, int, float, float, int]]:
    rng = random.Random(1)
    sample = [
        r["uid"]
        for r in store.read(
            "MATCH (n:Neuron {model: 'pythia-6.9b'}) RETURN n.uid AS uid ORDER BY uid LIMIT 20000"
        )
    ]
    picks = [rng.choice(sample) for _ in range(runs)]
    common = VOCAB[:200]

    def template(name: str, params: Callable[[int], dict[str, Any]]) -> Callable[[int], list[Any]]:
        return lambda i: run_template(store, name, params(i))

    cases = [
        (
            "similar UID (similar_components, top 10)",
            runs,
            template("similar_components", lambda i: {"uid": picks[i]}),
        ),
        (
            "similar UID --in llama-2-7b",
            runs,
            template("similar_components", lambda i: {"uid": picks[i], "model": "llama-2-7b"}),
        ),
        ("neuron_concepts", runs, template("neuron_concepts", lambda i: {"uid": picks[i]})),
        (
            "concept_neurons",
            runs,
            template("concept_neurons", lambda i: {"concept": f"concept-{i % CONCEPTS}"}),
        ),
        (
            "shared_token_neurons --param token=...",
            20,
            template("shared_token_neurons", lambda i: {"token": common[i]}),
        ),
        ("universal_head_roles", 20, template("universal_head_roles", lambda i: {})),
        (
            "family_concepts (pythia)",
            20,
            template("family_concepts", lambda i: {"family": "pythia", "min_score": 0.8}),
        ),
        (
            "single_neuron_concepts",
            20,
            template("single_neuron_concepts", lambda i: {"min_score": 0.8, "min_models": 2}),
        ),
        (
            "shared_output_nodes",
            20,
            template(
                "shared_output_nodes",
                lambda i: {"task": "mcq-letter", "model_a": "pythia-6.9b", "model_b": "llama-2-7b"},
            ),
        ),
        (
            "universality_table (pythia-2.8b vs pythia-6.9b)",
            3,
            template(
                "universality_table",
                lambda i: {"model_a": "pythia-2.8b", "model_b": "pythia-6.9b", "threshold": 0.5},
            ),
        ),
        (
            "shared_token_neurons, all tokens",
            3,
            template("shared_token_neurons", lambda i: {"min_models": 2}),
        ),
    ]
    return [(name, n, *latencies(run, n)) for name, n, run in cases]


def server_memory_mb(store: GraphStore) -> float | None:
    if store.backend != "falkordb":
        return None
    return store.connection.client.connection.info("memory")["used_memory"] / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each model's neurons")
    parser.add_argument("--runs", type=int, default=200, help="runs of each per-component query")
    backends.add_arguments(parser)
    args = parser.parse_args()
    built, results, notes = {}, {}, []
    for backend in backends.chosen(args):
        with backends.store_for(backend, args) as store:
            built[backend] = build(store, args.scale)
            sizes = (
                store.read("MATCH (c:Component) RETURN count(c) AS n")[0]["n"],
                store.read("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"],
            )
            results[backend] = measure(store, args.runs)
            memory = server_memory_mb(store)
            notes.append(
                f"{backend}: {sizes[0]:,} components, {sizes[1]:,} relationships"
                + (f", server {memory:,.0f} MB used" if memory is not None else "")
            )
    backends.print_side_by_side("Building the graph", built)
    backends.print_latency_side_by_side("Query latency: " + "; ".join(notes), results)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
