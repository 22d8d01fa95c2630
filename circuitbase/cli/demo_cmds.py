"""`demo`: what `./run` does."""

from __future__ import annotations

import click

from .demo import ask, load_examples
from .context import Context
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
    for question, rows in ask(obj.store):
        click.echo(f"\n{question.text}\n  circuitbase query run {question.template} "
                   + " ".join(f"--param {k}={v}" for k, v in question.params.items()))
        click.echo(render(rows, fmt))


def register(group: click.Group) -> None:
    group.add_command(demo)
