"""`ingest FORMAT PATH...`: one subcommand per format of the registry (sources/registry.py),
all through the same runner; `ingest vectors` (embeddings, not records) beside them."""

from __future__ import annotations

from pathlib import Path

import click

from ..sources.registry import formats
from .context import MODEL, Context
from .format_commands import PATHS, format_command


@click.group()
def ingest() -> None:
    """Read analyses from files into the store; nothing is written from invalid input."""


for _format in formats().values():
    ingest.add_command(format_command(_format))


@ingest.command("vectors")
@click.argument("paths", **PATHS)
@click.option("--model", type=MODEL, required=True, help="The model the components belong to.")
@click.option("--revision", metavar="REV", help="The vectors are of the checkpoint MODEL@REV.")
@click.option(
    "--dictionary",
    metavar="NAME",
    help="A decoder matrix's dictionary (L8/res-jb): row i is its feature i.",
)
@click.pass_obj
def vectors(
    obj: Context, paths: tuple[Path, ...], model: str, revision: str | None, dictionary: str | None
) -> None:
    """Per-component embeddings, indexed by the backend's vector index, for `similarity
    compute --metric vectors` and `similar --metric decoder`: JSON {"vectors": {"L3N5":
    [...]}}, CSV component,v0,v1,..., or a dictionary's decoder matrix (a .npy array, or
    SAELens's sae_weights.safetensors and its W_dec) with --dictionary.

    \b
    Examples:
      circuitbase ingest vectors activations.json --model gpt2-small
      circuitbase ingest vectors sae_weights.safetensors --model gpt2-small --dictionary L8/res-jb
    """
    done = obj.kb.ingest_vectors(
        paths, model, dictionary=dictionary, revision=revision, progress=True
    )[0]
    click.echo(f"vectors: {done['components']} components of {done['model']} embedded and indexed")
