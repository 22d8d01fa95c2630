"""`analysis list` and `analysis remove`: what the store holds, by who found it."""

from __future__ import annotations

import click

from ..schema.graph import NodeLabel
from .context import Context
from .output import FORMATS, ask_first, render


@click.group()
def analysis() -> None:
    """The analyses behind the facts: list them, retract one."""


@analysis.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def list_analyses(obj: Context, fmt: str) -> None:
    """Every stored analysis with its kind, method and models."""
    click.echo(render(obj.kb.analyses().rows, fmt))


@analysis.command("remove")
@click.argument("uid")
@click.option("--yes", is_flag=True, help="Remove without asking.")
@click.pass_obj
def remove(obj: Context, uid: str, yes: bool) -> None:
    """Retract analysis UID and every fact it brought. Facts of other analyses, models and
    their components stay; concepts, tasks, roles, tokens and N2G patterns nothing refers
    to any more go. A removal cut off halfway is finished by running it again.

    \b
    Example:
      circuitbase analysis remove sparse-probing/pythia-70m/pythia-70m_top_mono_neurons --yes
    """
    from ..queries.names import checked_value

    store = obj.store
    checked_value(store, NodeLabel.ANALYSIS, None, uid, "analysis")
    counts = store.fact_counts(uid)
    listed = ", ".join(f"{n} {type_}" for type_, n in counts.items()) or "no facts"
    click.echo(f"analysis {uid}: {listed}")
    ask_first(yes, "remove it and these facts?", "nothing removed")
    removed = obj.kb.remove_analysis(uid)[0]
    click.echo(
        f"removed {uid}: {removed['relationships_deleted']} relationships and "
        f"{removed['nodes_deleted']} nodes deleted"
    )
