"""One SAE release in minutes (issue #45, item 3): a Neuronpedia export of a whole
release, one dictionary per layer, ingested into an empty store a layer at a time.

Generates `--features` features of gpt2-small's `res-jb` set spread over `--layers`
layers (one source, `<layer>-res-jb`, per layer: its features, explanations and
activations in batch files of 1,024 features, as Neuronpedia's export lays a source
out), with the similarity benchmark's generator (`tests/feature_export.py`: ten promoted
and ten suppressed logits, an explanation) and what a real export adds: the four
histograms of the shipped export's feature rows (50 bins each) and `--examples`
activation examples of `--tokens` tokens per feature (most values zero, a peak and a few
others, the shipped examples' shape). Then ingests the layers one by one into an empty
store of each backend (the writer; `ingest` of a folder per layer), and prints per
backend: seconds (and of them, planning: reading and checking, in worker processes
where the input is large, `ingest/workers.py`), features per second, the store's size
per feature (FalkorDB's used memory; Neo4j's files when it was started here), the
projection to 300,000 features from the rate measured, and the largest scratch file a
layer's plan took (ingest/scratch.py) per feature of the layer.

    python benchmarks/release.py [--features 300000] [--layers 12] [--examples 20]
                                 [--tokens 64] [--backend both]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import backends
from evidence import size_bytes
from feature_export import MODEL, feature_rows, vocabulary

from circuitbase.ingest import ingest_files, pipeline
from circuitbase.ingest.pipeline import expand
from circuitbase.ingest.scratch import Plan
from circuitbase.sources.features import SUFFIXES, feature_records

RELEASE = 300_000  # features of a release the targets are stated for
BINS = 50  # each histogram of the shipped export's feature rows
BATCH = 1_024  # features per batch file, as Neuronpedia's export-data.py writes them


def _histograms(rng: random.Random) -> dict[str, list[Any]]:
    """The four histograms a Neuronpedia feature row carries (activation frequency and
    logit distribution: bar heights and bar values)."""
    low = -rng.uniform(0.5, 1.0)
    step = rng.uniform(0.05, 0.1)
    return {
        "freq_hist_data_bar_heights": [rng.randrange(0, 60) for _ in range(BINS)],
        "freq_hist_data_bar_values": [round(0.02 + 0.045 * i, 3) for i in range(BINS)],
        "logits_hist_data_bar_heights": [rng.randrange(0, 9000) for _ in range(BINS)],
        "logits_hist_data_bar_values": [round(low + step * i, 3) for i in range(BINS)],
    }


def _example(
    rng: random.Random, tokens: list[str], where: dict[str, str], name: str, length: int
) -> dict[str, Any]:
    """An activation example as the export writes one: tokens of text (a few common,
    the rest from the tail), most values zero, a peak and a few weaker activations."""
    text = [
        tokens[rng.randrange(30) if rng.random() < 0.3 else rng.randrange(len(tokens))]
        for _ in range(length)
    ]
    values = [0.0] * length
    for i in rng.sample(range(length), k=min(length, rng.randint(1, 6))):
        values[i] = round(rng.uniform(0.05, 8.0), 3)
    peak = values.index(max(values))
    return where | {
        "id": name,
        "tokens": text,
        "values": values,
        "maxValue": values[peak],
        "maxValueTokenIndex": peak,
        "minValue": min(values),
        "dfaValues": [],
        "dfaMaxValue": 0,
        "dfaTargetIndex": -1,
        "binContains": -1,
        "binMin": -1,
        "binMax": values[peak],
    }


def _batch_file(folder: Path, batch: int) -> Any:
    return gzip.open(folder / f"batch-{batch}.jsonl.gz", "wt", encoding="utf-8")


def write_release(root: Path, features: int, layers: int, examples: int, length: int) -> list[Path]:
    """The release under `root`: one source folder per layer; returns those folders."""
    per_layer = -(-features // layers)
    rng = random.Random(45)
    tokens = vocabulary(max(20_000, features // 4), rng)
    folders = []
    for layer in range(layers):
        count = min(per_layer, features - layer * per_layer)
        if count <= 0:
            break
        source = f"{layer}-res-jb"
        rows = feature_rows(count, seed=layer)
        rows["activations"] = []
        for row in rows["features"]:
            row.update(_histograms(rng), hookName=f"blocks.{layer}.hook_resid_pre")
        for kind in ("features", "explanations"):
            for row in rows[kind]:
                row["layer"] = source
                if kind == "explanations":
                    row["id"] = f"{source}-{row['id']}"
        folder = root / MODEL / source
        for kind in ("features", "explanations", "activations"):
            (folder / kind).mkdir(parents=True, exist_ok=True)
        for batch, at in enumerate(range(0, count, BATCH)):
            chunk = rows["features"][at : at + BATCH]
            with _batch_file(folder / "activations", batch) as out:
                for row in chunk:
                    where = {"modelId": MODEL, "layer": source, "index": row["index"]}
                    for e in range(examples):
                        name = f"{source}-{row['index']}-{e}"
                        out.write(json.dumps(_example(rng, tokens, where, name, length)) + "\n")
            for kind in ("features", "explanations"):
                with _batch_file(folder / kind, batch) as out:
                    for row in rows[kind][at : at + BATCH]:
                        out.write(json.dumps(row) + "\n")
        folders.append(folder)
    return folders


def ingest_release(store: Any, folders: list[Path], features: int) -> dict[str, float | None]:
    """Ingest the layers one after the other; the store's size before and after, and the
    largest scratch file a layer's plan took (read as each plan closes)."""
    store.persist()
    before = size_bytes(store)
    scratch, planning = [0], [0.0]
    close, plan_files = Plan.close, pipeline.plan_files

    def noting_size(plan: Plan) -> None:
        scratch[0] = max(scratch[0], plan.scratch_bytes())
        close(plan)

    def timed(*args: Any, **options: Any) -> Plan:
        started = time.perf_counter()
        try:
            return plan_files(*args, **options)
        finally:
            planning[0] += time.perf_counter() - started

    started = time.perf_counter()
    Plan.close = noting_size  # type: ignore[method-assign]
    pipeline.plan_files = timed
    try:
        for folder in folders:
            ingest_files(store, expand([folder], SUFFIXES), feature_records)
    finally:
        Plan.close = close  # type: ignore[method-assign]
        pipeline.plan_files = plan_files
    seconds = time.perf_counter() - started
    store.persist()
    after = size_bytes(store)
    grown = None if before is None or after is None else (after - before) / features
    return {
        "ingest s": seconds,
        "of it planning s": planning[0],
        "features/s": features / seconds,
        "bytes/feature": grown,
        f"projected s for {RELEASE:,}": RELEASE * seconds / features,
        f"projected GB for {RELEASE:,}": None if grown is None else RELEASE * grown / 1e9,
        "scratch bytes/feature (a layer's plan)": scratch[0] / -(-features // len(folders)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=RELEASE)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=64)
    backends.add_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        folders = write_release(
            Path(folder), args.features, args.layers, args.examples, args.tokens
        )
        print(f"generated {args.features:,} features in {time.perf_counter() - started:.0f} s")
        results = {}
        for backend in backends.chosen(args):
            with backends.store_for(backend, args) as store:
                results[backend] = ingest_release(store, folders, args.features)
    backends.print_measures(
        f"A release of {args.features:,} features over {len(folders)} layers "
        f"({args.examples} examples of {args.tokens} tokens each), a layer at a time",
        results,
    )


if __name__ == "__main__":
    main()
