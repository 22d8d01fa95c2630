"""The interchange formats: what circuitbase reads besides each tool's own output.

Each is a pydantic model, so `circuitbase schema export NAME` can print its JSON
Schema for other tools to validate against, and the README documents it by example.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .aliases import canonical_model
from .nodes import Analysis, AnalysisKind, Citation
from .records import CheckedNames
from .relationships import ProbeScores

# A model name in a file: any of its names becomes the canonical one.
ModelName = Annotated[str, BeforeValidator(canonical_model)]


class AnalysisInfo(CheckedNames):
    """Provenance given in a file: which analysis produced the facts in it."""

    model_config = ConfigDict(extra="forbid")
    uid: str | None = None
    method: str | None = None
    citation: Citation = None
    params: dict[str, Any] = {}
    tool_version: str | None = None

    def analysis(
        self,
        *,
        kind: AnalysisKind,
        models: list[str],
        content_hash: str,
        default_uid: str,
        default_method: str,
        uid: str | None = None,
        default_citation: str | None = None,
    ) -> Analysis:
        """The Analysis this provenance describes. A uid given on the command line wins over
        the file's, and the file's over the adapter's default, so that a re-ingest of the same
        file lands on the same analysis."""
        return Analysis(
            uid=uid or self.uid or default_uid,
            kind=kind,
            method=self.method or default_method,
            models=models,
            citation=self.citation or default_citation,
            params=self.params,
            tool_version=self.tool_version,
            content_hash=content_hash,
        )


class _ProbeFields(ProbeScores):
    """What every probe result says: where, which feature, and (ProbeScores) how well."""

    model: ModelName
    layer: int = Field(ge=0)
    feature: str = Field(min_length=1, max_length=200)
    category: str | None = None


class ProbeRow(_ProbeFields):
    """One neuron selected by one probe: the interchange CSV's columns."""

    model_config = ConfigDict(extra="forbid")
    neuron: int = Field(ge=0)
    rank: int | None = Field(default=None, ge=0)
    weight: float | None = None
    aggregation: str | None = None
    hook: str | None = None


class SelectedNeuron(CheckedNames):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    neuron: int = Field(ge=0)
    rank: int | None = Field(default=None, ge=0)
    weight: float | None = None


class Probe(_ProbeFields):
    """One k-sparse probe: a feature at one layer of one model, and the k neurons it uses."""

    model_config = ConfigDict(extra="forbid")
    neurons: list[SelectedNeuron] = Field(min_length=1)

    def rows(self) -> Iterator[ProbeRow]:
        shared = self.model_dump(exclude={"neurons"})
        for position, selected in enumerate(self.neurons):
            rank = selected.rank if selected.rank is not None else position
            yield ProbeRow(**shared, neuron=selected.neuron, rank=rank, weight=selected.weight)


class ProbeFile(CheckedNames):
    """The interchange JSON: `{"analysis": {...}, "probes": [...]}`."""

    model_config = ConfigDict(extra="forbid")
    analysis: AnalysisInfo = AnalysisInfo()
    probes: list[Probe]


class LabelledSequence(CheckedNames):
    """One sequence and, per token, whether the concept is present (1) or not (0)."""

    model_config = ConfigDict(extra="forbid")
    tokens: list[int] | None = None
    text: str | None = None
    labels: list[int]

    def model_post_init(self, _context: Any) -> None:
        if (self.tokens is None) == (self.text is None):
            raise ValueError("give either tokens (ids) or text, not both")
        if any(label not in (0, 1) for label in self.labels):
            raise ValueError("labels must be 0 or 1")
        if self.tokens is not None and len(self.tokens) != len(self.labels):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.labels)} labels")


class ConceptData(CheckedNames):
    """A labelled token dataset for `circuitbase analyze probe`."""

    model_config = ConfigDict(extra="forbid")
    concept: str = Field(min_length=1, max_length=200)
    category: str | None = None
    sequences: list[LabelledSequence] = Field(min_length=1)


class HeadRoleRow(CheckedNames):
    """One head's score for one role: the heads interchange CSV's columns."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    model: ModelName
    layer: int = Field(ge=0)
    head: int = Field(ge=0)
    role: str = Field(min_length=1, max_length=200)
    score: float
    method: str | None = None


class HeadRoleFile(CheckedNames):
    """The heads interchange JSON: `{"analysis": {...}, "heads": [...]}`."""

    model_config = ConfigDict(extra="forbid")
    analysis: AnalysisInfo = AnalysisInfo()
    heads: list[HeadRoleRow] = Field(min_length=1)


class HeadDetectorScores(CheckedNames):
    """TransformerLens `detect_head` results saved as JSON: per head type, [layer][head] scores."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    model: ModelName
    scores: dict[str, list[list[float]]] = Field(min_length=1)
    method: str | None = None
    analysis: AnalysisInfo = AnalysisInfo()


class TaskInfo(CheckedNames):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None


class OutputNodeRow(CheckedNames):
    """A component that writes the task's answer; `component` is a uid or a short form (L9H9)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    component: str
    category: str | None = None
    direct_effect: float | None = None
    total_effect: float | None = None
    rank: int | None = Field(default=None, ge=0)


class CircuitEdgeRow(CheckedNames):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    source: str
    target: str
    weight: float | None = None
    qkv: list[str] | None = None


class CircuitFile(CheckedNames):
    """The circuit interchange JSON: a task's output nodes and edges in one model."""

    model_config = ConfigDict(extra="forbid")
    analysis: AnalysisInfo = AnalysisInfo()
    model: ModelName
    task: TaskInfo
    metric: str | None = None
    output_nodes: list[OutputNodeRow] = []
    edges: list[CircuitEdgeRow] = []


INTERCHANGE_FORMATS: dict[str, type[BaseModel]] = {
    "probes-json": ProbeFile,
    "probes-csv-row": ProbeRow,
    "concept-data": ConceptData,
    "heads-json": HeadRoleFile,
    "heads-csv-row": HeadRoleRow,
    "head-detector-scores": HeadDetectorScores,
    "circuit-json": CircuitFile,
}
