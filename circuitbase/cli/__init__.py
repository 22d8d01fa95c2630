"""The `circuitbase` command: thin click wrappers over the library."""

from __future__ import annotations

import sys

import click

from pydantic import ValidationError

from ..errors import CircuitbaseError
from ..schema.records import record_error
from ..store import URI_ENV
from .context import Context
from . import (analysis_cmds, analyze_cmds, show_cmds, demo_cmds, export_cmds, ingest_cmds, n2g_cmds,
               similarity_cmds, model_cmds, query_cmds, schema_cmds, serve_cmds, store_cmds)


class _Group(click.Group):
    """Turns the library's expected errors into one red line and exit code 1, and Ctrl-C
    into one line and exit code 130."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (CircuitbaseError, ValidationError) as err:
            # pydantic's errors come from values given on the command line (an analysis uid)
            message = record_error(err) if isinstance(err, ValidationError) else err
            click.secho(f"error: {message}", fg="red", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            # The store is still closed on the way out (the context's close runs), which
            # ends a running query: the embedded server stops when its last client goes,
            # Neo4j ends a transaction whose connection closes.
            click.secho("interrupted: stopped (a write cut off is finished by running it again)",
                        fg="red", err=True)
            sys.exit(130)


@click.group(cls=_Group)
@click.option("--db", "uri", metavar="URI", envvar=URI_ENV,
              help="A directory for the embedded FalkorDB (default: the user data dir), "
                   "falkordb://DIR, or neo4j:// / bolt:// for Neo4j (credentials from "
                   "NEO4J_USERNAME and NEO4J_PASSWORD). Also $CIRCUITBASE_URI.")
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
    ctx.obj = Context(uri)
    ctx.call_on_close(ctx.obj.close)


for module in (store_cmds, model_cmds, query_cmds, ingest_cmds, n2g_cmds, analyze_cmds,
               similarity_cmds, export_cmds, schema_cmds, demo_cmds, analysis_cmds,
               show_cmds, serve_cmds):
    module.register(main)
