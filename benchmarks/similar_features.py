"""How long `similar FEATURE` takes among many dictionary features (issue #42), per
metric and for all of them at once, inside the process (query and scoring), on both
backends.

Builds a Neuronpedia export of N features with tests/feature_export.py, the generator
the feature tests check `similar` against (ten promoted and ten suppressed logits from a
vocabulary of N/4 decoded tokens, one in seven of them from 30 common ones; one
explanation of a frame or two, a function word and two to four content words drawn by
Zipf's law from N/10; three activation examples for a tenth of the features; some dead
and some dense), ingests it, and times `similar` on features drawn at random: the token
metrics walk from the shared Token nodes and read a few candidates' evidence; the
explanation metric walks from the Word nodes of a feature's rarer words, the store
scores the candidates above a first estimate, and the best few are read.

    python benchmarks/similar_features.py [--features 300000] [--runs 30] [--backend both]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import backends
from feature_export import write_feature_export

from circuitbase.ingest import ingest_files
from circuitbase.ingest.pipeline import expand
from circuitbase.queries.match import FEATURE_METRICS
from circuitbase.queries.similar import similar
from circuitbase.sources.features import SUFFIXES, feature_records
from circuitbase.store.base import GraphStore

# the generator gives no decoder directions nor explanation embeddings
METRICS = [m for m in FEATURE_METRICS if m not in ("decoder", "explanation-embedding")]


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def measure(
    store: GraphStore, files: list[Path], features: int, runs: int, metrics: list[str | None]
) -> tuple[float, list[tuple[str, int, float, float, int]]]:
    started = time.perf_counter()
    ingest_files(store, files, feature_records)
    ingest_seconds = time.perf_counter() - started
    rng = random.Random(0)
    picks = [f"gpt2-small/L0/res-jb/F{rng.randrange(features)}" for _ in range(runs)]
    rows = []
    examples = [f"gpt2-small/L0/res-jb/F{10 * rng.randrange(features // 10)}" for _ in range(runs)]
    for metric in metrics:
        chosen = examples if metric == "activation-tokens" else picks  # a tenth have examples
        similar(store, chosen[0], metric=metric)  # warm the caches
        times, answered = [], 0
        for uid in chosen:
            begun = time.perf_counter()
            found = similar(store, uid, metric=metric)
            times.append((time.perf_counter() - begun) * 1000)
            answered += len(found)
        p50, p95 = percentiles(times)
        rows.append(
            (
                f"similar --metric {metric}" if metric else "similar (all metrics)",
                runs,
                p50,
                p95,
                answered,
            )
        )
    return ingest_seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--metrics",
        default=",".join([*METRICS, "all"]),
        help="which to time, comma-separated ('all': every metric at once, the default "
        "`similar`); default: each, then all",
    )
    backends.add_arguments(parser)
    args = parser.parse_args()
    metrics = [None if m == "all" else m for m in args.metrics.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        files = expand([write_feature_export(Path(folder), args.features, seed=1)], SUFFIXES)
        print(f"generated {args.features:,} features in {time.perf_counter() - started:.0f} s")
        results, ingests = {}, {}
        for backend in backends.chosen(args):
            with backends.store_for(backend, args) as store:
                ingests[backend], results[backend] = measure(
                    store, files, args.features, args.runs, metrics
                )
                print(f"{backend}: ingested in {ingests[backend]:.0f} s")
    backends.print_latency_side_by_side(
        f"similar among {args.features:,} generated features ("
        + ", ".join(f"ingest {s:.0f} s on {b}" for b, s in ingests.items())
        + "; rows: matches answered over all runs)",
        results,
    )


if __name__ == "__main__":
    main()
