"""`analyze ...`: analyses that run a TransformerLens model (the [analysis] extra)."""

from __future__ import annotations

from pathlib import Path

import click

from ..ingest import ingest
from .context import MODEL, Context
from .progress import run_pipeline

_CHECKPOINT = click.option(
    "--checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved model ({cfg, state_dict}, see circuitbase.analyze.models.save_checkpoint); "
         "without it the model is loaded by name with HookedTransformer.from_pretrained.")


def _layers(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected layer numbers like 0,3,5, got {text!r}") from None


@click.group()
def analyze() -> None:
    """Run an analysis on a model with TransformerLens and store its findings."""


@analyze.command("probe")
@click.argument("model", type=MODEL)
@click.option("--concept-data", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled tokens as JSON (circuitbase schema export concept-data).")
@click.option("--k", default=1, show_default=True, type=click.IntRange(1, 4096),
              help="Neurons per probe.")
@click.option("--layers", help="Comma-separated layers (default: all).")
@click.option("--seed", default=0, show_default=True, type=int)
@_CHECKPOINT
@click.pass_obj
def probe(obj: Context, model: str, concept_data: Path, k: int, layers: str | None, seed: int,
          checkpoint: Path | None) -> None:
    """k-sparse probing of MODEL's MLP neurons for one concept, at every layer.

    \b
    Example:
      circuitbase analyze probe toy-2l --checkpoint toy.pt --concept-data digits.json --k 1
    """
    from ..analyze.models import load_model
    from ..analyze.probe import probe_analysis_records

    loaded = load_model(model, checkpoint)
    records = probe_analysis_records(loaded, model, concept_data, k=k, layers=_layers(layers),
                                     seed=seed)
    run_pipeline("probes", lambda progress: ingest(obj.store, records, progress=progress))


@analyze.command("heads")
@click.argument("model", type=MODEL)
@click.option("--sequences", default=32, show_default=True, type=click.IntRange(1, 10_000),
              help="Repeated random sequences to average over.")
@click.option("--period", type=click.IntRange(2, 10_000),
              help="Length of the repeated random block (default: min(20, (n_ctx-1)/2)).")
@click.option("--seed", default=0, show_default=True, type=int)
@_CHECKPOINT
@click.pass_obj
def heads(obj: Context, model: str, sequences: int, period: int | None, seed: int,
          checkpoint: Path | None) -> None:
    """Score every head of MODEL as induction, previous-token and duplicate-token head.

    \b
    Example:
      circuitbase analyze heads toy-2l --checkpoint toy.pt
    """
    from ..analyze.heads import head_analysis_records
    from ..analyze.models import load_model

    loaded = load_model(model, checkpoint)
    records = head_analysis_records(loaded, model, n_sequences=sequences, period=period, seed=seed)
    run_pipeline("head roles", lambda progress: ingest(obj.store, records, progress=progress))


def register(group: click.Group) -> None:
    group.add_command(analyze)
