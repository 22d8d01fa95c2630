"""`analyze ...`: analyses that run a TransformerLens model (the [analysis] extra)."""

from __future__ import annotations

from pathlib import Path

import click

from .context import MODEL, Context
from .progress import report

_CHECKPOINT = click.option(
    "--checkpoint",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved model ({cfg, state_dict}, see circuitbase.analyze.models.save_checkpoint); "
    "without it the model is loaded by name with HookedTransformer.from_pretrained.",
)


_REVISION = click.option(
    "--revision",
    metavar="REV",
    help="Analyse the training checkpoint at this hub revision (stored as MODEL@REV, "
    "linked to MODEL by CHECKPOINT_OF): loaded with TransformerLens's checkpoint_value "
    "(its step), or from --checkpoint.",
)


_DEVICE = click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="Where the model runs: auto takes a CUDA GPU when there is one.",
)


def _layers(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        if not text.isascii():
            raise ValueError(text)  # Python reads `٣` as 3
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected layer numbers like 0,3,5, got {text!r}") from None


@click.group()
def analyze() -> None:
    """Run an analysis on a model with TransformerLens and store its findings."""


@analyze.command("probe")
@click.argument("model", type=MODEL)
@click.option(
    "--concept-data",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled tokens as JSON (circuitbase schema export concept-data).",
)
@click.option(
    "--k", default=1, show_default=True, type=click.IntRange(1, 4096), help="Neurons per probe."
)
@click.option("--layers", help="Comma-separated layers (default: all).")
@click.option("--seed", default=0, show_default=True, type=int)
@_CHECKPOINT
@_REVISION
@_DEVICE
@click.pass_obj
def probe(
    obj: Context,
    model: str,
    concept_data: Path,
    k: int,
    layers: str | None,
    seed: int,
    checkpoint: Path | None,
    revision: str | None,
    device: str,
) -> None:
    """k-sparse probing of MODEL's MLP neurons for one concept, at every layer.

    \b
    Example:
      circuitbase analyze probe toy-2l --checkpoint toy.pt --concept-data digits.json --k 1
    """
    report(
        obj.kb.analyze_probe(
            model,
            concept_data,
            k=k,
            layers=_layers(layers),
            seed=seed,
            checkpoint=checkpoint,
            revision=revision,
            device=device,
            progress=True,
        )
    )


@analyze.command("heads")
@click.argument("model", type=MODEL)
@click.option(
    "--sequences",
    default=32,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Repeated random sequences to average over.",
)
@click.option(
    "--period",
    type=click.IntRange(2, 10_000),
    help="Length of the repeated random block (default: min(20, (n_ctx-1)/2)).",
)
@click.option("--seed", default=0, show_default=True, type=int)
@_CHECKPOINT
@_REVISION
@_DEVICE
@click.pass_obj
def heads(
    obj: Context,
    model: str,
    sequences: int,
    period: int | None,
    seed: int,
    checkpoint: Path | None,
    revision: str | None,
    device: str,
) -> None:
    """Score every head of MODEL as induction, previous-token and duplicate-token head.

    \b
    Example:
      circuitbase analyze heads toy-2l --checkpoint toy.pt
      circuitbase analyze heads pythia-70m --revision step1000
    """
    report(
        obj.kb.analyze_heads(
            model,
            sequences=sequences,
            period=period,
            seed=seed,
            checkpoint=checkpoint,
            revision=revision,
            device=device,
            progress=True,
        )
    )


@analyze.command("correlate")
@click.argument("model_a", type=MODEL)
@click.argument("model_b", type=MODEL)
@click.option(
    "--text-data",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="What both models read: text (paragraphs separated by blank lines; one "
    "tokenizer for both, checked) or token ids as JSON ([[id, ...], ...]).",
)
@click.option(
    "--checkpoint-a",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="MODEL_A saved as {cfg, state_dict} (default: from the hub by name).",
)
@click.option(
    "--checkpoint-b",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="MODEL_B saved as {cfg, state_dict} (default: from the hub by name).",
)
@click.option(
    "--top-k",
    default=5,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Partners kept per neuron, in each direction.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed of the random rotations of the baseline.",
)
@click.option(
    "--batch-tokens",
    default=4096,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="Tokens per forward pass.",
)
@_REVISION
@_DEVICE
@click.pass_obj
def correlate(
    obj: Context,
    model_a: str,
    model_b: str,
    text_data: Path,
    checkpoint_a: Path | None,
    checkpoint_b: Path | None,
    top_k: int,
    seed: int,
    batch_tokens: int,
    revision: str | None,
    device: str,
) -> None:
    """Correlate every MLP neuron of MODEL_A with every one of MODEL_B over the same tokens
    (Gurnee et al. 2024): each neuron's top-k partners become SIMILAR_TO edges (metric
    activation-correlation), its best correlation, rotated-basis baseline and excess are
    stored, and neurons with excess_corr > 0.5 join the `universal` family.

    \b
    Example:
      circuitbase analyze correlate seed-a seed-b --checkpoint-a a.pt --checkpoint-b b.pt \\
          --text-data tokens.json
      circuitbase similar seed-a/L1/N17 --in seed-b
    """
    report(
        obj.kb.analyze_correlate(
            model_a,
            model_b,
            text_data,
            checkpoint_a=checkpoint_a,
            checkpoint_b=checkpoint_b,
            top_k=top_k,
            seed=seed,
            batch_tokens=batch_tokens,
            revision=revision,
            device=device,
            progress=True,
        )
    )
