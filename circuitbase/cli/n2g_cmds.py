"""`n2g predict`: a neuron's activations on new text, from the stored N2G graph alone."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .context import Context
from .output import FORMATS, render


@click.group()
def n2g() -> None:
    """Neuron-to-Graph models stored in the graph."""


@n2g.command("predict")
@click.argument("uid")
@click.argument("text", required=False)
@click.option(
    "--tokenizer",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The model's tokenizer.json, to split TEXT into tokens.",
)
@click.option(
    "--tokens", "tokens_json", help='The tokens as a JSON list, e.g. \'[" in", " Paris"]\'.'
)
@click.option("--analysis", help="Which N2G analysis, if the neuron has several.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def predict_cmd(
    obj: Context,
    uid: str,
    text: str | None,
    tokenizer: Path | None,
    tokens_json: str | None,
    analysis: str | None,
    fmt: str,
) -> None:
    """Predict neuron UID's activation on each token of TEXT from the database alone.

    \b
    Examples:
      circuitbase n2g predict toy-6l/L1/N42 --tokens '[" we", " met", " in", " Paris"]'
      circuitbase n2g predict gpt2-small/L3/N1234 "we met in Paris" --tokenizer tokenizer.json
    """
    if tokens_json is not None:
        try:
            tokens = json.loads(tokens_json)
        except json.JSONDecodeError as err:
            raise click.BadParameter(f"not a JSON list: {err}", param_hint="--tokens") from None
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise click.BadParameter("a JSON list of strings", param_hint="--tokens")
    elif text is not None and tokenizer is not None:
        tokens = text
    else:
        raise click.UsageError("give TEXT with --tokenizer, or --tokens")
    click.echo(
        render(obj.kb.predict(uid, tokens, tokenizer=tokenizer, analysis=analysis).rows, fmt)
    )
