"""`query run`: ad hoc read-only Cypher."""

from __future__ import annotations

import click

from .context import Context
from .output import FORMATS, parse_param, render


def _params(values: tuple[str, ...]) -> dict:
    try:
        return dict(parse_param(v) for v in values)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--param") from None


@click.group()
def query() -> None:
    """Run Cypher against the store (always read-only)."""


@query.command("run")
@click.option("--cypher", required=True, help="A read-only Cypher query; use $name for values.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A query parameter; VALUE is read as JSON if it parses, else as text.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def run(obj: Context, cypher: str, params: tuple[str, ...], fmt: str) -> None:
    """Run an ad hoc read-only query.

    \b
    Example:
      circuitbase query run --cypher 'MATCH (n:Neuron {model: $m}) RETURN count(n) AS n' \\
          --param m=gpt2-small --format json
    """
    click.echo(render(obj.store.read(cypher, _params(params)), fmt))


def register(group: click.Group) -> None:
    group.add_command(query)
