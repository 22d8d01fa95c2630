"""`model add` and `model list`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..ingest import ingest_offline
from ..schema.checkpoints import with_revision
from ..schema.nodes import SHAPE_FIELDS
from ..sources.models import component_count, component_kinds, model_records, model_spec
from .context import BULK, MODEL, Context, neo4j_import
from .format_commands import after_offline_import, offline_target
from .output import FORMATS, ask_first, render
from .progress import run_offline

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
    given: dict[str, Any] = {k: shape[k] for k in _SHAPE_OPTIONS}
    if neo4j_home is None:
        done = obj.kb.add_model(
            name, config=config, components=components, base=base, bulk=bulk, progress=True, **given
        )[0]
        click.echo(
            f"{done['model']}: {done['components']} components; {done['nodes_created']} "
            f"nodes and {done['relationships_created']} relationships created"
        )
        return
    if base is not None:
        raise click.UsageError("--base names a stored model; a new database has none")
    spec = model_spec(name, config, given)
    kinds = component_kinds([c for c in components.split(",") if c], "--components")
    target = offline_target(neo4j_home, neo4j_database)
    run_offline(
        name, lambda progress: ingest_offline(target, model_records(spec, kinds), progress=progress)
    )
    click.echo(f"{name}: {component_count(spec, kinds)} components")
    click.echo(after_offline_import(target))


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
        rows = obj.kb.models(known=True).rows
    else:
        rows = [{k: row[k] for k in ("model", *LISTED)} for row in obj.kb.models()]
    click.echo(render(rows, fmt))
