"""The catalog of node labels and relationship types: the allow-list, and per label
(`NodeSpec`) and per type (`RelSpec`) everything the library knows about it: identity,
whether it is shared or structural, its score and search fields, how it is drawn. The
store, imports, removal, `show`, figures and pages read it; a fact model declares its
type (`Fact.TYPE`). A new relationship type is one `define_rel_type(RelSpec(...))`.

Every label or relationship type that reaches a Cypher string comes from this
allow-list, never from input, so a crafted name cannot inject Cypher; values
always travel as query parameters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

from .uids import ComponentKind

# Who may create a label's nodes or a type's relationships (NodeSpec.made_by, RelSpec.made_by).
MadeBy = Literal["input", "names", "circuitbase"]


@dataclass(frozen=True)
class NodeSpec:
    """Everything the library knows about one node label, in one place: the store merges
    it on `key`, removal takes it when nothing refers to it if `shared`, search reads
    `search`, `show` finds it by its key if `named`, an import checks it with `model`
    (a pydantic model taking its key as `name`) and refuses it unless `made_by` is
    "input", figures and pages draw it in `colour` (or leave it out). A new label is one
    `define_node_label(NodeSpec(...))`."""

    name: str  # the label, as the store writes it
    colour: str  # Paul Tol's "muted" scheme and Okabe-Ito's yellow: see export/palette.py
    # The property a node is MERGEd on. Concepts, roles and tasks are shared across
    # models, so their name is their identity. A token's identity is its text quoted
    # as JSON (`token_uid`): FalkorDB's string index trims leading and trailing
    # whitespace, which would merge " the" with "the", and token text is full of it.
    key: str = "uid"
    # kept while something refers to it (a concept, a role, a token): a removal takes the
    # ones it leaves unreferenced
    shared: bool = False
    search: tuple[str, ...] = ()  # the fields full-text search reads
    drawn: bool = True  # figures draw it (an analysis or an N2G trie they leave out)
    # who may create it: "input" (a source or an import file), or "circuitbase" (derived by
    # circuitbase's own code only: similarity summaries, N2G tries; an import refuses it)
    made_by: MadeBy = "input"
    # `show NAME` finds a node of this label by its key (a model, a concept, an analysis)
    named: bool = False
    # the pydantic model an import validates the node with, its key given as `name`: the
    # class, or its name in schema/nodes.py (None: the label's own checks in
    # schema/imported.py, or none)
    model: Any = None


@dataclass(frozen=True)
class RelSpec:
    """Everything the library knows about one relationship type, in one place: the store
    merges it on its ends plus `identity`, an import checks it (no properties when
    `bare`; its fact model, when one declares this type, otherwise), removal, `show`,
    figures and pages read the rest. A new type is one `define_rel_type(RelSpec(...))`."""

    name: str
    # properties beside its two ends that identify it (fact types carry the analysis
    # that found them, so two analyses that disagree are both kept)
    identity: tuple[str, ...] = ()
    # derived from uids or a trie's shape: carries no properties
    bare: bool = False
    # where a thing is stored or who measured it, not what is known about it: figures
    # leave it out, and a neighbourhood walks it from its centre only
    context: bool = False
    # how strong a fact is: the first of these fields it has (figures draw edges this
    # wide; `show` and the web pages list the strongest first)
    score: tuple[str, ...] = ()
    colour: str = "#999999"  # see export/palette.py for the scheme
    dash: str = "solid"  # a matplotlib dash name
    # who may create it: "input" (a source or an import file); "names" (derived from uids
    # or model names: an import's copy is checked against that and left to the planner);
    # "circuitbase" (its own code only, e.g. an N2G trie's structure: an import refuses it)
    made_by: MadeBy = "input"
    # its lists are stored one text each (schema/packing.py): a feature's logits and
    # histograms, an activation example's tokens and values (most of a feature's bytes)
    packed: bool = False


# Properties circuitbase computes on what an input may create (a head-metrics analysis's
# ranks, packed on the analysis and per head as `profile_<i>`; when a node was first
# stored): an import drops them, so a file cannot forge what `similar` reads.
DERIVED_PROPERTIES = frozenset(
    {
        "profile_table",
        "profile_heads",
        "profile_metrics",
        "profile_values",
        "unmeasured_layers",
        "created_at",
    }
)


def is_derived_property(name: str) -> bool:
    """Whether circuitbase computes this property itself (DERIVED_PROPERTIES, `profile_<i>`)."""
    return name in DERIVED_PROPERTIES or (name.startswith("profile_") and name[8:].isdigit())


class _Listed(type):
    """Iterating an allow-list class (`NodeLabel`, `RelType`) gives every defined entry,
    built-in or added, in order."""

    _defined: dict[str, Any]

    def __iter__(cls) -> Iterator[Any]:
        return iter(list(cls._defined.values()))

    def __len__(cls) -> int:
        return len(cls._defined)


class _Entry(str, metaclass=_Listed):
    """An entry of an allow-list that reads like an Enum member: `Cls("Name")` is the one
    defined (ValueError for a name never defined), with `.value`, `.name` and `is`."""

    _defined: ClassVar[dict[str, Any]]
    value: str
    name: str

    def __new__(cls, name: object) -> Self:
        if type(name) is cls:
            return name
        found = cls._defined.get(name) if isinstance(name, str) else None
        if found is None:
            raise ValueError(f"{name!r} is not a valid {cls.__name__}")
        return found  # type: ignore[no-any-return]

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    __format__ = object.__format__  # f"{entry}" reads as str(entry), as an Enum member's does

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.name}: {self.value!r}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.value,))


class NodeLabel(_Entry):
    """A node label from the allow-list: `NodeLabel("Concept")` is the one defined
    `Concept` (ValueError for a name never defined), so a crafted name cannot reach a
    Cypher string. It reads like an Enum member (`.value`, `.name`, `is`); its catalog
    entry is `.spec` (NODE_SPECS)."""

    MODEL: ClassVar[NodeLabel]
    NEURON: ClassVar[NodeLabel]
    HEAD: ClassVar[NodeLabel]
    MLP: ClassVar[NodeLabel]
    ATTENTION: ClassVar[NodeLabel]
    FEATURE: ClassVar[NodeLabel]
    TOKEN: ClassVar[NodeLabel]
    CONCEPT: ClassVar[NodeLabel]
    HEAD_ROLE: ClassVar[NodeLabel]
    NEURON_FAMILY: ClassVar[NodeLabel]
    TASK: ClassVar[NodeLabel]
    ANALYSIS: ClassVar[NodeLabel]
    PATTERN: ClassVar[NodeLabel]
    PATTERN_NODE: ClassVar[NodeLabel]
    SIMILARITY_SUMMARY: ClassVar[NodeLabel]
    DICTIONARY: ClassVar[NodeLabel]
    EXPLANATION: ClassVar[NodeLabel]
    WORD: ClassVar[NodeLabel]
    CORPUS: ClassVar[NodeLabel]
    EMBEDDING: ClassVar[NodeLabel]

    _defined: ClassVar[dict[str, NodeLabel]] = {}  # the allow-list
    value: str
    name: str  # the attribute's name (MODEL), as an Enum member's
    spec: NodeSpec

    @classmethod
    def of(cls, kind: ComponentKind) -> NodeLabel:
        """The label of a component kind: the component labels are the kinds' names."""
        return cls(ComponentKind(kind).value)


NODE_SPECS: dict[NodeLabel, NodeSpec] = {}  # each label's entry, in the order defined
NODE_KEY: dict[NodeLabel, str] = {}  # the property each label is merged on


def define_node_label(spec: NodeSpec, attribute: str | None = None) -> NodeLabel:
    """Add a node label to the allow-list (idempotent for the same spec); `attribute`:
    its name as a constant (`NodeLabel.CONCEPT`), else the label upper-cased."""
    if not spec.name.isidentifier() or not spec.name[:1].isupper() or spec.name == COMPONENT_LABEL:
        raise ValueError(f"a node label is a CamelCase identifier, not {spec.name!r}")
    if spec.name in NodeLabel._defined:
        if NodeLabel._defined[spec.name].spec != spec:
            raise ValueError(f"the node label {spec.name} is already defined otherwise")
        return NodeLabel._defined[spec.name]
    member = str.__new__(NodeLabel, spec.name)
    member.value = spec.name
    member.name = attribute or spec.name.upper()
    member.spec = spec
    NodeLabel._defined[spec.name] = member
    NODE_SPECS[member] = spec
    NODE_KEY[member] = spec.key
    return member


@contextmanager
def defined_node_label(spec: NodeSpec) -> Iterator[NodeLabel]:
    """A node label defined for the `with` block only (a plug-in's or a test's)."""
    if spec.name in NodeLabel._defined:
        raise ValueError(f"the node label {spec.name} already exists")
    label = define_node_label(spec)
    try:
        yield label
    finally:
        del NodeLabel._defined[spec.name], NODE_SPECS[label], NODE_KEY[label]


class RelType(_Entry):
    """A relationship type from the allow-list: `RelType("ENCODES")` is the one defined
    `ENCODES` (ValueError for a name never defined), so a crafted name cannot reach a
    Cypher string. It reads like an Enum member (`.value`, `.name`, `is`)."""

    IN_MODEL: ClassVar[RelType]
    ABOUT: ClassVar[RelType]
    HAS_PATTERN: ClassVar[RelType]
    ACTIVATES_ON: ClassVar[RelType]
    ENCODES: ClassVar[RelType]
    HAS_ROLE: ClassVar[RelType]
    IN_FAMILY: ClassVar[RelType]
    OUTPUT_NODE: ClassVar[RelType]
    CIRCUIT_EDGE: ClassVar[RelType]
    SIMILAR_TO: ClassVar[RelType]
    MEASURED_BY: ClassVar[RelType]
    FINE_TUNED_FROM: ClassVar[RelType]
    CHECKPOINT_OF: ClassVar[RelType]
    TRIE_ROOT: ClassVar[RelType]
    TRIE_CHILD: ClassVar[RelType]
    MATCHES_TOKEN: ClassVar[RelType]
    PROMOTES: ClassVar[RelType]
    SUPPRESSES: ClassVar[RelType]
    PEAKS_ON: ClassVar[RelType]
    USES_WORD: ClassVar[RelType]
    EMBEDDED_AS: ClassVar[RelType]
    IN_DICTIONARY: ClassVar[RelType]
    HAS_EVIDENCE: ClassVar[RelType]
    HAS_EXAMPLE: ClassVar[RelType]
    EXPLAINED_BY: ClassVar[RelType]

    _defined: ClassVar[dict[str, RelType]]
    # set once when the type is defined: plain attributes, read on every record
    value: str
    name: str
    spec: RelSpec


_REL_TYPES: dict[str, RelType] = {}  # the allow-list: each member holds its entry (`.spec`)
RelType._defined = _REL_TYPES


def define_rel_type(spec: RelSpec) -> RelType:
    """Add a relationship type to the allow-list (idempotent for the same spec)."""
    if not spec.name.isidentifier() or not spec.name.isupper():
        raise ValueError(f"a relationship type is an UPPER_CASE identifier, not {spec.name!r}")
    if spec.name in _REL_TYPES:
        if _REL_TYPES[spec.name].spec != spec:
            raise ValueError(f"the relationship type {spec.name} is already defined otherwise")
        return _REL_TYPES[spec.name]
    member = str.__new__(RelType, spec.name)
    member.value = member.name = spec.name
    member.spec = spec
    _REL_TYPES[spec.name] = member
    return member


@contextmanager
def defined_rel_type(spec: RelSpec) -> Iterator[RelType]:
    """A relationship type defined for the `with` block only (a plug-in's or a test's)."""
    if spec.name in _REL_TYPES:
        raise ValueError(f"the relationship type {spec.name} already exists")
    type_ = define_rel_type(spec)
    try:
        yield type_
    finally:
        del _REL_TYPES[spec.name]


# Colours: facts take Okabe & Ito's eight colours, structural relationships greys with
# their own dash, so that they recede behind the facts (export/palette.py).
_GREY, _DARK_GREY = "#BBBBBB", "#999999"
for _spec in (
    RelSpec("IN_MODEL", bare=True, context=True, colour=_GREY, dash="dotted", made_by="names"),
    RelSpec("ABOUT", bare=True, context=True, colour=_GREY, dash="dashed"),
    RelSpec("HAS_PATTERN", ("analysis",), colour=_DARK_GREY, made_by="circuitbase"),
    RelSpec("ACTIVATES_ON", ("analysis",), score=("activation",), colour="#56B4E9"),
    # A probe is one feature's probe on one dataset: the same neuron measured on two
    # datasets is two facts. (ENCODES also has the probe's `weight`, a coefficient.)
    RelSpec("ENCODES", ("analysis", "k", "dataset"), score=("f1", "mcc"), colour="#0072B2"),
    RelSpec("HAS_ROLE", ("analysis",), score=("score",), colour="#E69F00"),
    # a prediction neuron can predict several features: one membership each
    RelSpec(
        "IN_FAMILY", ("analysis", "feature"), score=("excess_corr", "max_corr"), colour="#000000"
    ),
    RelSpec("OUTPUT_NODE", ("analysis",), score=("probability",), colour="#CC79A7"),
    # an attribution graph links a feature at several positions: one edge per graph link
    RelSpec("CIRCUIT_EDGE", ("analysis", "link"), score=("weight",), colour="#D55E00"),
    RelSpec("SIMILAR_TO", ("analysis", "metric"), score=("score",), colour="#009E73"),
    # every statistic an analysis measured on a component, under the source's names (an
    # attribution graph measures a feature at each position it appears in)
    RelSpec("MEASURED_BY", ("analysis", "node"), context=True, colour=_GREY, dash="dashdot"),
    # model lineage: a fine-tuned model points at its base
    RelSpec("FINE_TUNED_FROM", colour="#000000", dash="dashed", made_by="names"),
    # a training checkpoint points at its final model, with its position in training
    # (read from the checkpoint's name and Model node: schema/checkpoints.py)
    RelSpec("CHECKPOINT_OF", colour="#000000", dash="dotted", made_by="names"),
    # N2G trie structure: a pattern's root, its children, and each trie node's token.
    RelSpec("TRIE_ROOT", bare=True, colour=_DARK_GREY, dash="dotted", made_by="circuitbase"),
    RelSpec("TRIE_CHILD", bare=True, colour=_DARK_GREY, made_by="circuitbase"),
    RelSpec("MATCHES_TOKEN", bare=True, colour=_DARK_GREY, dash="dashed", made_by="circuitbase"),
    # a dictionary feature belongs to its dictionary (derived from its uid, like IN_MODEL)
    RelSpec("IN_DICTIONARY", bare=True, context=True, colour=_GREY, made_by="names"),
    # evidence (schema/evidence.py): a component's statistics and top logits per analysis,
    # each activation example (one edge each, named by the source), and each explanation
    # (an analysis may explain a component twice: the source's id of each)
    RelSpec(
        "HAS_EVIDENCE",
        ("analysis",),
        context=True,
        score=("frac_nonzero",),
        colour=_GREY,
        packed=True,
    ),
    RelSpec(
        "HAS_EXAMPLE",
        ("analysis", "example"),
        context=True,
        score=("max_value",),
        colour=_GREY,
        packed=True,
    ),
    RelSpec("EXPLAINED_BY", ("analysis", "explanation"), score=("score",), colour="#999933"),
    # an index of that evidence, derived by the planner (ingest/evidence_index.py): a
    # feature's promoted and suppressed logits and each example's peak token, as edges to
    # shared Token nodes, so that features sharing a token are a walk away
    RelSpec("PROMOTES", ("analysis",), context=True, score=("weight",), made_by="circuitbase"),
    RelSpec("SUPPRESSES", ("analysis",), context=True, score=("weight",), made_by="circuitbase"),
    RelSpec(
        "PEAKS_ON", ("analysis", "example"), context=True, score=("weight",), made_by="circuitbase"
    ),
    # ... and the words of each explanation's text, with how often it uses each
    RelSpec("USES_WORD", context=True, score=("count",), made_by="circuitbase"),
    # ... and each analysis's embedding of an explanation's text, where its source gives
    # one (Neuronpedia's 256 numbers), as a node the vector index covers
    RelSpec("EMBEDDED_AS", ("analysis",), context=True, made_by="circuitbase"),
):
    setattr(RelType, _spec.name, define_rel_type(_spec))


def rel_spec(type_: RelType | str) -> RelSpec:
    """The catalog entry of a relationship type (ValueError for one never defined)."""
    return RelType(type_).spec


# How `similarity compute` compares components across models (analyze/similarity.py).
SimilarityMetric = Literal["tokens", "concepts", "vectors"]
SIMILARITY_METRICS: tuple[SimilarityMetric, ...] = ("tokens", "concepts", "vectors")
# the cosine of two dictionary features' decoder directions: compared live by `similar`,
# and stored as a source's matches (Neuronpedia's nearest decoder directions per feature)
DECODER_METRIC = "decoder"

COMPONENT_LABEL = "Component"

# The built-in labels. Colours: Paul Tol's "muted" scheme and Okabe-Ito's yellow.
# Concepts, roles, families and tasks are shared across models and named by their name;
# an import checks each with its model in schema/nodes.py (named here: nodes imports this).
_NAMED: dict[str, Any] = {"key": "name", "shared": True, "search": ("name",), "named": True}
for _attribute, _node_spec in (
    ("MODEL", NodeSpec("Model", "#DDCC77", search=("uid", "hf_id"), named=True)),  # sand
    ("NEURON", NodeSpec(ComponentKind.NEURON.value, "#332288")),  # indigo
    ("HEAD", NodeSpec(ComponentKind.HEAD.value, "#CC6677")),  # rose
    ("MLP", NodeSpec(ComponentKind.MLP.value, "#117733")),  # green
    ("ATTENTION", NodeSpec(ComponentKind.ATTENTION.value, "#882255")),  # wine
    ("FEATURE", NodeSpec(ComponentKind.FEATURE.value, "#AA4499", search=("label",))),  # purple
    ("TOKEN", NodeSpec("Token", "#DDDDDD", shared=True, search=("text",))),  # pale grey
    ("CONCEPT", NodeSpec("Concept", "#88CCEE", model="Concept", **_NAMED)),  # cyan
    ("HEAD_ROLE", NodeSpec("HeadRole", "#44AA99", model="HeadRole", **_NAMED)),  # teal
    (
        "NEURON_FAMILY",
        NodeSpec("NeuronFamily", "#F0E442", model="NeuronFamily", **_NAMED),
    ),  # yellow (Okabe-Ito)
    (
        "TASK",
        NodeSpec("Task", "#999933", model="Task", **{**_NAMED, "search": ("name", "description")}),
    ),
    ("ANALYSIS", NodeSpec("Analysis", "#BBBBBB", drawn=False, named=True)),
    ("PATTERN", NodeSpec("Pattern", "#E0E0E0", drawn=False, made_by="circuitbase")),
    ("PATTERN_NODE", NodeSpec("PatternNode", "#F2F2F2", drawn=False, made_by="circuitbase")),
    # per pair of models and metric, each component kind's best similarity scores: what
    # universality_table reads instead of every SIMILAR_TO edge (kept by the store)
    ("SIMILARITY_SUMMARY", NodeSpec("SimilaritySummary", "#F2F2F2", made_by="circuitbase")),
    # one SAE or transcoder: what a feature's uid names between its layer and its index;
    # pale purple, beside its features' purple
    (
        "DICTIONARY",
        NodeSpec(
            "Dictionary", "#CCBBEE", search=("uid", "release", "sae_id", "neuronpedia"), named=True
        ),
    ),
    # an explanation's text, shared by the analyses that give it (EXPLAINED_BY cites
    # each); pale yellow
    ("EXPLANATION", NodeSpec("Explanation", "#EEEEBB", shared=True, search=("text",))),
    # a word of explanations (ingest/evidence_index.py), its `features`: how many
    # dictionary features' explanations use it; and the corpus they are counted in (its
    # `features`: how many are explained), kept by the store after each change
    ("WORD", NodeSpec("Word", "#F2F2F2", shared=True, drawn=False, made_by="circuitbase")),
    ("CORPUS", NodeSpec("Corpus", "#F2F2F2", drawn=False, made_by="circuitbase")),
    # an analysis's embedding of an explanation (`values`, then the indexed vector), with
    # the explained component's `model`
    (
        "EMBEDDING",
        NodeSpec(
            "ExplanationEmbedding", "#F2F2F2", shared=True, drawn=False, made_by="circuitbase"
        ),
    ),
):
    setattr(NodeLabel, _attribute, define_node_label(_node_spec, _attribute))

COMPONENT_LABELS = frozenset(NodeLabel.of(kind) for kind in ComponentKind)


# Identity properties a record may leave out (stored as '' then, on both backends).
OPTIONAL_IDENTITY = frozenset({"dataset", "feature", "node", "link", "explanation"})


def token_uid(text: str) -> str:
    """`" the"` for the token ` the`: exact in every backend's index, still readable."""
    return json.dumps(text, ensure_ascii=False)


def labels_of(label: NodeLabel) -> tuple[str, ...]:
    """All labels a node of this primary label carries (components also get :Component)."""
    if label in COMPONENT_LABELS:
        return (COMPONENT_LABEL, label.value)
    return (label.value,)


def primary_label(labels: Iterable[str]) -> NodeLabel:
    """What a node is, from the labels the store gives back: its one label besides
    `:Component` (every label in the store is from the allow-list)."""
    return NodeLabel(next(label for label in labels if label != COMPONENT_LABEL))


def label_clause(label: NodeLabel) -> str:
    """`:Component:Neuron`; safe to splice because `label` is an allow-listed enum."""
    return "".join(f":{name}" for name in labels_of(NodeLabel(label)))


# how strong a fact of a type without `score` fields is
SCORE_FIELDS = ("score", "f1", "mcc", "weight", "probability")


def score_of(attrs: dict[str, Any], type_: str | None = None) -> float | None:
    """The number that says how strong a fact of this type is, where it has one."""
    found = _REL_TYPES.get(type_ or attrs.get("type") or "")
    for name in (found.spec.score if found else ()) or SCORE_FIELDS:
        value = attrs.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None
