"""The notebook (docs/tour.ipynb) is README's tour in Python: every command README's test
runs has its twin there (a code cell whose first line names the command), and the suite
runs it top to bottom, as Jupyter would, on the store `./run` builds, on both backends;
each twin of a question answers at least one row, as its command must.

The cells run in one namespace, each one's last expression evaluated and shown the way
Jupyter shows it (`_repr_html_`), so a result that cannot be displayed fails here too.
"""

from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from test_readme import QUERIES, ROOT, _invoke, readme_blocks, tour_store

from circuitbase.store.uri import URI_ENV

NOTEBOOK = ROOT / "docs" / "tour.ipynb"
# README commands that set up or run the store itself, not the knowledge: the notebook's
# `cb.open()` does what `init` does, and the embedded server is the library's business
OUTSIDE = ("init", "server")


def code_cells() -> list[str]:
    notebook = json.loads(NOTEBOOK.read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def twin(cell: str) -> list[str] | None:
    """The command a cell is the twin of: its first line, `# circuitbase ...`."""
    first = cell.splitlines()[0] if cell else ""
    return shlex.split(first[2:]) if first.startswith("# circuitbase ") else None


def readme_commands() -> list[list[str]]:
    found = []
    for block in readme_blocks():
        if block.marked or block.language != "bash":
            continue
        for words in block.commands():
            if words[0] != "circuitbase":
                continue
            command = words[3] if words[1] == "--db" else words[1]
            if command not in OUTSIDE:
                found.append(words)
    return found


def test_every_readme_command_has_its_python_twin() -> None:
    twins = [words for cell in code_cells() if (words := twin(cell))]
    missing = [" ".join(words) for words in readme_commands() if words not in twins]
    assert missing == []
    assert len(twins) >= 70


def _run(cell: str, namespace: dict[str, Any]) -> Any:
    """Run a cell as Jupyter does: its statements, then its last expression's value."""
    tree = ast.parse(cell)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "tour.ipynb", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "tour.ipynb", "eval"), namespace)


def _answered(value: Any) -> bool:
    if value is None:
        return False
    try:
        return len(value) > 0
    except TypeError:
        return True


@pytest.mark.parametrize("backend", ["falkordb", "neo4j"])
def test_the_notebook_runs_top_to_bottom(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("circuitbase", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    store_uri = tour_store(backend, tmp_path, monkeypatch)
    monkeypatch.setenv(URI_ENV, store_uri)
    namespace: dict[str, Any] = {}
    ran = 0
    try:
        for cell in code_cells():
            value = _run(cell, namespace)
            if hasattr(value, "_repr_html_"):
                assert value._repr_html_()  # what Jupyter shows
            words = twin(cell)
            if words and (words[3] if words[1] == "--db" else words[1]) in QUERIES:
                assert _answered(value), f"{words}: answered nothing ({value!r})"
            ran += 1
    finally:
        for kb in [v for v in namespace.values() if hasattr(v, "close")]:
            kb.close()
        for store in (tmp_path / ".circuitbase", tmp_path / "other-kb"):
            if store.exists():
                _invoke(["--db", str(store), "server", "stop"], {URI_ENV: store_uri})
    assert ran == len(code_cells())
