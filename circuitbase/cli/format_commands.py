"""Commands built from the format registry (sources/registry.py): `ingest NAME` and
`import NAME`, each reading its files through the one pipeline."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import click

from ..api.session import written
from ..ingest.pipeline import Reader, expand, ingest_offline
from ..sources.formats import Format, Option
from ..store.neo4j_import import OfflineNeo4j
from .context import BULK, MODEL, Context, neo4j_import
from .progress import report, run_offline, summary

# the files (and folders, searched for a format's files) an ingest reads
PATHS: dict[str, Any] = {
    "nargs": -1,
    "required": True,
    "type": click.Path(exists=True, path_type=Path),
}


# a head role one edit from a known one is refused as a typo unless named here (ingest.plan)
NEW_ROLE = click.Option(
    ["--new-role", "new_roles"],
    multiple=True,
    metavar="NAME",
    help="A head role that is new although one letter from a known one (repeatable).",
)


# the files are a training checkpoint's (schema/checkpoints.py): every model they name
# without a revision is MODEL@REV; an import's files name their models themselves
REVISION = click.Option(
    ["--revision"],
    metavar="REV",
    help="The files measure a training checkpoint: MODEL@REV for every model they name "
    "(e.g. step1000); a file about several models is refused.",
)


def offline(
    what: str, paths: tuple[Path, ...], fmt: Format, reader: Reader, home: Path, database: str
) -> None:
    """An ingest into a new database of a Neo4j home (its offline importer), not the store."""
    target = offline_target(home, database)
    files = expand(paths, fmt.suffixes, fmt.names)
    result = run_offline(
        what, lambda progress: ingest_offline(target, paths=files, reader=reader, progress=progress)
    )
    click.echo(summary(written(what, result)[0]))
    click.echo(after_offline_import(target))


def offline_target(home: Path, database: str) -> OfflineNeo4j:
    from .. import settings

    return OfflineNeo4j(home, database, settings.neo4j_admin())


def after_offline_import(target: OfflineNeo4j) -> str:
    return (
        f"imported into the new database {target.database!r} of {target.home}: start Neo4j, "
        "then run `circuitbase --db bolt://HOST:PORT init` (constraints, indexes, summaries)"
    )


def _option(option: Option) -> click.Option:
    kinds = {
        "text": click.STRING,
        "model": MODEL,
        "file": click.Path(exists=True, dir_okay=False, path_type=Path),
    }
    return click.Option([option.flag, option.keyword], type=kinds[option.kind], help=option.help)


def format_command(fmt: Format) -> click.Command:
    """`NAME PATHS... [OPTIONS]` for one format of the registry (`ingest`'s, `import`'s)."""

    @click.pass_obj
    def read(
        obj: Context,
        paths: tuple[Path, ...],
        bulk: bool | None = None,
        neo4j_home: Path | None = None,
        neo4j_database: str = "neo4j",
        new_roles: tuple[str, ...] = (),
        revision: str | None = None,
        **given: object,
    ) -> None:
        what = fmt.what or fmt.name
        if neo4j_home is not None:
            reader = fmt.read_with(given, revision)
            offline(what, paths, fmt, reader, neo4j_home, neo4j_database)
        elif fmt.additive:
            report(obj.kb.import_(paths, fmt.name, progress=True))
        else:
            report(
                obj.kb.ingest(
                    paths,
                    fmt.name,
                    revision=revision,
                    new_roles=new_roles,
                    bulk=bulk,
                    progress=True,
                    **given,
                )
            )

    command = click.Command(
        fmt.name,
        callback=read,
        params=[
            click.Argument(["paths"], **PATHS),
            *(_option(option) for option in fmt.options),
            NEW_ROLE,
            *([] if fmt.additive else [REVISION]),
        ],
        help=f"{fmt.summary}\n\n{inspect.cleandoc(fmt.details)}",
        short_help=fmt.summary,
    )
    return neo4j_import(BULK(command))
