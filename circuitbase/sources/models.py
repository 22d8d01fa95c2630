"""Adapter for model configs: a model node and, on request, all its component nodes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..schema.catalog import known_model
from ..schema.checkpoints import split_checkpoint
from ..schema.nodes import CHECKPOINT_FIELDS, ModelComponents, ModelSpec
from ..schema.records import NodeRecord, RecordError, record_error
from ..schema.uids import ComponentKind, ComponentUid
from .files import read_json

COMPONENT_CHOICES = {
    "neurons": ComponentKind.NEURON,
    "heads": ComponentKind.HEAD,
    "mlp": ComponentKind.MLP,
    "attn": ComponentKind.ATTENTION,
}


def component_kinds(names: Iterable[str], what: str) -> set[ComponentKind]:
    """The component kinds `names` name (`neurons`, `heads`, `mlp`, `attn`; `all` is every
    kind); RecordError naming the choices (`what` takes them: `--components`, ...)."""
    wanted = {name.strip() for name in names if name.strip()}
    if "all" in wanted:
        return set(COMPONENT_CHOICES.values())
    unknown = sorted(wanted - set(COMPONENT_CHOICES))
    if unknown:
        raise RecordError(
            f"{what} takes {', '.join(COMPONENT_CHOICES)} or all, not {', '.join(map(repr, unknown))}"
        )
    return {COMPONENT_CHOICES[name] for name in wanted}


def read_model_config(path: Path) -> ModelSpec:
    """A TransformerLens-style config JSON (e.g. `HookedTransformerConfig.to_dict()`)."""
    data = read_json(Path(path))
    if not isinstance(data, dict):
        raise RecordError("a model config must be a JSON object", file=str(path))
    try:
        return ModelSpec.from_tl_config(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise RecordError(
            first["msg"], file=str(path), field=".".join(map(str, first["loc"])) or None
        ) from None


# The most components one command creates: llama-2-70b's neurons are 2.3 million. More would
# take gigabytes to plan, and is far more likely a typo in a dimension than a model.
MAX_COMPONENTS = 5_000_000


def component_count(spec: ModelSpec, kinds: set[ComponentKind]) -> int:
    return len(ModelComponents(spec, frozenset(kinds)))


def component_uids(spec: ModelSpec, kinds: set[ComponentKind]) -> Iterator[ComponentUid]:
    """Every component of the chosen kinds, in layer order."""
    return ModelComponents(spec, frozenset(kinds)).uids()


def model_records(
    spec: ModelSpec, kinds: AbstractSet[ComponentKind] = frozenset()
) -> Iterator[NodeRecord | ModelComponents]:
    """The model's node and, if `kinds` are given, its components of those kinds (one
    record for all of them)."""
    if (total := component_count(spec, set(kinds))) > MAX_COMPONENTS:
        raise RecordError(
            f"{spec.name} would have {total:,} components, over the limit of "
            f"{MAX_COMPONENTS:,} for one command (check its dimensions)",
            field="d_mlp",
        )
    yield spec.record()
    if total:
        yield ModelComponents(spec, frozenset(kinds))


def model_spec(
    name: str,
    config: Path | None = None,
    shape: dict[str, Any] | None = None,
    stored_final: dict[str, Any] | None = None,
) -> ModelSpec:
    """NAME's shape: the TransformerLens `config` file's, else the shipped catalog's, else
    (a checkpoint) its stored final model's; the `shape` values given override."""
    given = {k: v for k, v in (shape or {}).items() if v is not None}
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
