"""How the field names dictionaries (SAEs, transcoders) and their features, and how each
name maps onto circuitbase's uids.

A dictionary is one SAE or transcoder at one layer of one model. circuitbase names it
`<model>/L<layer>/<set>` and its feature `i` `<model>/L<layer>/<set>/F<i>` (the uid
every component has). The other names researchers use map onto these:

    Neuronpedia   gpt2-small/0-res-jb/3           <model>/<layer>-<set>/<index>
    SAELens       (gpt2-small-res-jb, blocks.0.hook_resid_pre, 3)
                  written gpt2-small-res-jb/blocks.0.hook_resid_pre/3
    circuitbase   gpt2-small/L0/res-jb/F3

Neuronpedia's set name is the set: its source `0-res-jb` is layer 0 of set `res-jb`. An
SAE SAELens knows without a Neuronpedia id gets a set made of its release and id
(`gemma-scope-2b-pt-res.layer_3.width_16k.average_l0_14`); its layer is read from the id
where the id says it (`blocks.3.`, `layer_3`), else left unknown, and such a dictionary
(`<model>/<set>`) has no feature uids until its layer is known. An attribution graph names
its dictionary by its Neuronpedia source set when the file gives one, else by its
transcoder set with '/' as '.'.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .aliases import canonical_model
from .graph import NodeLabel
from .records import NodeRecord
from .uids import MODEL_NAME, ComponentKind, ComponentUid, UidError, check_model_name

SET_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
_SET_RE = re.compile(SET_NAME, re.ASCII)
_NEURONPEDIA_SOURCE = re.compile(rf"(?P<layer>\d{{1,4}})-(?P<set>{SET_NAME})", re.ASCII)
_NEURONPEDIA_FEATURE = re.compile(
    rf"(?P<model>{MODEL_NAME})/(?P<layer>\d{{1,4}})-(?P<set>{SET_NAME})/(?P<index>\d{{1,9}})",
    re.ASCII,
)
_SAELENS_FEATURE = re.compile(
    r"(?P<release>[A-Za-z0-9][A-Za-z0-9._-]{0,199})/(?P<sae_id>.+)/"
    r"(?P<index>\d{1,9})",
    re.ASCII | re.DOTALL,
)
_HOOK = re.compile(
    r"(?:^|/)(?P<hook>blocks\.(?P<layer>\d{1,4})\.[A-Za-z0-9_.]*hook_[a-z_]+?)"
    r"(?:__|/|$)",
    re.ASCII,
)
_LAYER = re.compile(r"(?:^|/)layer_(?P<layer>\d{1,4})(?:/|$)", re.ASCII)
_WIDTH = re.compile(r"(?:^|/)width_(?P<n>\d{1,6})(?P<unit>[km]?)(?:/|$)", re.ASCII)


def check_set_name(name: str) -> str:
    if not isinstance(name, str) or not _SET_RE.fullmatch(name):
        raise UidError(
            f"dictionary set name {name!r} is not valid: use letters, digits, '.', "
            "'_' or '-' (at most 100 characters, no '/'), e.g. 'res-jb'"
        )
    return name


def dictionary_uid(model: str, layer: int | None, set_name: str) -> str:
    """`gpt2-small/L0/res-jb`; `<model>/<set>` while the layer is unknown."""
    check_model_name(model)
    check_set_name(set_name)
    return f"{model}/{set_name}" if layer is None else f"{model}/L{layer}/{set_name}"


def dictionary_record(
    model: str, layer: int | None, set_name: str, *, origin: str | None = None, **props: object
) -> NodeRecord:
    """A Dictionary node: its uid's parts as properties, and whatever else a source says
    (release, SAE id, l0, Neuronpedia id, ...)."""
    return NodeRecord(
        NodeLabel.DICTIONARY,
        dictionary_uid(model, layer, set_name),
        {"model": model, "layer": layer, "set": set_name, **props},
        origin=origin,
    )


def dictionary_of(uid: ComponentUid) -> NodeRecord:
    """The Dictionary a feature's uid names (what comes before `/F<index>`), with no more
    than its uid says."""
    if uid.kind is not ComponentKind.FEATURE or uid.dictionary is None:
        raise UidError(f"{uid} is not a dictionary feature")
    return dictionary_record(uid.model, uid.layer, uid.dictionary)


def neuronpedia_source(layer: int, set_name: str) -> str:
    """Neuronpedia's source id (its `layer` column): `0-res-jb`."""
    return f"{layer}-{set_name}"


def parse_neuronpedia_source(source: str) -> tuple[int, str]:
    """(layer, set) of a Neuronpedia source id; UidError for one without a block number
    (`e-att-sm`, an embedding)."""
    found = _NEURONPEDIA_SOURCE.fullmatch(source or "")
    if found is None:
        raise UidError(f"Neuronpedia source {source!r} is not <layer>-<set> (e.g. '0-res-jb')")
    return int(found["layer"]), found["set"]


def parse_neuronpedia_feature(text: str) -> ComponentUid | None:
    """The uid of a Neuronpedia feature id (`gpt2-small/0-res-jb/3`); None if `text` is not
    one."""
    found = _NEURONPEDIA_FEATURE.fullmatch(text.strip())
    if found is None:
        return None
    return ComponentUid(
        canonical_model(found["model"]),
        int(found["layer"]),
        ComponentKind.FEATURE,
        int(found["index"]),
        found["set"],
    )


@dataclass(frozen=True)
class SaeLensName:
    release: str
    sae_id: str
    index: int


def parse_saelens_feature(text: str) -> SaeLensName | None:
    """`<release>/<sae id>/<index>` (the SAE id may hold '/'); None if `text` is not one."""
    found = _SAELENS_FEATURE.fullmatch(text.strip())
    if found is None:
        return None
    return SaeLensName(found["release"], found["sae_id"], int(found["index"]))


def neuronpedia_feature_id(neuronpedia_source_id: str, index: int) -> str:
    """`gpt2-small/0-res-jb/3` from a dictionary's Neuronpedia id and a feature index."""
    return f"{neuronpedia_source_id}/{index}"


def saelens_set_name(release: str, sae_id: str) -> str:
    """A set name for an SAE Neuronpedia does not name: its release and id, '/' as '.',
    anything a uid may not hold as '_', and a hash where that would pass 100 characters."""
    text = re.sub(r"[^A-Za-z0-9._-]", "_", f"{release}.{sae_id}".replace("/", "."))
    if len(text) > 100:
        digest = hashlib.sha256(f"{release}\0{sae_id}".encode()).hexdigest()[:12]
        text = f"{text[:87]}.{digest}"
    return text


def layer_in_id(sae_id: str) -> int | None:
    """The block an SAE id says it reads (`blocks.3.hook_resid_pre`, `layer_3/...`)."""
    found = _HOOK.search(sae_id) or _LAYER.search(sae_id)
    return int(found["layer"]) if found else None


def hook_in_id(sae_id: str) -> str | None:
    """The TransformerLens hook an SAE id names (`blocks.3.hook_resid_pre`), if it does."""
    found = _HOOK.search(sae_id)
    return found["hook"] if found else None


def width_in_id(sae_id: str) -> int | None:
    """The number of features an SAE id says (`width_16k` -> 16384), if it does."""
    found = _WIDTH.search(sae_id)
    if found is None:
        return None
    return int(found["n"]) * {"": 1, "k": 1024, "m": 1024 * 1024}[found["unit"]]


def model_name_of(model: str) -> str:
    """A circuitbase model name for a model as SAELens writes it (`gpt2-small`,
    `meta-llama/Llama-3.1-8B`): its alias if it has one, else the part after the last '/'."""
    name = canonical_model(model)
    if "/" in name:
        name = name.rsplit("/", 1)[1]
    return check_model_name(name)
