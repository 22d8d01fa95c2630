"""The `circuitbase` command: thin click wrappers over the library.

Each command's module is imported only when that command runs (`COMMANDS` names them),
so `circuitbase --help` and a quick question do not pay for numpy, pydantic's models,
matplotlib or torch.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading

import click

from ..errors import CircuitbaseError
from ..store.uri import URI_ENV

# name -> (module in circuitbase.cli, attribute, the first sentence of its help); a test
# holds the sentences to the commands' own docstrings.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "analysis": (
        "analysis_cmds",
        "analysis",
        "The analyses behind the facts: list them, retract one.",
    ),
    "analyze": (
        "analyze_cmds",
        "analyze",
        "Run an analysis on a model with TransformerLens and store its findings.",
    ),
    "check": (
        "check_cmds",
        "check",
        "Find orphan nodes, facts of removed analyses and models merged by an alias; repair them.",
    ),
    "demo": (
        "demo_cmds",
        "demo",
        "Ingest the bundled example analyses and answer cross-model questions with them.",
    ),
    "export": (
        "export_cmds",
        "export",
        "Export a template's results or a neighbourhood, with a BibTeX file of its analyses.",
    ),
    "import": (
        "export_cmds",
        "import_",
        "Load a subgraph exported by `circuitbase export` into this store.",
    ),
    "ingest": (
        "ingest_cmds",
        "ingest",
        "Read analyses from files into the store; nothing is written from invalid input.",
    ),
    "init": (
        "store_cmds",
        "init",
        "Create the store (or bring its schema up to date) and print where it is.",
    ),
    "model": ("model_cmds", "model", "Models: their shape and their components."),
    "n2g": ("n2g_cmds", "n2g", "Neuron-to-Graph models stored in the graph."),
    "query": (
        "query_cmds",
        "query",
        "Query templates and ad hoc Cypher; queries always run read-only.",
    ),
    "schema": ("schema_cmds", "schema", "The interchange formats circuitbase reads."),
    "search": (
        "show_cmds",
        "search",
        "Find concepts, tasks, roles, families, tokens, models, dictionaries, and components by their labels and the words of their explanations.",
    ),
    "serve": ("serve_cmds", "serve", "Browse the store in a web browser, read-only."),
    "server": (
        "server_cmds",
        "server",
        "The embedded store's server: where it runs, and stopping it.",
    ),
    "show": ("show_cmds", "show", "Everything known about NAME, with the analyses behind it."),
    "similar": (
        "similarity_cmds",
        "similar",
        "Components of other models like UID, best first, with the analysis behind each match.",
    ),
    "similarity": ("similarity_cmds", "similarity", "Cross-model similarity of components."),
    "stats": (
        "store_cmds",
        "stats",
        "Count nodes per label, relationships per type, and components per model.",
    ),
}


def _machine_fault(err: BaseException) -> str | None:
    """One line for what the machine did, not the input: a full disk, a file gone or not
    allowed, the scratch plan's database failing (None: not such a fault)."""
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(err, sqlite3.Error):
        return f"the scratch file of the ingest plan failed: {err} (a full disk?); nothing written"
    if isinstance(err, OSError) and not isinstance(err, CircuitbaseError):
        where = f": {err.filename}" if err.filename else ""
        return f"{err.strerror or type(err).__name__}{where}"
    return None


class _Group(click.Group):
    """Loads a command's module when the command is used; turns the library's expected
    errors into one red line and exit code 1, and Ctrl-C into one line and exit code 130."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list in `--help`, from COMMANDS: without importing every command."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (
                name,
                COMMANDS[name][2]
                if len(COMMANDS[name][2]) <= limit
                else COMMANDS[name][2][: limit - 3].rsplit(" ", 1)[0] + "...",
            )
            for name in self.list_commands(ctx)
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            result = super().invoke(ctx)
            if ctx.obj is not None:
                ctx.obj.close()  # saving can fail too: reported here, as the command's error
            return result
        except BrokenPipeError:
            raise  # `| head` closed our output: click ends quietly (exit 1), no error line
        except Exception as err:
            # pydantic's errors come from values given on the command line (an analysis
            # uid); pydantic is not imported for them unless the command used it
            pydantic = sys.modules.get("pydantic")
            invalid = pydantic is not None and isinstance(err, pydantic.ValidationError)
            machine = _machine_fault(err)
            if not (invalid or machine or isinstance(err, CircuitbaseError)):
                raise
            from ..schema.records import record_error
            from .terminal import escape_controls

            message = escape_controls(machine or str(record_error(err) if invalid else err))  # type: ignore[arg-type]  # a ValidationError when invalid
            click.secho(f"error: {message}", fg="red", err=True)
            if ctx.obj is not None:
                ctx.obj.failed = True  # closing the store then says nothing more
            sys.exit(1)
        except KeyboardInterrupt:
            # The store is still closed on the way out (the context's close runs), and
            # that ends a running query: the embedded server is stopped (unless another
            # command uses it), Neo4j's transaction was terminated.
            if ctx.obj is not None:
                ctx.obj.interrupted = True
            click.secho(
                "interrupted: stopped (a write cut off is finished by running it again)",
                fg="red",
                err=True,
            )
            sys.exit(130)


@click.group(cls=_Group)
@click.option(
    "--db",
    "uri",
    metavar="URI",
    envvar=URI_ENV,
    help="A directory for the embedded FalkorDB (default: the user data dir), "
    "falkordb://DIR, or neo4j:// / bolt:// for Neo4j (credentials from "
    "NEO4J_USERNAME and NEO4J_PASSWORD). Also $CIRCUITBASE_URI.",
)
@click.version_option(package_name="circuitbase")
@click.pass_context
def main(ctx: click.Context, uri: str | None) -> None:
    """A graph knowledge base of language-model components.

    \b
    Example:
      circuitbase init
      circuitbase model add gpt2-small --components neurons,heads
      circuitbase stats
    """
    from ..settings import check_all
    from .context import Context
    from .terminal import escape_stdout

    check_all()
    escape_stdout()  # stored text may hold escape sequences: shown, never obeyed
    ctx.obj = Context(uri)
    ctx.call_on_close(ctx.obj.close)


def run() -> None:
    """The `circuitbase` executable: `main`, then an exit that skips tearing down modules.

    Python's own exit frees every module's objects one by one; the Neo4j driver builds
    tables of a few hundred thousand objects when it loads, and freeing them took 60-70 ms
    of every Neo4j command (a sixth of a quick question). Here the exit handlers run
    (temporary files and directories are removed), the output is flushed, and the process
    ends. With another thread still running, the ordinary exit waits for it as usual."""
    try:
        main(prog_name="circuitbase")
        code: str | int | None = 0
    except SystemExit as done:
        code = done.code
    if threading.active_count() > 1:
        sys.exit(code)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # what sys.exit does with a message
        code = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: Python's own exit says 120 then
        code = code or 120
    os._exit(code or 0)
