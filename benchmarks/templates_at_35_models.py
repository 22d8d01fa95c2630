"""Every shipped template at the field's size: head metrics of 35 models (issue #31).

Loads what `./run` loads (the demo's models, probes, circuits and the 14 shipped head-metric
files of Neuronpedia's headvis), what README's `model add` and `ingest` commands load from
the repository's files, and head-metric files of 21 more models, generated in
the same format (`similar_heads.generate`: values drawn from the shipped files') with
the shapes those models have, up to 80 layers x 64 heads (Llama-3.1-70B and its Instruct
version), base and fine-tuned pairs among them as among the real files. Then it runs
every shipped template with every parameter set README and the template's own
`// example:` lines give it, `--runs` times each, and prints each template's slowest
parameter set (p50 over the runs), both backends side by side.

    python benchmarks/templates_at_35_models.py [--runs 3] [--timeout 120] [--backend both]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import tempfile
import time
from pathlib import Path

import backends
import similar_heads
from rich.console import Console
from rich.table import Table

from circuitbase.cli.demo import load_examples
from circuitbase.errors import CircuitbaseError
from circuitbase.ingest import ingest, ingest_files
from circuitbase.queries.registry import load_templates
from circuitbase.schema.catalog import known_model
from circuitbase.schema.graph import NodeLabel
from circuitbase.schema.uids import ComponentKind, parse_component
from circuitbase.sources.heads import heads_records
from circuitbase.sources.models import model_records
from circuitbase.store import GraphStore, QueryTimeout

README = Path(__file__).resolve().parent.parent / "README.md"

# (Hugging Face id, layers, heads): models Neuronpedia's headvis folder has beyond the 14
# shipped files, or of the sizes it covers.
GENERATED = [
    ("meta-llama/Llama-3.1-70B", 80, 64),
    ("meta-llama/Llama-3.1-70B-Instruct", 80, 64),
    ("Qwen/Qwen3-32B", 64, 64),
    ("Qwen/Qwen3-14B", 40, 40),
    ("Qwen/Qwen3-8B", 36, 32),
    ("Qwen/Qwen3-0.6B", 28, 16),
    ("google/gemma-2-9b", 42, 16),
    ("google/gemma-2-9b-it", 42, 16),
    ("google/gemma-3-4b-pt", 34, 8),
    ("google/gemma-3-4b-it", 34, 8),
    ("google/gemma-3-12b-pt", 48, 16),
    ("google/gemma-3-12b-it", 48, 16),
    ("meta-llama/Llama-3.2-1B", 16, 32),
    ("meta-llama/Llama-3.2-1B-Instruct", 16, 32),
    ("meta-llama/Llama-3.2-3B", 28, 24),
    ("mistralai/Mistral-7B-v0.1", 32, 32),
    ("EleutherAI/pythia-160m", 12, 12),
    ("EleutherAI/pythia-410m", 24, 16),
    ("openai-community/gpt2-medium", 24, 16),
    ("openai-community/gpt2-large", 36, 20),
    ("openai-community/gpt2-xl", 48, 25),
]
# The parameters issue #31 measured past the 30 s timeout.
ISSUE_EXAMPLES = (
    "query run roles_after_fine_tuning --param role=previous-token --param min_score=0.1",
)


def readme_ingests(store: GraphStore) -> int:
    """Run README's `circuitbase model add` and `ingest` commands whose files ship with the
    repository (N2G graphs, universal neurons, attribution graphs, features, ...), so that
    every template has data to answer from; returns how many ran."""
    from click.testing import CliRunner

    from circuitbase.cli import main

    root, ran = README.parent, 0
    for line in README.read_text().splitlines():
        if not line.startswith(("circuitbase ingest ", "circuitbase model add ")):
            continue
        words = shlex.split(line.split("#")[0])
        paths = [
            word
            for word in words[2:]
            if not word.startswith("-")
            and ("/" in word or word.endswith((".json", ".pt", ".csv", ".yaml")))
        ]
        if not all((root / path).exists() for path in paths):
            continue
        old = Path.cwd()
        try:
            os.chdir(root)
            result = CliRunner().invoke(main, ["--db", store.location, *words[1:]])
        finally:
            os.chdir(old)
        if result.exit_code != 0:
            print(f"skipped: {line.strip()}: {result.output.strip()[:200]}")
            continue
        ran += 1
    return ran


def add_named_components(store: GraphStore) -> None:
    """The components the parameter sets name (`uid=`), with their models' neurons and
    heads, where nothing loaded them (`similar_components`' example names a gpt2-small
    neuron)."""
    for sets in parameter_sets().values():
        for params in sets:
            uid = parse_component(params["uid"]) if "uid" in params else None
            if uid is not None and not store.has_node(NodeLabel.of(uid.kind), str(uid)):
                spec = known_model(uid.model)
                if spec is not None:
                    ingest(store, model_records(spec, {ComponentKind.NEURON, ComponentKind.HEAD}))


def parameter_sets() -> dict[str, list[dict[str, str]]]:
    """Each template's parameter sets from README's `query run` lines and its examples."""
    text = README.read_text().replace("\\\n", " ")  # a command continued on the next line
    lines = [line for line in text.splitlines() if "query run " in line] + list(ISSUE_EXAMPLES)
    shipped = load_templates()
    found: dict[str, list[dict[str, str]]] = {name: [] for name in shipped}
    for template in shipped.values():
        lines += template.examples
    for line in lines:
        words = shlex.split(line.split("#")[0].replace("\\", ""))
        if "run" not in words or words.index("run") + 1 >= len(words):
            continue
        name = words[words.index("run") + 1]
        if name not in found:
            continue
        params = dict(
            re.match(r"(\w+)=(.*)", words[i + 1]).groups()  # type: ignore[union-attr]
            for i, word in enumerate(words)
            if word == "--param"
        )
        if params not in found[name]:
            found[name].append(params)
    return {name: sets or [{}] for name, sets in found.items()}


def time_templates(store: GraphStore, runs: int, timeout: float) -> list[tuple[str, int, float]]:
    results = []
    for name, sets in sorted(parameter_sets().items()):
        template = load_templates()[name]
        slowest, rows, ran = 0.0, 0, 0
        for params in sets:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                try:
                    answer = template.run(store, timeout=timeout, **params)
                except QueryTimeout:
                    times.append(float("inf"))
                    break
                except CircuitbaseError:  # names something only README's other examples load
                    break
                times.append(time.perf_counter() - started)
                rows = max(rows, len(answer))
            if times:
                ran += 1
                slowest = max(slowest, statistics.median(times))
        results.append((f"{name} ({ran} of {len(sets)} parameter sets)", rows, slowest))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    backends.add_arguments(parser)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        generated = similar_heads.generate(Path(tmp), GENERATED)
        for backend in backends.chosen(args):
            with backends.store_for(backend, args) as store:
                store.clear()
                store.ensure_schema()
                started = time.perf_counter()
                load_examples(store, report=lambda line: None)
                commands = readme_ingests(store)
                add_named_components(store)
                ingest_files(store, generated, heads_records)
                heads = store.read(
                    "MATCH (h:AttentionHead)-[:MEASURED_BY]->() RETURN count(DISTINCT h) AS n"
                )[0]["n"]
                models = store.read("MATCH (m:Model) RETURN count(m) AS n")[0]["n"]
                print(
                    f"{backend}: {models} models, {heads:,} measured heads (and {commands} of "
                    f"README's ingest commands) loaded in "
                    f"{time.perf_counter() - started:.0f} s"
                )
                results[backend] = time_templates(store, args.runs, args.timeout)
    table = Table(
        title=f"Every shipped template at 35 models' head metrics (slowest parameter "
        f"set, p50 of {args.runs}; inf: past {args.timeout:.0f} s)"
    )
    table.add_column("template")
    table.add_column("rows", justify="right")
    for backend in results:
        table.add_column(f"{backend} s", justify="right")
    first = next(iter(results.values()))
    for i, (name, rows, _) in enumerate(first):
        table.add_row(name, f"{rows:,}", *(f"{results[b][i][2]:.2f}" for b in results))
    Console().print(table)


if __name__ == "__main__":
    main()
