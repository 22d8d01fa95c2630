"""Canonical, human-typeable identifiers of models and their components.

Every node is merged on its uid, so the uid is the one thing two analyses of
the same component must agree on. The forms follow the design:

    gpt2-small                      model
    gpt2-small/L3/N1234             MLP neuron 1234 of layer 3
    gpt2-small/L5/H1                attention head 1 of layer 5
    gpt2-small/L3/MLP               the MLP layer of block 3
    gpt2-small/L3/ATTN              the attention layer of block 3
    gpt2-small/L8/res-jb/F4021      feature 4021 of dictionary "res-jb" at layer 8

`parse_component` also accepts the short forms researchers write in papers and
TransformerLens code (`L5H1`, `L3N1234`, `blocks.5.attn`, `blocks.3.mlp`) when
the model is given separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ..errors import UidError
from .aliases import canonical_model
from .checkpoints import REVISION


class ComponentKind(str, Enum):
    """The component labels; the value is the graph label."""

    NEURON = "Neuron"
    HEAD = "AttentionHead"
    MLP = "MLP"
    ATTENTION = "Attention"
    FEATURE = "Feature"


# a model, or one of its training checkpoints: `pythia-70m@step1000` (schema/checkpoints.py)
MODEL_NAME = rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,99}}(?:@{REVISION})?"
_MODEL_RE = re.compile(rf"{MODEL_NAME}", re.ASCII)
# ASCII digits only (`\d` would take `٣`), and matched with fullmatch: `$` would let a
# trailing newline through.
_COMPONENT_RE = re.compile(
    rf"(?P<model>{MODEL_NAME})/L(?P<layer>\d{{1,4}})/"
    r"(?:N(?P<neuron>\d{1,9})|H(?P<head>\d{1,9})|(?P<mlp>MLP)|(?P<attn>ATTN)"
    r"|(?P<dictionary>[A-Za-z0-9][A-Za-z0-9._-]{0,99})/F(?P<feature>\d{1,9}))",
    re.ASCII,
)
_SHORT_RE = re.compile(r"L(?P<layer>\d{1,4})(?P<kind>[NH])(?P<index>\d{1,9})", re.ASCII)
_HOOK_RE = re.compile(r"blocks\.(?P<layer>\d{1,4})\.(?P<part>attn|mlp)", re.ASCII)


def check_model_name(name: str) -> str:
    """Model names become the first segment of every uid, so they may not contain '/'."""
    if not isinstance(name, str) or not _MODEL_RE.fullmatch(name):
        raise UidError(
            f"model name {name!r} is not valid: use letters, digits, '.', '_' or '-' "
            "(at most 100 characters, no '/'), e.g. 'gpt2-small', and for a training "
            "checkpoint '@' and its revision, e.g. 'pythia-70m@step1000'"
        )
    return name


@dataclass(frozen=True, slots=True)
class ComponentUid:
    """A parsed component uid; `str()` gives back the canonical text."""

    model: str
    layer: int
    kind: ComponentKind
    index: int | None = None
    dictionary: str | None = None

    def _form(self, which: int) -> str:
        return _FORMS[self.kind][which].format(
            layer=self.layer, index=self.index, dictionary=self.dictionary
        )

    def __str__(self) -> str:
        return f"{self.model}/L{self.layer}/{self._form(0)}"

    @property
    def short(self) -> str:
        """The name used in papers: L5H1, L3N1234, L3 MLP."""
        return self._form(1)


# Per kind: the uid's last segment(s), and the short name papers use.
_FORMS: dict[ComponentKind, tuple[str, str]] = {
    ComponentKind.NEURON: ("N{index}", "L{layer}N{index}"),
    ComponentKind.HEAD: ("H{index}", "L{layer}H{index}"),
    ComponentKind.MLP: ("MLP", "L{layer} MLP"),
    ComponentKind.ATTENTION: ("ATTN", "L{layer} ATTN"),
    ComponentKind.FEATURE: ("{dictionary}/F{index}", "L{layer} {dictionary} F{index}"),
}


def parse_component(text: str, model: str | None = None) -> ComponentUid:
    """Parse a canonical uid, or a short form (`L5H1`, `blocks.3.mlp`) given `model`."""
    if not isinstance(text, str):
        raise UidError(f"a component uid must be text, got {type(text).__name__}")
    text = text.strip()
    found = _COMPONENT_RE.fullmatch(text)
    if found:
        parsed = _from_canonical(found)
        if model is not None and parsed.model != canonical_model(model):
            raise UidError(f"{text!r} belongs to model {parsed.model!r}, not {model!r}")
        return parsed
    if model is None and "/" in text:  # `gemma-2-9b/L7H1`: a short form after its model
        prefix, _, rest = text.rpartition("/")
        if _SHORT_RE.fullmatch(rest) or _HOOK_RE.fullmatch(rest):
            return parse_component(rest, model=prefix)
    if model is not None:
        model = check_model_name(canonical_model(model))
        short = _SHORT_RE.fullmatch(text)
        if short:
            kind = ComponentKind.NEURON if short["kind"] == "N" else ComponentKind.HEAD
            return ComponentUid(model, int(short["layer"]), kind, int(short["index"]))
        hook = _HOOK_RE.fullmatch(text)
        if hook:
            kind = ComponentKind.MLP if hook["part"] == "mlp" else ComponentKind.ATTENTION
            return ComponentUid(model, int(hook["layer"]), kind)
    raise UidError(
        f"{text!r} is not a component uid; expected e.g. 'gpt2-small/L3/N1234', "
        "'gpt2-small/L5/H1', 'gpt2-small/L3/MLP', 'gpt2-small/L3/ATTN' or "
        "'gpt2-small/L8/res-jb/F4021'"
        + ("" if model else " (short forms like 'L5H1' need the model)")
    )


def _from_canonical(found: re.Match[str]) -> ComponentUid:
    model, layer = canonical_model(found["model"]), int(found["layer"])
    if found["neuron"] is not None:
        return ComponentUid(model, layer, ComponentKind.NEURON, int(found["neuron"]))
    if found["head"] is not None:
        return ComponentUid(model, layer, ComponentKind.HEAD, int(found["head"]))
    if found["mlp"]:
        return ComponentUid(model, layer, ComponentKind.MLP)
    if found["attn"]:
        return ComponentUid(model, layer, ComponentKind.ATTENTION)
    return ComponentUid(
        model, layer, ComponentKind.FEATURE, int(found["feature"]), found["dictionary"]
    )


def neuron_uid(model: str, layer: int, index: int) -> str:
    return str(ComponentUid(model, layer, ComponentKind.NEURON, index))


def head_uid(model: str, layer: int, index: int) -> str:
    return str(ComponentUid(model, layer, ComponentKind.HEAD, index))


def model_of(uid: str | None) -> str | None:
    """The model of a component uid; None for anything else (a concept, a token, ...)."""
    try:
        return parse_component(uid or "").model
    except UidError:
        return None
