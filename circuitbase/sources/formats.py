"""What a format `ingest` reads is: each source module declares its `FORMAT` (name, what
it reads, its options, the files it takes, its reader); `registry.formats()` lists them,
and the command line builds one `ingest` subcommand per entry.

A reader takes one path and the options' values as keywords, and yields records; an
option's `load` turns the value given into what the reader takes (a vocabulary file
into its tokens), once per command rather than once per file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from ..schema.aliases import reading_checkpoint
from ..schema.checkpoints import check_revision, with_revision
from ..schema.graph import COMPONENT_LABELS, NodeLabel
from ..schema.records import NodeRecord, RecordError, RelRecord


@dataclass(frozen=True)
class Option:
    """One command-line option of a format: `--flag VALUE`, passed as `keyword`."""

    flag: str
    keyword: str
    help: str
    kind: Literal["text", "model", "file"] = "text"  # model: any of a model's names
    load: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Format:
    """One format `ingest NAME PATH...` reads."""

    name: str  # the subcommand
    summary: str  # one line: README's list and the first line of --help
    details: str  # the rest of --help (what is kept, examples)
    reader: Callable[..., Iterable[NodeRecord | RelRecord]]
    suffixes: tuple[str, ...]  # files a folder given is searched for
    names: tuple[str, ...] = ()  # ... and files of these names
    options: tuple[Option, ...] = ()
    what: str = ""  # how progress names what is read (default: the name)
    # an import: it adds nodes, and refuses to change any that is stored (a file must not
    # rewrite a stored analysis's citation or a model's shape)
    additive: bool = False

    def read_with(
        self, given: dict[str, Any], revision: str | None = None
    ) -> Callable[[Path], Iterable[NodeRecord | RelRecord]]:
        """The reader of one command: the options' values (loaded) bound to it; with a
        `revision`, reading a checkpoint's files (`at_revision`)."""
        values = {
            option.keyword: option.load(given[option.keyword])
            if option.load is not None and given.get(option.keyword) is not None
            else given.get(option.keyword)
            for option in self.options
        }
        if revision is not None:
            check_revision(revision)
            values |= {
                option.keyword: with_revision(str(values[option.keyword]), revision)
                for option in self.options
                if option.kind == "model" and values.get(option.keyword) is not None
            }
            return partial(at_revision, partial(self.reader, **values), revision)
        return partial(self.reader, **values)


def at_revision(
    reader: Callable[[Path], Iterable[NodeRecord | RelRecord]], revision: str, path: Path
) -> Iterator[NodeRecord | RelRecord]:
    """The records of `path` read as a checkpoint's (`ingest ... --revision REV`): every
    model name the file gives without a revision names `MODEL@REV` (schema.aliases reads
    it while each record is made, so uids, models and analysis names all follow). A file
    about several models (SAELens's registry, a universality table of seeds) has no one
    checkpoint, and is refused."""
    models: set[str] = set()
    with reading_checkpoint(revision):
        records = iter(reader(path))
    while True:
        with reading_checkpoint(revision):
            record = next(records, None)
        if record is None:
            return
        models |= _models_named(record)
        if len(models) > 1:
            raise RecordError(
                f"the file is about {len(models)} models ({', '.join(sorted(models)[:4])}): "
                f"--revision {revision} names a checkpoint of one model",
                file=str(path),
                record=record.origin,
            )
        yield record


def _models_named(record: NodeRecord | RelRecord) -> set[str]:
    """The models a record is about: a Model's name, a component's or dictionary's model
    (the first part of its uid)."""
    if isinstance(record, NodeRecord):
        ends = [(record.label, record.key)]
    else:
        ends = [(record.start.label, record.start.key), (record.end.label, record.end.key)]
    return {
        key if label is NodeLabel.MODEL else key.partition("/")[0]
        for label, key in ends
        if label is NodeLabel.MODEL or label in _OF_A_MODEL
    }


_OF_A_MODEL = COMPONENT_LABELS | {NodeLabel.DICTIONARY}  # uids that start with their model


def analysis_option(default: str = "from the file") -> Option:
    return Option("--analysis", "analysis_uid", f"Analysis uid (default: {default}).")
