"""`demo`: what `./run` does."""

from __future__ import annotations

import shlex

import click

from ..store import default_data_dir
from .context import Context
from .demo import ask, load_examples
from .output import FORMATS, render


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def demo(obj: Context, fmt: str) -> None:
    """Ingest the bundled example analyses and answer cross-model questions with them.

    \b
    Example:
      circuitbase --db ./demo-kb demo
    """
    click.echo(f"store: {obj.store.backend} at {obj.store.location}")
    load_examples(obj.store, report=click.echo)
    # The commands printed must work as printed: name the store unless it is the default.
    db = (
        ""
        if obj.store.location == str(default_data_dir().resolve())
        else f"--db {shlex.quote(obj.store.location)} "
    )
    for question, rows in ask(obj.store):
        click.echo(
            f"\n{question.text}\n  circuitbase {db}query run {question.template} "
            + " ".join(f"--param {k}={shlex.quote(str(v))}" for k, v in question.params.items())
        )
        click.echo(render(rows, fmt))
    click.echo(f"\nBrowse it all in a web browser:\n  circuitbase {db}serve")
