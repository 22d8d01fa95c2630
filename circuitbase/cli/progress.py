"""Progress and the one-line summary for every command that writes through the pipeline.

On a terminal each phase of an ingest (reading and checking, writing, summarising
similarity, storing vectors, building an index) shows a line that counts what it has
done, as it runs; everywhere the command ends with one summary line whose counts are the
ones the writing bar counted to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from ..ingest import IngestResult
from ..ingest.pipeline import ProgressFactory
from ..store.base import Progress as ProgressCallback


@contextmanager
def phases(what: str) -> Iterator[ProgressFactory]:
    """A factory of phases for one command: each new phase ends the one before it."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        current: list[TaskID] = []

        def phase(name: str, total: int | None) -> ProgressCallback:
            for task in current:  # the phase before this one is over
                bar.update(task, total=bar.tasks[task].completed, visible=False)
            current[:] = [bar.add_task(f"{name} {what}", total=total)]
            task = current[0]
            return lambda done: bar.advance(task, done)

        yield phase


def summary(what: str, result: IngestResult) -> str:
    files = f"{result.files} file(s), " if result.files else ""
    return (
        f"{what}: {files}{result.plan.node_count} nodes and {result.plan.rel_count} "
        f"relationships checked; {result.counts.nodes_created} nodes and "
        f"{result.counts.relationships_created} relationships created"
    )


def run_pipeline(
    what: str, run: Callable[[ProgressFactory], IngestResult], *, report: bool = True
) -> IngestResult:
    """Run one ingest showing each of its phases and, unless the caller words its own,
    print the summary line."""
    with phases(what) as phase:
        result = run(phase)
    if report:
        click.echo(summary(what, result))
    return result
