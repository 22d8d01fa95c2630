"""`model add` and `model list`."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import click
from pydantic import ValidationError

from ..ingest import ingest, ingest_offline
from ..ingest.scratch import Record
from ..schema.catalog import known_model, known_models
from ..schema.checkpoints import split_checkpoint, with_revision
from ..schema.graph import NodeLabel, RelType
from ..schema.nodes import CHECKPOINT_FIELDS, SHAPE_FIELDS, ModelSpec
from ..schema.records import RecordError, record_error, ref, rel
from ..sources.models import component_count, component_kinds, model_records, read_model_config
from .context import BULK, MODEL, Context, neo4j_import
from .format_commands import after_offline_import, offline_target
from .output import FORMATS, ask_first, render
from .progress import run_pipeline

# the options that give a model's shape and what else its spec holds (attn_only comes
# from a config only)
_SHAPE_OPTIONS = (
    *(name for name in SHAPE_FIELDS if name != "attn_only"),
    "n_params",
    "act_fn",
    "family",
    "seed",
    "step",
    "tokens",
)


def _parse_components(text: str) -> set:
    try:
        return component_kinds(text.split(","), "--components")
    except RecordError as err:
        raise click.BadParameter(err.reason) from None


def _spec(name: str, config: Path | None, shape: dict, stored_final: dict | None) -> ModelSpec:
    """NAME's shape: the config's, else the catalog's, else (a checkpoint) its stored
    final model's; options given override."""
    given = {k: v for k, v in shape.items() if v is not None}
    if config is not None:
        base = read_model_config(config).model_dump()
    elif (catalog := known_model(split_checkpoint(name)[0])) is not None:
        base = catalog.model_dump()
    elif stored_final is not None:
        base = {k: v for k, v in stored_final.items() if k != "uid"}
    else:
        base = {}
    base = {k: v for k, v in base.items() if k not in CHECKPOINT_FIELDS}
    try:
        return ModelSpec.model_validate({**base, **given, "name": name})
    except ValidationError as err:
        problem = record_error(err)
        if any(e["type"] == "missing" for e in err.errors()) and not problem.field == "name":
            raise RecordError(
                f"model {name!r} needs a shape: give --config FILE or at least "
                f"--n-layers and --n-heads ({problem})"
            ) from None
        raise problem from None


LISTED = ("family", "n_layers", "d_model", "n_heads", "d_mlp")


@click.group()
def model() -> None:
    """Models: their shape and their components."""


@model.command("add")
@click.argument("name", type=MODEL)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TransformerLens config as JSON (HookedTransformerConfig.to_dict()).",
)
@click.option(
    "--components",
    default="",
    metavar="KINDS",
    help="Also create component nodes: neurons,heads,mlp,attn or all.",
)
@click.option("--n-layers", type=int)
@click.option("--d-model", type=int)
@click.option("--n-heads", type=int)
@click.option("--d-mlp", type=int)
@click.option("--d-head", type=int)
@click.option("--d-vocab", type=int)
@click.option("--n-ctx", type=int)
@click.option("--n-params", type=int)
@click.option("--act-fn")
@click.option("--family")
@click.option("--seed", type=int)
@click.option(
    "--revision",
    help="Add NAME's training checkpoint at this hub revision (step143000): the model "
    "NAME@REVISION, linked to NAME by CHECKPOINT_OF.",
)
@click.option(
    "--step",
    type=click.IntRange(min=0),
    help="A checkpoint's training step, where its revision's name does not say it.",
)
@click.option(
    "--tokens",
    type=click.IntRange(min=0),
    help="A checkpoint's training tokens, where its revision's name does not say them.",
)
@click.option(
    "--base",
    type=MODEL,
    help="The stored model NAME was fine-tuned from (lineage the "
    "names do not show, as gemma-2-2b-it's does).",
)
@BULK
@neo4j_import
@click.pass_obj
def add(
    obj: Context,
    name: str,
    config: Path | None,
    components: str,
    base: str | None,
    bulk: bool | None,
    neo4j_home: Path | None,
    neo4j_database: str,
    revision: str | None,
    **shape: object,
) -> None:
    """Add model NAME; known models (gpt2-small, pythia-70m, ...) need no shape.

    \b
    Examples:
      circuitbase model add gpt2-small --components all
      circuitbase model add my-model --n-layers 2 --d-model 128 --n-heads 4 --d-mlp 512
      circuitbase model add my-model --config tl_config.json --components neurons
      circuitbase model add my-model-tuned --config tl_config.json --base my-model
      circuitbase model add pythia-70m@step1000
      circuitbase model add my-model@ckpt-a --step 500 --tokens 1000000
    """
    name = with_revision(name, revision)
    final, at = split_checkpoint(name)
    if at is None and (shape["step"] is not None or shape["tokens"] is not None):
        raise click.UsageError("--step and --tokens place a checkpoint (NAME@REVISION)")
    stored = None
    if at is not None and neo4j_home is None:
        stored = next(iter(obj.store.models([final])), None)
    spec = _spec(name, config, {k: shape[k] for k in _SHAPE_OPTIONS}, stored)
    if base is not None and neo4j_home is not None:
        raise click.UsageError("--base names a stored model; a new database has none")
    if base is not None:
        from ..queries.names import checked_model

        checked_model(obj.store, base)  # the base is stored first: a typo names near matches
    kinds = _parse_components(components)
    records: Iterable[Record] = model_records(spec, kinds)
    count = component_count(spec, kinds)
    total = 1 + count + (base is not None)  # known before reading
    if base is not None:
        records = chain(
            records,
            [
                rel(
                    RelType.FINE_TUNED_FROM,
                    ref(NodeLabel.MODEL, spec.name),
                    ref(NodeLabel.MODEL, base),
                )
            ],
        )
    if neo4j_home is not None:
        target = offline_target(neo4j_home, neo4j_database)
        result = run_pipeline(
            name, lambda progress: ingest_offline(target, records, progress=progress), report=False
        )
        click.echo(f"{name}: {count} components")
        click.echo(after_offline_import(target))
        return
    result = run_pipeline(
        name,
        lambda progress: ingest(obj.store, records, progress=progress, total=total, bulk=bulk),
        report=False,
    )
    click.echo(
        f"{name}: {count} components; {result.counts.nodes_created} "
        f"nodes and {result.counts.relationships_created} relationships created"
    )


@model.command("remove")
@click.argument("name", type=MODEL)
@click.option("--yes", is_flag=True, help="Remove without asking.")
@click.pass_obj
def remove(obj: Context, name: str, yes: bool) -> None:
    """Remove model NAME: its components (with every fact about them, whoever found it),
    the analyses about it alone, and what nothing refers to any more. A removal cut off
    halfway is finished by running it again.

    \b
    Example:
      circuitbase model remove pythia-70m --yes
    """
    from ..queries.names import checked_model

    store = obj.store
    checked_model(store, name)
    contents = store.model_contents(name)
    parts = [f"{n} {label}" for label, n in contents["components"].items()]
    parts.append(f"{len(contents['analyses'])} analyses about it alone")
    click.echo(f"model {name}: {', '.join(parts)}")
    ask_first(yes, "remove it and all of these?", "nothing removed")
    removed = obj.kb.remove_model(name)[0]
    click.echo(
        f"removed {name}: {removed['nodes_deleted']} nodes and "
        f"{removed['relationships_deleted']} relationships deleted"
    )


@model.command("list")
@click.option("--known", is_flag=True, help="List the shipped known model shapes instead.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def list_models(obj: Context, known: bool, fmt: str) -> None:
    """List the models in the store (or the known shapes).

    \b
    Example:
      circuitbase model list --known
    """
    if known:
        rows = [s.model_dump(exclude_none=True) for s in known_models().values()]
    else:
        rows = [{k: row[k] for k in ("model", *LISTED)} for row in obj.kb.models()]
    click.echo(render(rows, fmt))
