"""`server status` and `server stop`: the embedded store's warm server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from .context import Context
from .output import FORMATS, render


def _embedded(obj: Context):  # -> EmbeddedServer | None
    """The embedded store's server; None where there is no store at the path (nothing is
    made there: a path typed wrong must not become a store)."""
    from ..errors import CircuitbaseError
    from ..store.falkor_server import EmbeddedServer
    from ..store.uri import resolve_uri

    target = resolve_uri(obj.uri)
    if "://" in target and not target.startswith("falkordb://"):
        raise CircuitbaseError(
            f"{target} is not an embedded store; its server is not circuitbase's"
        )
    from ..store import is_embedded_store

    path = Path(target.removeprefix("falkordb://"))
    if not is_embedded_store(path):
        click.echo(f"no server running for {path} (there is no store there)")
        return None
    return EmbeddedServer(path)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@click.group()
def server() -> None:
    """The embedded store's server: where it runs, and stopping it.

    The server stays up between commands so that each answers at the speed of its query,
    and stops by itself once no command has used it for $CIRCUITBASE_SERVER_IDLE seconds
    (default 900; 0: with its last client).
    """


@server.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def status(obj: Context, fmt: str) -> None:
    """Where the server runs, since when, its memory and the store's size (starts nothing).

    \b
    Example:
      circuitbase --db ./kb server status
    """
    if (embedded := _embedded(obj)) is None:
        return
    found = embedded.status()
    if found is None:
        click.echo(f"no server running for {embedded.data_dir}")
        return
    if found["started_at"]:
        since = datetime.fromisoformat(found["started_at"])
        found["up_s"] = round((datetime.now(UTC) - since).total_seconds())
    rows = [{"property": k, "value": v} for k, v in found.items()]
    if fmt == "table":
        for row in rows:
            if row["property"].endswith("_bytes"):
                row["value"] = _size(row["value"] or 0)
    click.echo(render(rows, fmt) if fmt != "json" else render([found], fmt))


@server.command()
@click.option(
    "--discard",
    is_flag=True,
    help="Stop without saving: the way out when the snapshot cannot be written "
    "(full disk); what was written since the last snapshot is lost.",
)
@click.pass_obj
def stop(obj: Context, discard: bool) -> None:
    """Save the store and stop its server now (the next command starts it again).

    \b
    Example:
      circuitbase --db ./kb server stop
    """
    if (embedded := _embedded(obj)) is None:
        return
    if embedded.stop(save=not discard):
        click.echo(f"stopped the server of {embedded.data_dir}")
    else:
        click.echo(f"no server running for {embedded.data_dir}")
