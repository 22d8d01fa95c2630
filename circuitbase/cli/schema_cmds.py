"""`schema export`: the JSON Schema of an interchange format."""

from __future__ import annotations

import json

import click

from ..schema.interchange import INTERCHANGE_FORMATS


@click.group()
def schema() -> None:
    """The interchange formats circuitbase reads."""


@schema.command("export")
@click.argument("name", type=click.Choice(sorted(INTERCHANGE_FORMATS)))
def export(name: str) -> None:
    """Print the JSON Schema of interchange format NAME.

    \b
    Example:
      circuitbase schema export probes-json > probes.schema.json
    """
    click.echo(json.dumps(INTERCHANGE_FORMATS[name].model_json_schema(), indent=2))
