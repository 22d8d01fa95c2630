"""Commands built from the format registry (sources/registry.py): `ingest NAME` and
`import NAME`, each reading its files through the one pipeline."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import click

from ..ingest.pipeline import Reader, expand, ingest_files
from ..sources.formats import Format, Option
from .context import BULK, MODEL, Context
from .progress import run_pipeline

# the files (and folders, searched for a format's files) an ingest reads
PATHS: dict[str, Any] = {
    "nargs": -1,
    "required": True,
    "type": click.Path(exists=True, path_type=Path),
}


def run_ingest(
    obj: Context,
    what: str,
    paths: tuple[Path, ...],
    reader: Reader,
    suffixes: tuple[str, ...],
    names: tuple[str, ...] = (),
    bulk: bool | None = None,
) -> None:
    files = expand(paths, suffixes, names)
    run_pipeline(
        what, lambda progress: ingest_files(obj.store, files, reader, progress=progress, bulk=bulk)
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
        obj: Context, paths: tuple[Path, ...], bulk: bool | None = None, **given: object
    ) -> None:
        run_ingest(
            obj, fmt.what or fmt.name, paths, fmt.read_with(given), fmt.suffixes, fmt.names, bulk
        )

    command = click.Command(
        fmt.name,
        callback=read,
        params=[click.Argument(["paths"], **PATHS), *(_option(option) for option in fmt.options)],
        help=f"{fmt.summary}\n\n{inspect.cleandoc(fmt.details)}",
        short_help=fmt.summary,
    )
    return BULK(command)
