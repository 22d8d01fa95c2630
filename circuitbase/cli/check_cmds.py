"""`check`: find what an earlier version or a cut-off command left in the store; repair it."""

from __future__ import annotations

import click

from .context import Context
from .output import FORMATS, ask_first, render


@click.command("check")
@click.option("--repair", is_flag=True, help="Repair what is found (asks first unless --yes).")
@click.option("--yes", is_flag=True, help="Repair without asking.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def check(obj: Context, repair: bool, yes: bool, fmt: str) -> None:
    """Find orphan nodes, facts of removed analyses and models merged by an alias; repair them.

    Reads only, unless --repair: then facts citing an analysis the store lacks and nodes
    nothing refers to are deleted, and analyses stored under the wrong model are retracted
    (ingest their files again). Exit code 1 when something is found and not repaired.

    \b
    Examples:
      circuitbase check
      circuitbase check --repair --yes
    """
    findings = obj.kb.check()
    if not findings:
        click.echo("the store is consistent: nothing to repair")
        return
    click.echo(render(findings.rows, fmt))
    if not repair:
        raise SystemExit(1)
    ask_first(yes, "repair these?", "nothing repaired")
    left = obj.kb.repair()
    click.echo(left.note)
    if left:
        raise SystemExit(1)
