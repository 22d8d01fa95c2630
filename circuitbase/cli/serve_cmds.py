"""`serve`: the read-only web explorer."""

from __future__ import annotations

import click

from .context import Context


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on. Anything but loopback lets other machines "
    "reach the store (with the URL's token): name it only on purpose.",
)
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="0 picks a free port.",
)
def serve(host: str, port: int) -> None:
    """Browse the store in a web browser, read-only.

    Search, a page per component, concept, task, role and model with everything `show`
    prints, its neighbourhood drawn as a graph to click through, similar components side
    by side, and exports of what is on screen.

    Read-only. It prints an address with a random token, new at every launch, as Jupyter
    does: only someone holding that address can read the store through it.

    \b
    Example:
      circuitbase serve              # open the printed http://127.0.0.1:8765/<token>/
    """
    from ..web.server import is_loopback
    from ..web.server import serve as run

    obj: Context = click.get_current_context().obj
    if not is_loopback(host):
        click.secho(
            f"warning: listening on {host}: any machine that can reach it and has the "
            "address below can read this store",
            fg="yellow",
            err=True,
        )
    store = obj.store

    def announce(url: str) -> None:
        click.echo(f"circuitbase explorer (read-only) at {url}\nCtrl-C stops it.", err=False)

    run(store, host, port, announce=announce)
