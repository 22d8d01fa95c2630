"""Adapter for SAELens's registry of published dictionaries (`sae_lens/pretrained_saes.yaml`,
jbloomAus/SAELens, MIT): per release its `model`, `repo_id`, `conversion_func`, `links`
and `saes`, each SAE with its `id` (unique within its release only, often holding '/'),
`path`, and where known `l0`, `neuronpedia` (`<model>/<layer>-<set>`),
`variance_explained`, `norm_scaling_factor`, ...

Each SAE becomes a Dictionary node (schema/dictionaries.py), named by its Neuronpedia id
where it has one, else by its release and id. Every field is kept: the SAE's own under
their names (a nested value as JSON text), its release's as `release_<name>` (`release`
and `sae_id` are the SAELens name); `hook`, `width` and `layer` are read from the id
where it says them (`blocks.3.hook_resid_pre`, `layer_3/width_16k/...`), else left
unknown. Dictionaries are names, not findings: no analysis cites them, and removing an
analysis leaves them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..schema.dictionaries import (
    dictionary_record,
    hook_in_id,
    layer_in_id,
    model_name_of,
    parse_neuronpedia_source,
    saelens_set_name,
    width_in_id,
)
from ..schema.records import NodeRecord, RecordError
from ..schema.uids import UidError
from .files import read_text
from .formats import Format

MAX_SAES = 1_000_000
# names circuitbase gives a dictionary's properties: an SAE's own field of that name is kept
# as `sae_<name>` (its Neuronpedia name is kept as given: a name resolves to a dictionary
# only where the name's layer and set are the dictionary's, queries/names.py)
RESERVED = frozenset(
    {"uid", "model", "layer", "set", "release", "sae_id", "hook", "width", "saelens_model"}
)


def saelens_records(path: Path) -> Iterator[NodeRecord]:
    """A Dictionary record for every SAE of every release in the registry."""
    data = _read_yaml(path)
    if not isinstance(data, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("saes"), list) for v in data.values()
    ):
        raise RecordError(
            "not SAELens's pretrained_saes.yaml: expected {release: {model, saes: [...]}}",
            file=str(path),
        )
    count = 0
    for release, entry in data.items():
        for i, sae in enumerate(entry["saes"]):
            count += 1
            if count > MAX_SAES:
                raise RecordError(f"more than {MAX_SAES:,} SAEs", file=str(path))
            where = f"{release}.saes[{i}]"
            try:
                yield _dictionary(str(release), entry, sae).at(f"{path}, {where}")
            except (RecordError, UidError) as err:
                reason = err.reason if isinstance(err, RecordError) else str(err)
                raise RecordError(
                    reason, file=str(path), record=where, field=getattr(err, "field", None) or "id"
                ) from None


def _read_yaml(path: Path) -> Any:
    """The YAML document at `path`, bounded by its size: aliases are refused (709 bytes of
    nested ones expand to gigabytes: "billion laughs"), and so is a key given twice in one
    mapping (a YAML reader keeps one of the two values silently)."""
    import yaml  # only this adapter reads YAML

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    raise RecordError(
                        f"the key {str(key)[:80]!r} appears twice in one mapping "
                        f"(line {key_node.start_mark.line + 1})",
                        file=str(path),
                        field=str(key)[:80],
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    text = read_text(path)
    try:
        if "*" in text:  # only then can there be an alias: the scanner tells for sure
            for token in yaml.scan(text, Loader=base):
                if isinstance(token, yaml.AliasToken):
                    line = token.start_mark.line + 1
                    raise RecordError(
                        f"YAML aliases (*{token.value[:40]}, line {line}) are refused: a "
                        "few bytes of them can expand to gigabytes",
                        file=str(path),
                    )
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError as err:
        raise RecordError(f"malformed YAML: {str(err).splitlines()[0]}", file=str(path)) from None


def _stored(value: Any) -> Any:
    """A YAML value as a property: scalars as they are, lists and mappings as JSON text."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def _dictionary(release: str, entry: dict[str, Any], sae: Any) -> NodeRecord:
    if not isinstance(sae, dict) or not isinstance(sae.get("id"), str) or not sae["id"]:
        raise RecordError("an SAE is a mapping with a text `id`", field="id")
    sae_id = sae["id"]
    props = {f"release_{k}": _stored(v) for k, v in entry.items() if k != "saes"}
    props |= {
        (f"sae_{k}" if k in RESERVED else str(k)): _stored(v) for k, v in sae.items() if k != "id"
    }
    props |= {
        "release": release,
        "sae_id": sae_id,
        "hook": hook_in_id(sae_id),
        "width": width_in_id(sae_id),
    }
    neuronpedia = sae.get("neuronpedia")
    model_given = sae.get("model") or entry.get("model")
    if not isinstance(model_given, str):
        raise RecordError("the release names no model", field="model")
    layer: int | None = layer_in_id(sae_id)
    set_name = saelens_set_name(release, sae_id)
    model = model_name_of(model_given)
    if isinstance(neuronpedia, str) and neuronpedia.count("/") == 1:
        np_model, source = neuronpedia.split("/")
        try:
            layer, set_name = parse_neuronpedia_source(source)
            model = model_name_of(np_model)
        except UidError:
            pass  # `e-att-sm`: no block number; named by release and id
    props["saelens_model"] = model_given
    return dictionary_record(model, layer, set_name, **props)


def sae_dictionary(
    sae: Any, release: str | None = None, sae_id: str | None = None, name: str | None = None
) -> tuple[NodeRecord, Any]:
    """The Dictionary of an SAELens `SAE` a notebook holds, and its decoder directions
    (`W_dec`, one row per feature), read by shape (`cfg.d_in`, `cfg.d_sae`,
    `cfg.metadata`), so sae_lens need not be imported here. Named as the registry names
    it: by its Neuronpedia id where its metadata has one (`gpt2-small/8-res-jb`), else by
    `release` and `sae_id` (SAELens's names), else by `name` (a set name you choose) at
    its hook's layer. Kept: its hook, width (d_sae), d_in, architecture and every metadata
    field (as `sae_<name>`)."""
    cfg = getattr(sae, "cfg", None)
    metadata = getattr(cfg, "metadata", None)
    if cfg is None or metadata is None or not hasattr(sae, "W_dec"):
        raise RecordError("not an SAELens SAE: expected .cfg.metadata and .W_dec", file="SAE")
    meta = dict(metadata.to_dict()) if hasattr(metadata, "to_dict") else dict(metadata)
    try:
        model_given = meta.get("model_name")
        if not isinstance(model_given, str):
            raise RecordError("the SAE's metadata names no model", field="model_name")
        hook = meta.get("hook_name")
        model, layer = model_name_of(model_given), layer_in_id(hook or "")
        neuronpedia = meta.get("neuronpedia_id")
        if isinstance(neuronpedia, str) and neuronpedia.count("/") == 1:
            np_model, source = neuronpedia.split("/")
            layer, set_name = parse_neuronpedia_source(source)
            model = model_name_of(np_model)
        elif release is not None and sae_id is not None:
            set_name = saelens_set_name(release, sae_id)
            layer = layer_in_id(sae_id) if layer_in_id(sae_id) is not None else layer
        elif name is not None:
            set_name = name
        else:
            raise RecordError(
                "this SAE has no Neuronpedia id: name its dictionary with release= and "
                "sae_id= (SAELens's names) or name= (a set name)",
                field="neuronpedia_id",
            )
        props = {
            f"sae_{k}": _stored(v)
            for k, v in meta.items()
            if v is not None and not k.startswith("sae_lens") and k != "neuronpedia_id"
        }
        props |= {
            "hook": hook,
            "width": int(cfg.d_sae),
            "d_in": int(cfg.d_in),
            "architecture": _architecture(cfg),
            "saelens_model": model_given,
            "neuronpedia": neuronpedia,
            "release": release,
            "sae_id": sae_id,
        }
        kept = {k: v for k, v in props.items() if v is not None}
        return dictionary_record(model, layer, set_name, **kept), sae.W_dec
    except (RecordError, UidError) as err:
        reason = err.reason if isinstance(err, RecordError) else str(err)
        raise RecordError(reason, file="SAE", field=getattr(err, "field", None)) from None


def _architecture(cfg: Any) -> str | None:
    found = getattr(cfg, "architecture", None)
    value = found() if callable(found) else found
    return str(value) if value is not None else None


FORMAT = Format(
    name="saes",
    summary="SAELens's registry of published SAEs and transcoders (sae_lens/pretrained_saes.yaml).",
    details="""One Dictionary per SAE, so that (release, SAE id, index) names a feature.

    \b
    Example:
      circuitbase ingest saes pretrained_saes.yaml""",
    reader=saelens_records,
    suffixes=(".yaml", ".yml"),
    what="SAEs",
)
