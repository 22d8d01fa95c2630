"""`similar UID --per-model` at the field's size (issue #28): head metrics of 35 models.

The 14 shipped Neuronpedia head-metrics files plus 21 generated in the same format, at
the sizes of widely studied models (up to 80 layers x 64 heads), whose metric values
are drawn from the shipped files' own values (so ranks, ties and zeros look alike). Then
times, as a user meets it, `circuitbase similar UID --per-model` from process start to
exit with the store's server warm, for heads of several models, on both backends.

    python benchmarks/similar_heads.py [--runs 20] [--backend both]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import backends
from rich.console import Console
from rich.table import Table

from circuitbase.ingest import ingest_files
from circuitbase.sources.files import read_json
from circuitbase.sources.head_metrics import head_metrics_records

SHIPPED = sorted(
    (Path(__file__).resolve().parents[1] / "circuitbase" / "examples" / "head-metrics").glob(
        "*.json"
    )
)
# (name, layers, heads): the shapes of 21 widely studied models the shipped files lack
GENERATED = [
    ("llama-2-70b", 80, 64),
    ("llama-3.1-70b", 80, 64),
    ("llama-3.3-70b", 80, 64),
    ("qwen2.5-72b", 80, 64),
    ("qwen3-32b", 64, 64),
    ("gemma-2-27b", 46, 32),
    ("gemma-3-27b", 62, 32),
    ("gemma-2-9b", 42, 16),
    ("gemma-3-12b", 48, 16),
    ("gemma-3-4b", 34, 8),
    ("qwen3-8b", 36, 32),
    ("qwen3-14b", 40, 40),
    ("mistral-7b", 32, 32),
    ("mixtral-8x7b", 32, 32),
    ("olmo-2-13b", 40, 40),
    ("pythia-1.4b", 24, 16),
    ("pythia-2.8b", 32, 32),
    ("pythia-6.9b", 32, 32),
    ("pythia-12b", 36, 40),
    ("gpt2-xl", 48, 25),
    ("phi-3-mini", 32, 32),
]
QUESTIONS = [
    "gpt2-small/L5/H5",
    "gemma-2-2b/L10/H3",
    "Llama-3.1-8B/L20/H7",
    "synthetic/llama-2-70b/L40/H12",
    "synthetic/pythia-1.4b/L3/H1",
]


def generate(folder: Path, shapes: list[tuple[str, int, int]] = GENERATED) -> list[Path]:
    """A head-metrics file in Neuronpedia's format per (name, layers, heads) of `shapes`,
    values drawn from the shipped files'; a name without an organisation is put under
    `synthetic/`."""
    rng = random.Random(0)
    pool: dict[str, list[float]] = {}
    counts: dict[str, list[float]] = {}
    template = json.loads(SHIPPED[0].read_text())
    for path in SHIPPED:
        metrics = json.loads(path.read_text())["metrics"]
        for name, table in metrics.items():
            if name == "counts":
                for count, values in table.items():
                    counts.setdefault(count, []).extend(values)
            else:
                pool.setdefault(name, []).extend(v for row in table for v in row)
    written = []
    for name, layers, heads in shapes:
        model_name = name if "/" in name else f"synthetic/{name}"
        config = {
            **template["config"],
            "model_name": model_name,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
        }
        metrics = {
            metric: [[rng.choice(values) for _ in range(heads)] for _ in range(layers)]
            for metric, values in pool.items()
        }
        metrics["counts"] = {
            count: [rng.choice(values) for _ in range(layers)] for count, values in counts.items()
        }
        path = folder / f"{model_name.replace('/', '-')}.json"
        path.write_text(json.dumps({"config": config, "metrics": metrics}))
        written.append(path)
    return written


def timed(command: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    if done.returncode != 0 or "head-profile" not in done.stdout:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr or done.stdout[:500]}")
    return time.perf_counter() - started


def question(uid: str) -> str:
    """The generated models are named after their file's organisation-less id."""
    return uid.removeprefix("synthetic/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed commands per backend")
    backends.add_arguments(parser)
    args = parser.parse_args()
    results: dict[str, tuple[float, float, float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = SHIPPED + generate(Path(tmp))
        for backend in backends.chosen(args):
            with backends.store_for(backend, args) as store:
                started = time.perf_counter()
                ingest_files(store, files, lambda path: head_metrics_records(read_json(path), path))
                built = time.perf_counter() - started
                heads = store.read("MATCH (h:AttentionHead) RETURN count(h) AS n")[0]["n"]
                uri = store.location

                def command(uid: str, uri: str = uri) -> list[str]:
                    return [
                        sys.executable,
                        "-m",
                        "circuitbase",
                        "--db",
                        uri,
                        "similar",
                        question(uid),
                        "--per-model",
                    ]

                # the server is up after this, as for any second command
                timed(command(QUESTIONS[0]))
                times = [timed(command(QUESTIONS[i % len(QUESTIONS)])) for i in range(args.runs)]
                times.sort()
                results[backend] = (
                    statistics.median(times),
                    times[int(0.95 * (len(times) - 1))],
                    built,
                    heads,
                )
    table = Table(
        title=f"similar UID --per-model, warm, process start to exit "
        f"({len(SHIPPED) + len(GENERATED)} models with head metrics)"
    )
    table.add_column("backend")
    for column in ("heads", "ingest s", "p50 s", "p95 s"):
        table.add_column(column, justify="right")
    for backend, (p50, p95, built, heads) in results.items():
        table.add_row(backend, f"{heads:,}", f"{built:.1f}", f"{p50:.3f}", f"{p95:.3f}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
