"""`ingest FORMAT PATH...`: one subcommand per adapter."""

from __future__ import annotations

import click


@click.group()
def ingest() -> None:
    """Read analyses from files into the store; nothing is written from invalid input."""


def register(group: click.Group) -> None:
    group.add_command(ingest)
