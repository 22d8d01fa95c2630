"""`ingest FORMAT PATH...`: one subcommand per adapter, all through the same runner."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from ..ingest.pipeline import Reader, expand, ingest_files, ingest_vectors
from ..sources.circuits import circuit_records
from ..sources.features import SUFFIXES as FEATURE_SUFFIXES
from ..sources.features import feature_records
from ..sources.heads import heads_records
from ..sources.n2g.records import n2g_records
from ..sources.n2g.vocab import load_vocab
from ..sources.probes import probe_records
from ..sources.saelens import saelens_records
from ..sources.universal import universal_records
from ..sources.vectors import read_vector_files
from .context import MODEL, Context
from .progress import run_pipeline

_PATHS = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


def run_ingest(
    obj: Context,
    what: str,
    paths: tuple[Path, ...],
    reader: Reader,
    suffixes: tuple[str, ...],
    names: tuple[str, ...] = (),
) -> None:
    files = expand(paths, suffixes, names)
    run_pipeline(what, lambda progress: ingest_files(obj.store, files, reader, progress=progress))


@click.group()
def ingest() -> None:
    """Read analyses from files into the store; nothing is written from invalid input."""


@ingest.command("probes")
@_PATHS
@click.option("--model", type=MODEL, help="The model, for tables without a model column.")
@click.option("--feature", help="The feature (concept), for tables without a feature column.")
@click.option("--analysis", "analysis_uid", help="Analysis uid (default: from the file).")
@click.pass_obj
def probes(
    obj: Context,
    paths: tuple[Path, ...],
    model: str | None,
    feature: str | None,
    analysis_uid: str | None,
) -> None:
    """k-sparse probing results: sparse-probing-paper CSVs, or the interchange CSV/JSON.

    \b
    Examples:
      circuitbase ingest probes interpretable_neurons/pythia-70m/top_mono_neurons.csv
      circuitbase ingest probes primes.csv --model pythia-70m --feature prime-factors
      circuitbase ingest probes my_probes.json
    """
    reader = partial(probe_records, model=model, feature=feature, analysis_uid=analysis_uid)
    run_ingest(obj, "probes", paths, reader, (".csv", ".json"))


@ingest.command("n2g")
@_PATHS
@click.option(
    "--vocab",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The model's vocabulary: a JSON list of token strings, vocab.json or "
    "tokenizer.json (N2G's JSON stores token ids; graphviz files need none).",
)
@click.option(
    "--model", type=MODEL, help="The model (default: from a neuron_graphs/<model>/ path)."
)
@click.option("--analysis", "analysis_uid", help="Analysis uid (default: n2g/<model>).")
@click.pass_obj
def n2g(
    obj: Context,
    paths: tuple[Path, ...],
    vocab: Path | None,
    model: str | None,
    analysis_uid: str | None,
) -> None:
    """Neuron-to-Graph neuron models, one per neuron, named <layer>_<neuron>.json or kept
    in <layer>_<neuron>/ folders: FeatureModel.to_json() files (the maintained fork), or
    the `graph` DOT files the original script renders (a lossy picture: no predictions).

    \b
    Examples:
      circuitbase ingest n2g neuron_graphs/gpt2-small/ --vocab vocab.json
      circuitbase ingest n2g 3_1234.json --model gpt2-small --vocab tokenizer.json
      circuitbase ingest n2g neuron_graphs/solu-6l-pile/3_15/graph
    """
    reader = partial(
        n2g_records,
        vocab=load_vocab(vocab) if vocab else None,
        model=model,
        analysis_uid=analysis_uid,
    )
    run_ingest(obj, "n2g", paths, reader, (".json", ".dot", ".gv"), ("graph",))


@ingest.command("circuit")
@_PATHS
@click.option("--analysis", "analysis_uid", help="Analysis uid (default: from the file).")
@click.option(
    "--task", help="The task an attribution graph's prompt belongs to (default: the prompt itself)."
)
@click.pass_obj
def circuit(
    obj: Context, paths: tuple[Path, ...], analysis_uid: str | None, task: str | None
) -> None:
    """Circuits: a task's output nodes and edges, as circuitbase's JSON, the canonical
    circuits of the ACDC repository (IOI, greater-than) as JSON, or attribution graphs
    (circuit-tracer's output in Neuronpedia's graph JSON).

    \b
    Examples:
      circuitbase ingest circuit mmlu_circuit.json
      circuitbase ingest circuit canonical_circuits_ioi_greaterthan.json
      circuitbase ingest circuit graphs/ --task addition
    """
    run_ingest(
        obj,
        "circuit",
        paths,
        partial(circuit_records, analysis_uid=analysis_uid, task=task),
        (".json",),
    )


@ingest.command("features")
@_PATHS
@click.option(
    "--analysis",
    "analysis_uid",
    help="Analysis uid of a dashboard file (default: "
    "dashboards/<model>/<layer>-<set>/F<first>-F<last>).",
)
@click.pass_obj
def features(obj: Context, paths: tuple[Path, ...], analysis_uid: str | None) -> None:
    """Evidence about dictionary features: dashboards in the JSON Neuronpedia takes as an
    upload (SAEDashboard's output), or Neuronpedia's exports (a source's features/,
    explanations/ and activations/ batches, .jsonl.gz, read as a stream). Every field is
    kept (an export's feature vectors and explanation embeddings are skipped).

    \b
    Examples:
      circuitbase ingest features batch-0.json batch-1.json
      circuitbase ingest features exports/gpt2-small/0-res-jb/
    """
    run_ingest(
        obj,
        "features",
        paths,
        partial(feature_records, analysis_uid=analysis_uid),
        FEATURE_SUFFIXES,
    )


@ingest.command("saes")
@_PATHS
@click.pass_obj
def saes(obj: Context, paths: tuple[Path, ...]) -> None:
    """SAELens's registry of published SAEs and transcoders (sae_lens/pretrained_saes.yaml):
    one Dictionary per SAE, so that (release, SAE id, index) names a feature.

    \b
    Example:
      circuitbase ingest saes pretrained_saes.yaml
    """
    run_ingest(obj, "SAEs", paths, saelens_records, (".yaml", ".yml"))


@ingest.command("heads")
@_PATHS
@click.option("--analysis", "analysis_uid", help="Analysis uid (default: from the file).")
@click.pass_obj
def heads(obj: Context, paths: tuple[Path, ...], analysis_uid: str | None) -> None:
    """Attention-head categories: interchange CSV (model,layer,head,role,score[,method]) or
    JSON, or TransformerLens head_detector scores saved as JSON.

    \b
    Examples:
      circuitbase ingest heads head_roles.csv
      circuitbase ingest heads detect_head_scores.json
    """
    run_ingest(
        obj, "heads", paths, partial(heads_records, analysis_uid=analysis_uid), (".csv", ".json")
    )


@ingest.command("universal")
@_PATHS
@click.option("--model", type=MODEL, help="The model (default: from the <model>/ folder).")
@click.option(
    "--analysis", "analysis_uid", help="Analysis uid (default: universal-neurons/<model>/<table>)."
)
@click.pass_obj
def universal(
    obj: Context, paths: tuple[Path, ...], model: str | None, analysis_uid: str | None
) -> None:
    """The per-neuron tables of Universal Neurons (Gurnee et al. 2024), every column kept:
    statistics tables (universal.csv, high_excess_correlation.csv, ...) and prediction-
    neuron tables (prediction_neurons.csv), as neuron families.

    \b
    Example:
      circuitbase ingest universal dataframes/interpretable_neurons/pythia-160m/universal.csv
    """
    run_ingest(
        obj,
        "universal neurons",
        paths,
        partial(universal_records, model=model, analysis_uid=analysis_uid),
        (".csv",),
    )


@ingest.command("vectors")
@_PATHS
@click.option("--model", type=MODEL, required=True, help="The model the components belong to.")
@click.pass_obj
def vectors(obj: Context, paths: tuple[Path, ...], model: str) -> None:
    """Per-component embeddings for `similarity compute --metric vectors`, indexed by the
    backend's vector index: JSON {"vectors": {"L3N5": [...]}} or CSV component,v0,v1,...

    \b
    Example:
      circuitbase ingest vectors activations.json --model gpt2-small
    """
    found = read_vector_files(expand(paths, (".json", ".csv")), model)
    run_pipeline(
        "vectors",
        lambda progress: ingest_vectors(obj.store, found, progress=progress),
        report=False,
    )
    click.echo(f"vectors: {len(found)} components of {model} embedded and indexed")
