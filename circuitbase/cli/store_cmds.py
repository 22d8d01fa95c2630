"""`init` and `stats`."""

from __future__ import annotations

import json

import click

from .context import Context
from .output import FORMATS, ask_first, render


@click.command()
@click.option("--reset", is_flag=True, help="Delete everything in the store first (asks).")
@click.option("--yes", is_flag=True, help="With --reset: do not ask.")
@click.pass_obj
def init(obj: Context, reset: bool, yes: bool) -> None:
    """Create the store (or bring its schema up to date) and print where it is.

    Also what follows an offline import into Neo4j (`--neo4j-home`): the similarity
    summaries and the empty lists the importer cannot write.

    \b
    Example:
      circuitbase --db ./kb init
    """
    store = obj.store
    if reset:
        ask_first(yes, f"delete everything in {store.location}?", "nothing deleted")
        store.clear()
    store.prepare_for_writes()
    click.echo(f"circuitbase store ready: {store.backend} at {store.location}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def stats(obj: Context, fmt: str) -> None:
    """Count nodes per label, relationships per type, and components per model.

    \b
    Example:
      circuitbase stats --format json
    """
    nodes = obj.kb.stats()
    tables = {"labels": nodes, **nodes.more}
    if fmt == "json":
        as_dict = {
            "labels": {r["label"]: r["nodes"] for r in nodes},
            "relationships": {r["type"]: r["relationships"] for r in nodes.more["relationships"]},
            "models": nodes.more["models"].rows,
        }
        click.echo(json.dumps(as_dict, indent=2))
        return
    for table in tables.values():
        click.echo(render(table.rows, fmt, title=table.title))
