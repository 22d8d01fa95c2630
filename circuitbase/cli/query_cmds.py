"""`query list | show NAME | run NAME`, and ad hoc `query run --cypher`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import settings
from ..queries import get_template, load_templates
from .context import TIMEOUT, Context
from .output import FORMATS, parse_params, render

_TEMPLATE_DIR = click.option(
    "--templates",
    "template_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CIRCUITBASE_TEMPLATES",
    help="A folder of your own .cypher templates.",
)


@click.group()
def query() -> None:
    """Query templates and ad hoc Cypher; queries always run read-only."""


@query.command("list")
@_TEMPLATE_DIR
def list_templates(template_dir: Path | None) -> None:
    """List the query templates.

    \b
    Example:
      circuitbase query list
    """
    rows = [
        {
            "name": t.name,
            "parameters": ", ".join(p.name for p in t.params),
            "description": t.description,
        }
        for t in load_templates(template_dir).values()
    ]
    click.echo(render(rows, "table"))


@query.command("show")
@click.argument("name")
@_TEMPLATE_DIR
def show(name: str, template_dir: Path | None) -> None:
    """Show a template: what it answers, its parameters, columns and Cypher.

    \b
    Example:
      circuitbase query show concept_neurons
    """
    template = get_template(name, template_dir)
    click.echo(f"{template.name}: {template.description}\n\nparameters:")
    for p in template.params:
        default = "required" if p.required else f"default {p.default!r}"
        click.echo(f"  {p.name}: {p.type} ({default})")
    click.echo(f"returns: {', '.join(template.returns)}")
    for example in template.examples:
        click.echo(f"example: {example}")
    click.echo(f"\n{template.cypher}")


@query.command("run")
@click.argument("name", required=False)
@click.option(
    "--cypher", help="Ad hoc read-only Cypher instead of a template; use $name for values."
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter. Template parameters are converted to the declared type; "
    "for --cypher, VALUE is read as JSON if it parses, else as text.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@TIMEOUT
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=settings.max_rows,
    show_default="100000, or $CIRCUITBASE_MAX_ROWS",
    help="Read at most this many rows.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1024),
    default=settings.max_result_bytes,
    show_default="64 MiB, or $CIRCUITBASE_MAX_RESULT_BYTES",
    help="Read at most about this many bytes of rows.",
)
@_TEMPLATE_DIR
@click.pass_obj
def run(
    obj: Context,
    name: str | None,
    cypher: str | None,
    params: tuple[str, ...],
    fmt: str,
    timeout: float,
    max_rows: int,
    max_bytes: int,
    template_dir: Path | None,
) -> None:
    """Run template NAME, or --cypher for an ad hoc query.

    \b
    Examples:
      circuitbase query run concept_neurons --param concept=fr --format json
      circuitbase query run --cypher 'MATCH (n:Neuron {model: $m}) RETURN count(n) AS n' \\
          --param m=gpt2-small
    """
    if (name is None) == (cypher is None):
        raise click.UsageError("give a template NAME or --cypher, not both and not neither")
    caps: dict[str, Any] = {"timeout": timeout, "max_rows": max_rows, "max_bytes": max_bytes}
    if cypher is not None:
        found = obj.kb.cypher(cypher, parse_params(params, typed=False), **caps)
    else:
        assert name is not None  # one of the two, checked above
        found = obj.kb.query(
            name, parse_params(params, typed=True), template_dir=template_dir, **caps
        )
    click.echo(render(found.rows, fmt))
    if cut := found.cut:
        click.echo(
            f"notice: the result was cut at {cut} (--max-rows / --max-bytes read more)", err=True
        )
