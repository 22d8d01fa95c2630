"""Pydantic models of the graph's nodes; each turns itself into a NodeRecord.

`ModelSpec` is the one that matters most: it knows the model's shape, so it is
what rejects a component uid that points past the last layer, head or neuron,
and what derives `relative_depth` so that nobody types it by hand.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from .aliases import canonical_model
from .checkpoints import checkpoint_name, split_checkpoint, training_position
from .graph import NodeLabel, RelType, token_uid
from .records import NodeRecord, RecordError, RelRecord, check_text, node, ref, rel
from .uids import ComponentKind, ComponentUid, UidError, check_model_name, parse_component

CHECKPOINT_FIELDS = ("revision", "step", "tokens", "stage")
# what a checkpoint shares with its final model, and must agree on
SHAPE_FIELDS = (
    "n_layers",
    "d_model",
    "n_heads",
    "d_mlp",
    "d_head",
    "d_vocab",
    "n_ctx",
    "attn_only",
)


class ModelSpec(BaseModel):
    """A model's shape, in TransformerLens config names (`HookedTransformerConfig`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    n_layers: int = Field(gt=0, le=10_000)
    d_model: int | None = Field(default=None, gt=0)  # None: not known (yet)
    n_heads: int = Field(gt=0)
    d_mlp: int | None = Field(default=None, gt=0)
    d_head: int | None = Field(default=None, gt=0)
    d_vocab: int | None = Field(default=None, gt=0)
    n_ctx: int | None = Field(default=None, gt=0)
    n_params: int | None = Field(default=None, gt=0)
    act_fn: str | None = None
    family: str | None = None
    attn_only: bool = False
    seed: int | None = None
    hf_id: str | None = None  # its Hugging Face id, another name for it (see aliases)
    # a training checkpoint's (schema/checkpoints.py): its hub revision, which the name
    # ends with, and its position in training, read from the revision where it says it
    revision: str | None = None
    step: int | None = Field(default=None, ge=0)
    tokens: int | None = Field(default=None, ge=0)
    stage: int | None = Field(default=None, ge=0)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        try:
            return check_model_name(canonical_model(name))
        except UidError as err:
            raise ValueError(str(err)) from None

    @model_validator(mode="before")
    @classmethod
    def _checkpoint(cls, data: Any) -> Any:
        """A checkpoint's revision is its name's, and its step the revision's where the
        name says it; a final model has neither (`--revision` never labels one)."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return data
        name = canonical_model(data["name"]).strip()
        try:
            check_model_name(name)
        except UidError:
            return data  # the name's own check says what is wrong
        final, revision = split_checkpoint(name)
        if revision is None:
            stamped = [k for k in CHECKPOINT_FIELDS if data.get(k) is not None]
            if stamped:
                raise RecordError(
                    f"{final} is a final model, so it has no {stamped[0]}: a training "
                    f"checkpoint is a model of its own, named {final}@REVISION",
                    field=stamped[0],
                )
            return data
        given = data.get("revision")
        if given is not None and given != revision:
            raise RecordError(
                f"{final}@{revision} is at revision {revision!r}, not {given!r}", field="revision"
            )
        step, tokens = data.get("step"), data.get("tokens")
        if not all(
            v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (step, tokens)
        ):
            return data  # the fields' own checks say what is wrong
        try:
            position = training_position(final, revision, step, tokens)
        except ValueError as err:
            raise RecordError(str(err), field="step") from None
        return {
            **data,
            "revision": revision,
            "step": position.step,
            "tokens": position.tokens,
            "stage": position.stage,
        }

    @property
    def final_model(self) -> str:
        """The model this is a checkpoint of (its own name for a final model)."""
        return split_checkpoint(self.name)[0]

    def at_checkpoint(
        self, revision: str, step: int | None = None, tokens: int | None = None
    ) -> ModelSpec:
        """This model's checkpoint at `revision`: the same shape, its own name."""
        shape = self.model_dump(exclude={"name", *CHECKPOINT_FIELDS})
        return ModelSpec.model_validate(
            {
                **shape,
                "name": checkpoint_name(self.final_model, revision),
                "step": step,
                "tokens": tokens,
            }
        )

    def final(self) -> ModelSpec:
        """The final model of this checkpoint: the same shape, without a revision."""
        shape = self.model_dump(exclude={"name", *CHECKPOINT_FIELDS})
        return ModelSpec.model_validate({**shape, "name": self.final_model})

    def shape(self) -> dict[str, Any]:
        """What a checkpoint shares with its final model."""
        return self.model_dump(include=set(SHAPE_FIELDS))

    @classmethod
    def from_tl_config(cls, config: dict[str, Any]) -> ModelSpec:
        """Accept a TransformerLens config dict (extra keys are ignored, `model_name` is the name)."""
        fields = set(cls.model_fields)
        values = {k: v for k, v in config.items() if k in fields}
        if "name" not in values:
            values["name"] = config.get("model_name")
        if values.get("d_mlp") in (-1, 0):
            values.pop("d_mlp")
        return cls.model_validate(values)

    def relative_depth(self, layer: int) -> float:
        """Depth in [0, 1], so that layers of models of different depth can be compared."""
        return 0.0 if self.n_layers == 1 else layer / (self.n_layers - 1)

    def check(self, uid: ComponentUid) -> ComponentUid:
        """Raise UidError if `uid` points outside this model."""
        if uid.model != self.name:
            raise UidError(f"{uid} is not a component of {self.name}")
        if not 0 <= uid.layer < self.n_layers:
            raise UidError(
                f"{uid}: layer {uid.layer} is out of range; {self.name} has "
                f"{self.n_layers} layers (L0-L{self.n_layers - 1})"
            )
        if uid.kind in (ComponentKind.NEURON, ComponentKind.MLP) and self.attn_only:
            raise UidError(f"{uid}: {self.name} is attention-only and has no MLP")
        if uid.kind is ComponentKind.NEURON and self.d_mlp is None:
            raise UidError(
                f"{uid}: {self.name}'s MLP width (d_mlp) is not known; give it "
                f"with `circuitbase model add {self.name} --d-mlp N`"
            )
        limit = {ComponentKind.NEURON: self.d_mlp, ComponentKind.HEAD: self.n_heads}.get(uid.kind)
        if limit is not None and not 0 <= (uid.index or 0) < limit:
            what = "neurons per layer" if uid.kind is ComponentKind.NEURON else "heads per layer"
            raise UidError(
                f"{uid}: index {uid.index} is out of range; {self.name} has "
                f"{limit} {what} (0-{limit - 1})"
            )
        return uid

    def parse(self, text: str) -> ComponentUid:
        return self.check(parse_component(text, model=self.name))

    def record(self) -> NodeRecord:
        props = self.model_dump(exclude={"name"})
        return node(NodeLabel.MODEL, self.name, **props)


class Component(BaseModel):
    """A neuron, head, MLP, attention layer or dictionary feature of a known model."""

    model_config = ConfigDict(frozen=True)
    uid: ComponentUid
    spec: ModelSpec

    @model_validator(mode="after")
    def _inside_model(self) -> Component:
        self.spec.check(self.uid)
        return self

    @property
    def relative_depth(self) -> float:
        return self.spec.relative_depth(self.uid.layer)

    def record(self) -> NodeRecord:
        return node(
            NodeLabel.of(self.uid.kind),
            str(self.uid),
            model=self.uid.model,
            layer=self.uid.layer,
            index=self.uid.index,
            dictionary=self.uid.dictionary,
            name=self.uid.short,
            relative_depth=self.relative_depth,
        )


def _per_layer(spec: ModelSpec) -> dict[ComponentKind, Sequence[int | None]]:
    """Each kind's indices within one layer, in uid order (None: the layer's one component
    of that kind); MLP kinds only where the model has MLPs, neurons only where their
    number is known."""
    kinds: dict[ComponentKind, Sequence[int | None]] = {
        ComponentKind.ATTENTION: [None],
        ComponentKind.HEAD: range(spec.n_heads),
    }
    if not spec.attn_only:
        kinds[ComponentKind.MLP] = [None]
        if spec.d_mlp is not None:
            kinds[ComponentKind.NEURON] = range(spec.d_mlp)
    return kinds


@dataclass(frozen=True)
class ModelComponents:
    """Every component of some kinds of one model (`model add --components`), as one record.

    A model's shape defines its components, so they are valid by construction: the plan
    keeps this record as it is instead of a row per component, and the writer makes each
    batch's compact rows (`rows`) as it sends them. The model's own node comes with it."""

    spec: ModelSpec
    kinds: frozenset[ComponentKind]
    origin: str | None = None

    def chosen(self) -> list[tuple[ComponentKind, Sequence[int | None]]]:
        return [
            (kind, indices) for kind, indices in _per_layer(self.spec).items() if kind in self.kinds
        ]

    def __len__(self) -> int:
        return self.spec.n_layers * sum(len(indices) for _, indices in self.chosen())

    def uids(self) -> Iterator[ComponentUid]:
        """Every component, in layer order."""
        chosen = self.chosen()
        for layer in range(self.spec.n_layers):
            for kind, indices in chosen:
                for index in indices:
                    yield ComponentUid(self.spec.name, layer, kind, index)

    def only(self, kind: ComponentKind) -> ModelComponents:
        return ModelComponents(self.spec, frozenset({kind}), self.origin)

    def kinds_present(self) -> list[ComponentKind]:
        return [kind for kind, indices in self.chosen() if len(indices)]

    def rows(self, kind: ComponentKind) -> Iterator[list[Any]]:
        """[uid, layer, index, name, relative_depth] of each component of `kind`: the
        properties `Component.record` gives, without building a record per component."""
        indices = _per_layer(self.spec)[kind]
        if not indices:
            return
        for layer in range(self.spec.n_layers):
            depth = self.spec.relative_depth(layer)
            first = ComponentUid(self.spec.name, layer, kind, indices[0])
            uid_stem, name_stem = _stems(first, indices[0])
            for index in indices:
                if index is None:
                    yield [str(first), layer, None, first.short, depth]
                else:
                    yield [f"{uid_stem}{index}", layer, index, f"{name_stem}{index}", depth]

    def derived_props(self, uid: ComponentUid) -> dict[str, Any]:
        return Component.model_construct(uid=uid, spec=self.spec).record().props


def _stems(uid: ComponentUid, index: int | None) -> tuple[str, str]:
    """The uid and short name of `uid` without their trailing index, checked to end with
    it, so that every other index's uid and name are one concatenation away."""
    if index is None:
        return str(uid), uid.short
    text, short, digits = str(uid), uid.short, str(index)
    if not (text.endswith(digits) and short.endswith(digits)):
        raise ValueError(f"{text!r} or {short!r} does not end with its index {index}")
    return text[: -len(digits)], short[: -len(digits)]


class Token(BaseModel):
    """A token string; shared by all models, it is where different tokenizers meet."""

    text: str = Field(min_length=1, max_length=1000)

    def record(self) -> NodeRecord:
        return node(NodeLabel.TOKEN, token_uid(self.text), text=self.text)


def _storable_name(name: str) -> str:
    return check_text(name, None)


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_storable_name),
]


class Concept(BaseModel):
    """A feature probes look for, by name alone: the collections it belongs to are on the
    facts (ENCODES.category), so the node never depends on which file came last."""

    name: Name

    def record(self) -> NodeRecord:
        return node(NodeLabel.CONCEPT, self.name)


class NeuronFamily(BaseModel):
    """A family of neurons a paper names: universal, prediction, suppression, ..."""

    name: Name
    description: str | None = None

    def record(self) -> NodeRecord:
        return node(NodeLabel.NEURON_FAMILY, self.name, description=self.description)


class HeadRole(BaseModel):
    name: Name
    description: str | None = None

    def record(self) -> NodeRecord:
        return node(NodeLabel.HEAD_ROLE, self.name, description=self.description)


class Task(BaseModel):
    name: Name
    description: str | None = None

    def record(self) -> NodeRecord:
        return node(NodeLabel.TASK, self.name, description=self.description)


def check_citation(value: str | None) -> str | None:
    """A citation is free text, a DOI, an arXiv id, or one BibTeX entry; an entry must be
    one an export can write safely (see `bibtex.parse_entry`)."""
    if value is not None and value.lstrip().startswith("@"):
        from .bibtex import parse_entry

        parse_entry(value)  # ValueError says why not
    return value


Citation = Annotated[str | None, AfterValidator(check_citation)]

AnalysisKind = Literal[
    "n2g", "probe", "circuit", "heads", "similarity", "universality", "model", "evidence"
]


class Analysis(BaseModel):
    """Provenance of a set of facts: who found them, how, with which parameters."""

    model_config = ConfigDict(extra="forbid")
    uid: str = Field(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$")
    kind: AnalysisKind
    method: str
    models: list[str] = Field(min_length=1)
    citation: Citation = None
    params: dict[str, Any] = {}
    tool_version: str | None = None
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    content_hash: str | None = None

    def record(self) -> NodeRecord:
        """`created_at` is kept from the first ingest, so a re-ingest changes nothing."""
        return NodeRecord(
            label=NodeLabel.ANALYSIS,
            key=self.uid,
            props=dict(
                kind=self.kind,
                method=self.method,
                citation=self.citation,
                params=json.dumps(self.params, sort_keys=True),
                tool_version=self.tool_version,
                content_hash=self.content_hash,
            ),
            create_only=dict(created_at=self.created_at),
        )

    def records(self) -> list[NodeRecord | RelRecord]:
        """The analysis and an ABOUT edge to each of its models: what every adapter's
        records start with, so that a model's analyses are one hop from it."""
        record = self.record()
        return [
            record,
            *[rel(RelType.ABOUT, record.ref, ref(NodeLabel.MODEL, model)) for model in self.models],
        ]


def content_hash(data: bytes) -> str:
    """Hash of an analysis's source, so a re-ingest of the same file is recognisable."""
    return "sha256:" + hashlib.sha256(data).hexdigest()
