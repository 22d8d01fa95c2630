"""What a format `ingest` reads is: each source module declares its `FORMAT` (name, what
it reads, its options, the files it takes, its reader); `registry.formats()` lists them,
and the command line builds one `ingest` subcommand per entry.

A reader takes one path and the options' values as keywords, and yields records; an
option's `load` turns the value given into what the reader takes (a vocabulary file
into its tokens), once per command rather than once per file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from ..schema.records import NodeRecord, RelRecord


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
        self, given: dict[str, Any]
    ) -> Callable[[Path], Iterable[NodeRecord | RelRecord]]:
        """The reader of one command: the options' values (loaded) bound to it."""
        values = {
            option.keyword: option.load(given[option.keyword])
            if option.load is not None and given.get(option.keyword) is not None
            else given.get(option.keyword)
            for option in self.options
        }
        return partial(self.reader, **values)


def analysis_option(default: str = "from the file") -> Option:
    return Option("--analysis", "analysis_uid", f"Analysis uid (default: {default}).")
