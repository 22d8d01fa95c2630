"""README is a test: every command block it shows, and every block of the `docs/` pages it
links, runs as printed, in order (README first), on the store `./run` builds, on both
backends, and every query answers at least one row.

Blocks that cannot run in the suite say so on their first line (`# not run by the test
suite: <reason>`); they are listed here, so marking one more is a visible change to this
test. Commands run from a folder that holds what the repository's root holds (links to
`circuitbase/` and `tests/`), so the paths README prints are the paths used, and files a
command writes stay out of the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from circuitbase.cli import main
from circuitbase.store import open_store
from circuitbase.store.uri import URI_ENV

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# README, then the reference pages beside it (docs/*.md), in the order they are run
PAGES = [README, *sorted(DOCS.glob("*.md"))]
MARK = "# not run by the test suite:"
# The blocks README marks, by their first command: what the suite cannot run, and why.
MARKED = {
    "./run": "builds the store the tour starts from (this test builds it the same way)",
    "circuitbase analyze probe": "the [analysis] extra and a checkpoint",
    "circuitbase n2g predict": "N2G graphs of gpt2-small and its tokenizer.json",
    "circuitbase analyze heads": "the [analysis] extra and a checkpoint",
    "circuitbase similarity compute": "N2G patterns or embeddings of two models",
    "circuitbase query run recurring_features": "two attribution graphs of one transcoder set",
    "circuitbase analyze correlate": "the [analysis] extra and two checkpoints",
    "circuitbase --db": "a server that runs until stopped",
}
# Commands about the embedded store's own server: on Neo4j there is none to show or stop.
EMBEDDED_ONLY = ("server",)
QUERIES = ("query", "similar", "search", "show", "export")  # commands that must answer


@dataclass
class Block:
    line: int  # where it starts in its page
    language: str
    text: str
    page: str = "README.md"

    @property
    def marked(self) -> bool:
        return self.text.lstrip().startswith(MARK)

    def commands(self) -> list[list[str]]:
        """Each command as its words: continuation lines joined, comments left out."""
        joined = re.sub(r"\\\n\s*", " ", self.text)
        return [
            words for line in joined.splitlines() if (words := shlex.split(line, comments=True))
        ]


def readme_blocks() -> list[Block]:
    blocks = []
    for page in PAGES:
        text = page.read_text()
        name = str(page.relative_to(ROOT))
        blocks += [
            Block(text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2), name)
            for m in re.finditer(r"^```(bash|python)\n(.*?)^```", text, re.S | re.M)
        ]
    return blocks


def test_marked_blocks_are_the_listed_ones() -> None:
    """A block is left out of the suite only where README says so, for a listed reason."""
    found = {}
    for block in readme_blocks():
        if not block.marked:
            assert MARK not in block.text, (
                f"{block.page} line {block.line}: the marker is not first"
            )
            continue
        first = " ".join(block.commands()[0])
        listed = [key for key in MARKED if first.startswith(key)]
        assert listed, f"{block.page} line {block.line} is marked but not listed: {first}"
        found[listed[0]] = block.line
    assert sorted(found) == sorted(MARKED)


@pytest.fixture
def tour_dir(tmp_path: Path) -> Path:
    """A folder like the repository's root, for commands to read and write in."""
    for name in ("circuitbase", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def _invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env, input="y\n", catch_exceptions=False)
    return result.exit_code, result.output


def _answers(args: list[str], out: str) -> bool:
    """Whether a query's output holds at least one row (table, JSON, or a written file)."""
    if "(0 rows)" in out or "no similar" in out.lower():
        return False
    if "--format" in args and args[args.index("--format") + 1] == "json" and args[0] != "export":
        data = json.loads(out)
        return bool(data) and data != {"nodes": []}
    return bool(out.strip())


def tour_store(backend: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store the tour starts from, built as `./run` builds it, `folder` the working
    directory: an embedded one in it, or the suite's Neo4j emptied first."""
    if backend == "neo4j":
        from conftest import NEO4J_ENV, skip_without_neo4j

        skip_without_neo4j()
        store_uri = os.environ[NEO4J_ENV]
        with open_store(store_uri) as store:
            store.clear()
    else:
        store_uri = ".circuitbase"
    monkeypatch.chdir(folder)
    code, out = _invoke(["demo"], {URI_ENV: store_uri})  # what ./run does
    assert code == 0, out
    return store_uri


@pytest.mark.parametrize("backend", ["falkordb", "neo4j"])
def test_every_readme_command_runs_as_printed(
    backend: str, tour_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_uri = tour_store(backend, tour_dir, monkeypatch)
    env = {URI_ENV: store_uri}
    ran = 0
    try:
        for block in readme_blocks():
            if block.marked:
                continue
            if block.language == "python":
                monkeypatch.setenv(URI_ENV, env[URI_ENV])
                exec(compile(block.text, f"{block.page}:{block.line}", "exec"), {})
                ran += 1
                continue
            for words in block.commands():
                where = f"{block.page} line {block.line}: {' '.join(words)}"
                if words[0] == "export":
                    name, _, value = words[1].partition("=")
                    env[name] = store_uri if name == URI_ENV else value  # Neo4j: the test server
                    continue
                assert words[0] == "circuitbase", where
                args = words[1:]
                command = args[2] if args[0] == "--db" else args[0]
                if backend == "neo4j" and command in EMBEDDED_ONLY:
                    continue
                code, out = _invoke(args, env)
                assert code == 0, f"{where}\n{out}"
                if command in QUERIES:
                    assert _answers(args, out), f"{where} answered nothing:\n{out}"
                ran += 1
    finally:  # the embedded stores the tour made (on Neo4j too: `import` fills ./other-kb)
        for store in (tour_dir / ".circuitbase", tour_dir / "other-kb"):
            if store.exists():
                _invoke(["--db", str(store), "server", "stop"], env)
    assert ran >= 50  # the tour was found and run (59 commands on Neo4j, 61 on FalkorDB today)


def formats_table() -> str:
    """docs/formats.md's table of formats, as the registry says it (markdown: `<` escaped)."""
    from circuitbase.sources.registry import formats, import_formats

    rows = ["| command | reads | files |", "| --- | --- | --- |"]
    for group, found in (("ingest", formats()), ("import", import_formats())):
        for fmt in found.values():
            summary = fmt.summary.replace("<", "\\<").replace(">", "\\>")
            files = ", ".join(f"`{name}`" for name in fmt.suffixes + fmt.names)
            rows.append(f"| `{group} {fmt.name}` | {summary} | {files} |")
    return "\n".join(rows)


def test_the_list_of_formats_is_the_registry() -> None:
    """Each `ingest`/`import` subcommand comes from the registry, and docs/formats.md lists
    exactly those, with the registry's own words (a format added without its row fails)."""
    text = (DOCS / "formats.md").read_text()
    shown = text.split("<!-- formats: generated from sources/registry.py -->\n")[1]
    assert shown.split("\n<!-- /formats -->")[0] == formats_table()
    from circuitbase.cli.export_cmds import import_
    from circuitbase.cli.ingest_cmds import ingest
    from circuitbase.sources.registry import formats, import_formats

    assert set(ingest.commands) == set(formats()) | {"vectors"}
    assert set(import_.commands) == set(import_formats())
