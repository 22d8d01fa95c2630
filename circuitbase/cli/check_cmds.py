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
    from ..queries.check import check as find
    from ..queries.check import repair as mend

    store = obj.store
    findings = find(store)
    if not findings:
        click.echo("the store is consistent: nothing to repair")
        return
    click.echo(
        render(
            [
                {
                    "finding": f.kind,
                    "count": f.count,
                    "detail": f.detail,
                    "repaired by --repair": "yes" if f.repairable else "no",
                }
                for f in findings
            ],
            fmt,
        )
    )
    if not repair:
        raise SystemExit(1)
    ask_first(yes, "repair these?", "nothing repaired")
    counts = mend(store, findings)
    click.echo(
        f"repaired: {counts.relationships_deleted} relationships and "
        f"{counts.nodes_deleted} nodes deleted"
    )
    left = [f for f in find(store) if f.repairable]
    if left or any(not f.repairable for f in findings):
        raise SystemExit(1)
