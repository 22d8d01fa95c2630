"""The allow-list of labels and relationship types, and the property each is merged on.

Every label or relationship type that reaches a Cypher string comes from the
enums below, never from input, so a crafted name cannot inject Cypher; values
always travel as query parameters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from enum import Enum
from typing import Any, Literal

from .uids import ComponentKind


class NodeLabel(str, Enum):
    MODEL = "Model"
    NEURON = ComponentKind.NEURON.value
    HEAD = ComponentKind.HEAD.value
    MLP = ComponentKind.MLP.value
    ATTENTION = ComponentKind.ATTENTION.value
    FEATURE = ComponentKind.FEATURE.value
    TOKEN = "Token"
    CONCEPT = "Concept"
    HEAD_ROLE = "HeadRole"
    NEURON_FAMILY = "NeuronFamily"
    TASK = "Task"
    ANALYSIS = "Analysis"
    PATTERN = "Pattern"
    PATTERN_NODE = "PatternNode"
    # per pair of models and metric, each component kind's best similarity scores: what
    # universality_table reads instead of every SIMILAR_TO edge (kept by the store)
    SIMILARITY_SUMMARY = "SimilaritySummary"
    # one SAE or transcoder: what a feature's uid names between its layer and its index
    DICTIONARY = "Dictionary"
    # an explanation's text, shared by the analyses that give it (EXPLAINED_BY cites each)
    EXPLANATION = "Explanation"

    @classmethod
    def of(cls, kind: ComponentKind) -> NodeLabel:
        """The label of a component kind: the component labels are the kinds' names."""
        return cls(ComponentKind(kind).value)


class RelType(str, Enum):
    IN_MODEL = "IN_MODEL"
    ABOUT = "ABOUT"
    HAS_PATTERN = "HAS_PATTERN"
    ACTIVATES_ON = "ACTIVATES_ON"
    ENCODES = "ENCODES"
    HAS_ROLE = "HAS_ROLE"
    IN_FAMILY = "IN_FAMILY"
    OUTPUT_NODE = "OUTPUT_NODE"
    CIRCUIT_EDGE = "CIRCUIT_EDGE"
    SIMILAR_TO = "SIMILAR_TO"
    # every statistic an analysis measured on a component, under the source's names
    MEASURED_BY = "MEASURED_BY"
    # model lineage: a fine-tuned model points at its base
    FINE_TUNED_FROM = "FINE_TUNED_FROM"
    # N2G trie structure: a pattern's root, its children, and each trie node's token.
    TRIE_ROOT = "TRIE_ROOT"
    TRIE_CHILD = "TRIE_CHILD"
    MATCHES_TOKEN = "MATCHES_TOKEN"
    # a dictionary feature belongs to its dictionary (derived from its uid, like IN_MODEL)
    IN_DICTIONARY = "IN_DICTIONARY"
    # evidence (schema/evidence.py): a component's statistics and top logits per analysis,
    # each activation example, and each explanation
    HAS_EVIDENCE = "HAS_EVIDENCE"
    HAS_EXAMPLE = "HAS_EXAMPLE"
    EXPLAINED_BY = "EXPLAINED_BY"


# How `similarity compute` compares components across models (analyze/similarity.py).
SimilarityMetric = Literal["tokens", "concepts", "vectors"]
SIMILARITY_METRICS: tuple[SimilarityMetric, ...] = ("tokens", "concepts", "vectors")

COMPONENT_LABEL = "Component"
COMPONENT_LABELS = frozenset(NodeLabel.of(kind) for kind in ComponentKind)

# The property a node is MERGEd on. Concepts, roles and tasks are shared across
# models, so their name is their identity. A token's identity is its text quoted
# as JSON (`token_uid`): FalkorDB's string index trims leading and trailing
# whitespace, which would merge " the" with "the", and token text is full of it.
NODE_KEY: dict[NodeLabel, str] = {label: "uid" for label in NodeLabel} | {
    NodeLabel.CONCEPT: "name",
    NodeLabel.HEAD_ROLE: "name",
    NodeLabel.NEURON_FAMILY: "name",
    NodeLabel.TASK: "name",
}

# Relationship properties that are part of a relationship's identity (beside its
# two ends). Fact-bearing relationships carry the analysis that found them, so two
# analyses that disagree are both kept.
REL_KEY: dict[RelType, tuple[str, ...]] = {
    RelType.IN_MODEL: (),
    RelType.ABOUT: (),
    RelType.HAS_PATTERN: ("analysis",),
    RelType.ACTIVATES_ON: ("analysis",),
    # A probe is one feature's probe on one dataset: the same neuron measured on two
    # datasets is two facts.
    RelType.ENCODES: ("analysis", "k", "dataset"),
    RelType.HAS_ROLE: ("analysis",),
    # a prediction neuron can predict several features: one membership each
    RelType.IN_FAMILY: ("analysis", "feature"),
    RelType.OUTPUT_NODE: ("analysis",),
    # an attribution graph links a feature at several positions: one edge per graph link
    RelType.CIRCUIT_EDGE: ("analysis", "link"),
    RelType.SIMILAR_TO: ("analysis", "metric"),
    # an attribution graph measures a feature at each position it appears in
    RelType.MEASURED_BY: ("analysis", "node"),
    RelType.FINE_TUNED_FROM: (),
    RelType.TRIE_ROOT: (),
    RelType.TRIE_CHILD: (),
    RelType.MATCHES_TOKEN: (),
    RelType.IN_DICTIONARY: (),
    RelType.HAS_EVIDENCE: ("analysis",),
    # an analysis shows a component several examples: one edge each, named by the source
    RelType.HAS_EXAMPLE: ("analysis", "example"),
    # an analysis may explain a component twice (two explainers): the source's id of each
    RelType.EXPLAINED_BY: ("analysis", "explanation"),
}
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


# How strong a fact is, per relationship type: the first of these fields it has (figures
# draw edges this wide; `show` and the web pages list the strongest first).
SCORE_BY_TYPE: dict[str, tuple[str, ...]] = {
    RelType.ENCODES.value: ("f1", "mcc"),
    RelType.SIMILAR_TO.value: ("score",),
    RelType.HAS_ROLE.value: ("score",),
    RelType.CIRCUIT_EDGE.value: ("weight",),
    RelType.OUTPUT_NODE.value: ("probability",),
    RelType.ACTIVATES_ON.value: ("activation",),
    RelType.IN_FAMILY.value: ("excess_corr", "max_corr"),
    RelType.HAS_EXAMPLE.value: ("max_value",),
    RelType.EXPLAINED_BY.value: ("score",),
    RelType.HAS_EVIDENCE.value: ("frac_nonzero",),
}
SCORE_FIELDS = ("score", "f1", "mcc", "weight", "probability")  # a type not listed above


def score_of(attrs: dict[str, Any], type_: str | None = None) -> float | None:
    """The number that says how strong a fact of this type is, where it has one."""
    for name in SCORE_BY_TYPE.get(type_ or attrs.get("type") or "", SCORE_FIELDS):
        value = attrs.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None
