"""The one-line summary every command that writes through the pipeline ends with, and
the progress of an offline import (the knowledge base's changes show their own,
api/progress.py): the summary's counts are the ones the writing bar counted to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..api import Rows
from ..api.progress import phases
from ..ingest import IngestResult
from ..ingest.pipeline import ProgressFactory


def summary(row: dict[str, Any]) -> str:
    """`heads: 2 file(s), 40 nodes and 60 relationships checked; 40 nodes and 60
    relationships created` from a change's row (api/session.py `written`)."""
    files = f"{row['files']} file(s), " if row["files"] else ""
    return (
        f"{row['what']}: {files}{row['nodes_checked']} nodes and "
        f"{row['relationships_checked']} relationships checked; {row['nodes_created']} "
        f"nodes and {row['relationships_created']} relationships created"
    )


def report(done: Rows) -> dict[str, Any]:
    """Print a change's summary line; its row, for what a command adds to it."""
    click.echo(summary(done[0]))
    return done[0]


def run_offline(what: str, run: Callable[[ProgressFactory], IngestResult]) -> IngestResult:
    """An offline import (into a Neo4j home, not the store) showing each of its phases."""
    with phases(what) as phase:
        return run(phase)
