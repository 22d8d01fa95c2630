"""Progress of long work (an ingest's reading and checking, writing, summarising), the
same from a notebook as from the command line.

In a terminal each phase shows a live line counting what it has done (rich, on stderr);
in Jupyter the same bar, drawn in the cell by rich (with `ipywidgets`), else one line
per finished phase with its count, so a notebook never sits silent through a long
ingest; elsewhere (a pipe, a log) nothing, the command's summary line saying the rest.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

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

from ..ingest.pipeline import ProgressFactory
from ..store.base import Progress as ProgressCallback

T = TypeVar("T")


def in_jupyter() -> bool:
    """Whether this runs in a Jupyter kernel (as rich decides it)."""
    return bool(Console().is_jupyter)


def _has_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def phases(what: str) -> Iterator[ProgressFactory]:
    """A factory of phases for one piece of work: each new phase ends the one before it."""
    jupyter = in_jupyter()
    if jupyter and not _has_widgets():
        with _lines(what, sys.stdout) as phase:
            yield phase
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    console = Console() if jupyter else Console(stderr=True)
    with Progress(*columns, transient=True, console=console) as bar:
        current: list[TaskID] = []

        def phase(name: str, total: int | None) -> ProgressCallback:
            for task in current:  # the phase before this one is over
                bar.update(task, total=bar.tasks[task].completed, visible=False)
            current[:] = [bar.add_task(f"{name} {what}", total=total)]
            task = current[0]
            return lambda done: bar.advance(task, done)

        yield phase


@contextmanager
def _lines(what: str, out: TextIO) -> Iterator[ProgressFactory]:
    """One line per phase as it ends: `writing heads: 1,234 done`."""
    current: list[list] = []  # [name, done]

    def finish() -> None:
        for name, done in current:
            print(f"{name} {what}: {done:,} done", file=out, flush=True)
        current.clear()

    def phase(name: str, total: int | None) -> ProgressCallback:
        finish()
        entry: list = [name, 0]
        current.append(entry)

        def advance(done: int) -> None:
            entry[1] += done

        return advance

    try:
        yield phase
    finally:
        finish()


def with_progress(what: str, work: Callable[[ProgressFactory | None], T], show: bool) -> T:
    """Run `work` with a phase factory when `show`, else with none."""
    if not show:
        return work(None)
    with phases(what) as phase:
        return work(phase)
