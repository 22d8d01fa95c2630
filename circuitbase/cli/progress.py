"""Progress and the one-line summary for every command that writes through the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..ingest import IngestResult
from ..ingest.pipeline import ProgressFactory
from ..store.base import Progress as ProgressCallback


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[ProgressCallback]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.advance(task, done)


def summary(what: str, result: IngestResult) -> str:
    files = f"{result.files} file(s), " if result.files else ""
    return (f"{what}: {files}{result.plan.node_count} nodes and {result.plan.rel_count} "
            f"relationships checked; {result.counts.nodes_created} nodes and "
            f"{result.counts.relationships_created} relationships created")


def run_pipeline(what: str, run: Callable[[ProgressFactory], IngestResult], *,
                 report: bool = True) -> IngestResult:
    """Run one ingest with a progress bar (shown once the rows to write are known) and,
    unless the caller words its own, print the summary line."""
    with ExitStack() as stack:
        result = run(lambda total: stack.enter_context(progress_bar(f"writing {what}", total)))
    if report:
        click.echo(summary(what, result))
    return result
