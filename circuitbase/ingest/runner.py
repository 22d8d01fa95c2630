"""Ingest a set of files: read them all, report every bad file, write only if all are good."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..schema.records import RecordError
from ..store.base import GraphStore, Progress, WriteCounts
from .plan import Plan, Record, make_plan
from .writer import write_plan

Reader = Callable[[Path], Iterable[Record]]


class IngestErrors(RecordError):
    """One or more files could not be read; nothing was written."""

    SHOWN = 20

    def __init__(self, errors: Sequence[RecordError]) -> None:
        self.errors = list(errors)
        lines = "\n".join(f"  {e.describe()}" for e in self.errors[:self.SHOWN])
        more = len(self.errors) - self.SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.errors)} file(s) rejected, nothing written:\n{lines}{tail}")


@dataclass
class IngestResult:
    files: int
    plan: Plan
    counts: WriteCounts


def expand(paths: Iterable[Path], suffixes: tuple[str, ...],
           names: tuple[str, ...] = ()) -> list[Path]:
    """Files as given, and the files under any directory given that have one of the
    suffixes or one of the exact names (N2G's graphviz file is called `graph`)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and
                            (p.suffix.lower() in suffixes or p.name in names))
        else:
            found.append(path)
    return found


def plan_files(store: GraphStore, paths: Sequence[Path], reader: Reader) -> Plan:
    records: list[Record] = []
    errors: list[RecordError] = []
    for path in paths:
        try:
            records += list(reader(path))
        except RecordError as err:
            errors.append(err.located(file=str(path)))
    if errors:
        raise IngestErrors(errors)
    if not paths:
        raise RecordError("no input files")
    return make_plan(records, store)


def ingest_files(store: GraphStore, paths: Sequence[Path], reader: Reader, *,
                 progress: Callable[[int], Progress] | None = None) -> IngestResult:
    """`progress`, if given, gets the number of rows to write and returns the per-batch callback."""
    plan = plan_files(store, paths, reader)
    callback = progress(plan.node_count + plan.rel_count) if progress else None
    return IngestResult(len(paths), plan, write_plan(store, plan, progress=callback))
