"""Pydantic models of the fact-bearing relationships' properties.

Each names the analysis it came from, so conflicting findings of two analyses
coexist as two relationships instead of overwriting each other.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from .graph import RelType
from .records import CheckedNames, NodeRef, RelRecord, rel


def fraction() -> float | None:
    """An optional score in [0, 1] (F1, precision, recall, accuracy)."""
    return Field(default=None, ge=0.0, le=1.0)


class ProbeScores(CheckedNames):
    """How a k-sparse probe did: the ENCODES fact and the probe interchange formats share
    these fields, declared once here."""

    model_config = ConfigDict(allow_inf_nan=False)
    k: int = Field(default=1, ge=1)
    f1: float | None = fraction()
    precision: float | None = fraction()
    recall: float | None = fraction()
    accuracy: float | None = fraction()
    mcc: float | None = Field(default=None, ge=-1.0, le=1.0)
    dataset: str | None = None


FACT_MODELS: dict[RelType, type[Fact]] = {}


def fact_model(type_: RelType) -> type[Fact] | None:
    """The model that checks a fact of this type (an import rebuilds it through this)."""
    return FACT_MODELS.get(type_)


class Fact(CheckedNames):
    """Base of every fact; subclasses set `TYPE`, which makes them that type's model in
    the catalog (`fact_model`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    TYPE: ClassVar[RelType]
    analysis: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__:
            FACT_MODELS[cls.TYPE] = cls

    def record(self, start: NodeRef, end: NodeRef, *, origin: str | None = None) -> RelRecord:
        """The relationship; `origin` (where it came from) names it in an error about a
        property only checked here (a nested list among a source's extra fields)."""
        return rel(self.TYPE, start, end, origin=origin, **self.model_dump())


class ActivatesOn(Fact):
    TYPE: ClassVar[RelType] = RelType.ACTIVATES_ON
    activation: float


class Encodes(Fact, ProbeScores):
    """A probe's finding: this neuron (one of `k`) encodes the concept, on `dataset`, in
    `category` (the dataset's collection: a concept can be in several), read at `hook`
    with `aggregation` over positions."""

    TYPE: ClassVar[RelType] = RelType.ENCODES
    rank: int | None = Field(default=None, ge=0)
    weight: float | None = None
    category: str | None = None
    aggregation: str | None = None
    hook: str | None = None


class HasRole(Fact):
    TYPE: ClassVar[RelType] = RelType.HAS_ROLE
    score: float
    method: str | None = None


class OutputNode(Fact):
    TYPE: ClassVar[RelType] = RelType.OUTPUT_NODE
    direct_effect: float | None = None
    total_effect: float | None = None
    metric: str | None = None
    category: str | None = None
    rank: int | None = Field(default=None, ge=0)
    probability: float | None = Field(default=None, ge=0.0, le=1.0)  # an output token's
    is_target: bool | None = None  # the output an attribution graph explains


class CircuitEdge(Fact):
    TYPE: ClassVar[RelType] = RelType.CIRCUIT_EDGE
    weight: float | None = None
    qkv: list[str] | None = None  # which inputs of a receiving head the edge enters
    link: str | None = None  # an attribution graph's "<source node> -> <target node>"


class SimilarTo(Fact):
    TYPE: ClassVar[RelType] = RelType.SIMILAR_TO
    score: float
    metric: str


class InFamily(Fact):
    """A neuron's membership of a family, with every statistic the source gives for it
    (max_corr, excess_corr, w_in_norm, ...), under the source's own column names and
    values as stored; which columns exist depends on the table."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    TYPE: ClassVar[RelType] = RelType.IN_FAMILY


class MeasuredBy(Fact):
    """Every statistic an analysis measured on one component (Neuronpedia's head metrics:
    induction_score, prev_token_score, pattern_entropy, qk_distance, ... and the counts of
    the head's layer), under the source's own names; which exist depends on the source."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    TYPE: ClassVar[RelType] = RelType.MEASURED_BY
    node: str | None = None  # the graph node measured, where a source has several per component
