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
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
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
        store = self.home / "data" / "databases" / self.database
        if store.exists() and any(store.iterdir()):
            return (
                f"the database {self.database!r} of {self.home} exists; the offline "
                "importer only makes a new one"
            )
        return None


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return (_type(value[0]) if value else "string") + "[]"
    raise TypeError(f"a {type(value).__name__} has no Neo4j import type")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _cell(value: Any, where: str) -> str:
    """One CSV field: empty for no value, a string quoted, a list's items joined."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, (list, tuple)):
        if list(value) == [""]:
            raise StoreError(
                f"{where}: Neo4j's importer reads [''] back as no value; write this "
                "input without the bulk path"
            )
        items = [_scalar(item) for item in value]
        if any(ARRAY_DELIMITER in item for item in items):
            raise StoreError(f"{where}: a list item holds U+E000, the importer's list separator")
        return _quoted(ARRAY_DELIMITER.join(items))
    return _scalar(value)


@dataclass
class _Files:
    """The CSV files of one import, opened as their groups first appear."""

    folder: Path
    nodes: dict[tuple, tuple[IO[str], str]] = field(default_factory=dict)
    rels: dict[tuple, tuple[IO[str], str]] = field(default_factory=dict)

    def node_file(self, node: LoadNode, id_column: str) -> IO[str]:
        names = sorted(node.props)
        signature = (node.labels, id_column, tuple((n, _type(node.props[n])) for n in names))
        if signature not in self.nodes:
            path = self.folder / f"nodes-{len(self.nodes)}.csv"
            out = path.open("w", encoding="utf-8", newline="")
            columns = [
                f"{name}:ID({node.label})" if name == id_column else f"{name}:{kind}"
                for name, kind in signature[2]
            ]
            out.write(",".join(columns) + "\n")
            self.nodes[signature] = (out, f"--nodes={node.labels}={path}")
        return self.nodes[signature][0]

    def rel_file(self, rel: LoadRel) -> IO[str]:
        names = sorted(rel.props)
        signature = (
            rel.type,
            rel.start_ref[0],
            rel.end_ref[0],
            tuple((n, _type(rel.props[n])) for n in names),
        )
        if signature not in self.rels:
            path = self.folder / f"relationships-{len(self.rels)}.csv"
            out = path.open("w", encoding="utf-8", newline="")
            columns = [f":START_ID({rel.start_ref[0]})", f":END_ID({rel.end_ref[0]})"]
            columns += [f"{name}:{kind}" for name, kind in signature[3]]
            out.write(",".join(columns) + "\n")
            self.rels[signature] = (out, f"--relationships={rel.type}={path}")
        return self.rels[signature][0]

    def close(self) -> list[str]:
        """Close every file; the importer's arguments naming them."""
        arguments = []
        for out, argument in [*self.nodes.values(), *self.rels.values()]:
            out.close()
            arguments.append(argument)
        return arguments


def _importable(props: dict[str, Any], where: str, pending: set[str]) -> dict[str, Any]:
    """`props` without its empty lists, their names in EMPTY_LISTS; `pending` gains
    `where.name` for each."""
    empty = sorted(
        name for name, value in props.items() if isinstance(value, (list, tuple)) and not value
    )
    if not empty:
        return props
    pending.update(f"{where}.{name}" for name in empty)
    kept = {name: value for name, value in props.items() if name not in empty}
    return {**kept, EMPTY_LISTS: empty}


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
            node = replace(node, props=_importable(node.props, node.label, pending["nodes"]))
            out = files.node_file(node, key_of[node.label])
            names = sorted(node.props)
            where = f"{node.label} {node.props.get(key_of[node.label])!r}"
            out.write(
                ",".join(_cell(node.props[n], f"{where}, property {n!r}") for n in names) + "\n"
            )
            node_count += 1
            if progress and node_count % 10_000 == 0:
                progress(10_000)
        for rel in rels:
            rel = replace(rel, props=_importable(rel.props, rel.type, pending["rels"]))
            out = files.rel_file(rel)
            where = f"{rel.type} {rel.start_ref[1]!r} -> {rel.end_ref[1]!r}"
            cells = [_quoted(rel.start_ref[1]), _quoted(rel.end_ref[1])]
            cells += [_cell(rel.props[n], f"{where}, property {n!r}") for n in sorted(rel.props)]
            out.write(",".join(cells) + "\n")
            rel_count += 1
            if progress and rel_count % 10_000 == 0:
                progress(10_000)
        if pending["nodes"] or pending["rels"]:
            bookkeeping = {"uid": EMPTY_LISTS, **{k: sorted(v) for k, v in pending.items() if v}}
            marker = LoadNode(PENDING_LABEL, PENDING_LABEL, -1, bookkeeping)
            out = files.node_file(marker, "uid")
            out.write(",".join(_cell(bookkeeping[n], PENDING_LABEL) for n in sorted(bookkeeping)))
            out.write("\n")
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
