"""Neo4j's offline importer (`neo4j-admin database import full`) fed from a bulk load.

The importer fills a new database of a stopped DBMS from CSV files, several times faster
than any write over Bolt. Each group of nodes with the same labels and the same typed
properties gets a file (its header names each column's Neo4j type: `long`, `double`,
`boolean`, `string` and their arrays), as does each relationship type; a relationship
names its ends by key within its end's label (`:START_ID(Neuron)`).

The files are written so that the importer reads every value back exactly: each string
quoted (quotes doubled, line breaks allowed: `--multiline-fields`), never trimmed; list
items joined by a private-use character (U+E000) that no stored string holds (one that
does is refused before anything is imported). An empty list has no CSV form the importer
reads back (it comes back absent): the node or relationship is imported with the names
of its empty lists in `_empty_lists`, and a bookkeeping node (`PENDING_LABEL`) lists the
labels and types that carry one; the first time circuitbase opens the database for
writing (`circuitbase init` after the DBMS is started) it sets those lists and removes
both, along with making the constraints, indexes and summaries. A list of one empty
string would come back absent too: refused, saying so, before the importer runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import StoreError
from .driver import LoadNode, LoadRel, Progress, WriteCounts

ARRAY_DELIMITER = "\ue000"
EMPTY_LISTS = "_empty_lists"  # the names of an element's empty lists, until set
PENDING_LABEL = "CircuitbasePending"  # lists where EMPTY_LISTS is, until then
IMPORT_TIMEOUT_S = 6 * 3600


@dataclass(frozen=True)
class OfflineNeo4j:
    """A database of a stopped Neo4j DBMS that circuitbase can reach on disk: `home` is its
    NEO4J_HOME, `admin` the command line of its `neo4j-admin` (default
    `home/bin/neo4j-admin`)."""

    home: Path
    database: str = "neo4j"
    admin: tuple[str, ...] = ()

    def command(self) -> list[str]:
        if self.admin:
            return list(self.admin)
        tool = self.home / "bin" / "neo4j-admin"
        if not tool.exists():
            raise StoreError(f"no neo4j-admin at {tool}: is {self.home} a Neo4j installation?")
        return [str(tool)]

    def unavailable(self) -> str | None:
        """Why this import cannot run, before anything is written (None: it can)."""
        if not _DATABASE_NAME.fullmatch(self.database) or self.database.startswith("system"):
            return (
                f"{self.database!r} cannot be imported into: a new database's name is 3 to 63 "
                "lowercase ASCII letters, digits, '.' and '-', starting with a letter, and "
                "not `system` (Neo4j's own)"
            )
        if any(c in str(self.home.absolute()) for c in ",="):
            return (
                f"{self.home} holds ',' or '=', which the importer reads as separators in "
                "its file arguments: choose a path without them"
            )
        store = self.home / "data" / "databases" / self.database
        if store.exists() and any(store.iterdir()):
            return (
                f"the database {self.database!r} of {self.home} exists; the offline "
                "importer only makes a new one"
            )
        return None


# Neo4j's rule for a database name (its operations manual, "Database names")
_DATABASE_NAME = re.compile(r"[a-z][a-z0-9.-]{2,62}", re.ASCII)

_SCALAR_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}


def _type(value: Any) -> str:
    """The importer's type of a value (by exact type: `bool` is not taken for `int`)."""
    kind = type(value)
    if kind is list or kind is tuple:
        return (_SCALAR_TYPES[type(value[0])] if value else "string") + "[]"
    return _SCALAR_TYPES[kind]


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return repr(value)
    return str(value)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if '"' in text else '"' + text + '"'


class _Unwritable(ValueError):
    """A value the importer would not read back as it is (the caller says where)."""


def _cell(value: Any) -> str:
    """One CSV field: a string quoted, a list's items joined."""
    kind = type(value)
    if kind is str:
        return _quoted(value)
    if kind is list or kind is tuple:
        if list(value) == [""]:
            raise _Unwritable(
                "Neo4j's importer reads [''] back as no value; write this input without "
                "the bulk path"
            )
        items = [_scalar(item) for item in value]
        if any(ARRAY_DELIMITER in item for item in items):
            raise _Unwritable("a list item holds U+E000, the importer's list separator")
        return _quoted(ARRAY_DELIMITER.join(items))
    return _scalar(value)


def _importable(props: dict[str, Any], where: str, pending: set[str]) -> dict[str, Any]:
    """`props` without its empty lists, their names in EMPTY_LISTS; `pending` gains
    `where.name` for each."""
    empty = [name for name, value in props.items() if type(value) is list and not value]
    if not empty:
        return props
    pending.update(f"{where}.{name}" for name in empty)
    kept = {name: value for name, value in props.items() if name not in empty}
    return {**kept, EMPTY_LISTS: sorted(empty)}


@dataclass
class _Files:
    """The CSV files of one import: one per group of elements (label set, or type and end
    labels) with the same properties of the same types, opened as each first appears."""

    folder: Path
    files: dict[tuple, IO[str]] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)

    def file(self, group: tuple, props: dict[str, Any], header: tuple[str, ...]) -> IO[str]:
        signature = (group, tuple(props), tuple(map(_type, props.values())))
        out = self.files.get(signature)
        if out is None:
            kind = "nodes" if group[0] == "nodes" else "relationships"
            path = self.folder / f"{kind}-{len(self.files)}.csv"
            out = self.files[signature] = path.open("w", encoding="utf-8", newline="")
            names = [f"{name}:{kind_}" for name, kind_ in zip(signature[1], signature[2])]
            out.write(",".join([*header, *names]) + "\n")
            self.arguments.append(f"--{kind}={group[1]}={path}")
        return out

    def close(self) -> list[str]:
        """Close every file; the importer's arguments naming them."""
        for out in self.files.values():
            out.close()
        return self.arguments


def _row(keys: list[str], props: dict[str, Any], where: str) -> str:
    """One CSV line: the element's keys, then its properties in their order."""
    try:
        cells = [_quoted(key) for key in keys]
        cells += [_cell(value) for value in props.values()]
    except _Unwritable as err:
        bad = next(name for name, value in props.items() if _unwritable(value))
        raise StoreError(f"{where}, property {bad!r}: {err}") from None
    return ",".join(cells) + "\n"


def _unwritable(value: Any) -> bool:
    try:
        _cell(value)
    except _Unwritable:
        return True
    return False


def write_files(
    folder: Path,
    nodes: Iterable[LoadNode],
    rels: Iterable[LoadRel],
    key_of: dict[str, str],
    progress: Progress | None = None,
) -> tuple[list[str], tuple[int, int]]:
    """The import's CSV files in `folder`: the importer's arguments naming them and how
    many nodes and relationships they hold. `key_of` gives each label's key property."""
    files = _Files(folder)
    node_count = rel_count = 0
    pending: dict[str, set[str]] = {"nodes": set(), "rels": set()}
    try:
        for node in nodes:
            key = key_of[node.label]
            props = _importable(node.props, node.label, pending["nodes"])
            rest = {name: value for name, value in props.items() if name != key}
            out = files.file(("nodes", node.labels), rest, (f"{key}:ID({node.label})",))
            out.write(_row([props[key]], rest, f"{node.label} {props[key]!r}"))
            node_count += 1
            if progress and node_count % 10_000 == 0:
                progress(10_000)
        for rel in rels:
            props = _importable(rel.props, rel.type, pending["rels"])
            (start_label, start), (end_label, end) = rel.start_ref, rel.end_ref
            out = files.file(
                ("rels", rel.type, start_label, end_label),
                props,
                (f":START_ID({start_label})", f":END_ID({end_label})"),
            )
            out.write(_row([start, end], props, f"{rel.type} {start!r} -> {end!r}"))
            rel_count += 1
            if progress and rel_count % 10_000 == 0:
                progress(10_000)
        if pending["nodes"] or pending["rels"]:
            bookkeeping = {k: sorted(v) for k, v in pending.items() if v}
            out = files.file(("nodes", PENDING_LABEL), bookkeeping, (f"uid:ID({PENDING_LABEL})",))
            out.write(_row([EMPTY_LISTS], bookkeeping, PENDING_LABEL))
    finally:
        arguments = files.close()
    return arguments, (node_count, rel_count)


def import_offline(
    target: OfflineNeo4j,
    nodes: Iterable[LoadNode],
    rels: Iterable[LoadRel],
    *,
    counts: tuple[int, int],
    key_of: dict[str, str],
    progress: Progress | None = None,
) -> WriteCounts:
    """Write the files (in a scratch folder beside the DBMS, removed after) and run the
    importer into the new database `target.database`."""
    if (reason := target.unavailable()) is not None:
        raise StoreError(reason)
    command = target.command()
    target.home.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="circuitbase-import-", dir=target.home))
    try:
        arguments, written = write_files(folder, nodes, rels, key_of, progress)
        if written != counts:
            raise StoreError(f"the import files hold {written} of {counts} nodes, relationships")
        done = subprocess.run(
            [
                *command,
                "database",
                "import",
                "full",
                target.database,
                *arguments,
                "--multiline-fields=true",
                f"--array-delimiter={ARRAY_DELIMITER}",
                "--bad-tolerance=0",
                "--skip-bad-relationships=false",
                "--skip-duplicate-nodes=false",
                f"--report-file={folder / 'import.report'}",  # else the working directory
            ],
            env={**os.environ, "NEO4J_HOME": str(target.home)},
            capture_output=True,
            text=True,
            timeout=IMPORT_TIMEOUT_S,
        )
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise StoreError(f"Neo4j's importer failed: {tail}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return WriteCounts(nodes_created=counts[0], relationships_created=counts[1])
