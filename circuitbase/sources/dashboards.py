"""Adapter for dictionary-feature dashboards in the JSON Neuronpedia takes as an upload
(SAEDashboard's `NeuronpediaRunner` writes it; jbloomAus/SAEDashboard, MIT):
`{"model_id", "layer", "sae_set", "features": [...]}`, one file per batch of features of
one dictionary.

Every field is kept (schema/evidence.py): per feature, everything but its activations is
its `HAS_EVIDENCE` fact (`frac_nonzero`, `pos_str`/`pos_values`, `neg_str`/`neg_values`,
the frequency and logit histograms, the neurons and features it correlates with, the
dataset, ...), and each activation is a `HAS_EXAMPLE` fact (`tokens`, `values`, its
quantile bin, DFA values, `qualifying_token_index`, ...; `max_value`, `max_index` and
`min_value` are added from `values`). The features are `<model>/L<layer>/<sae_set>/F<i>`,
their dictionary's Neuronpedia id `<model_id>/<layer>-<sae_set>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..schema.aliases import canonical_model
from ..schema.dictionaries import dictionary_record, neuronpedia_source
from ..schema.evidence import Evidence, Example
from ..schema.graph import NodeLabel
from ..schema.nodes import Analysis
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from ..schema.uids import ComponentKind, ComponentUid, UidError, check_model_name
from .files import validate

CITATION = (
    "SAEDashboard (Bloom, Lin et al.), https://github.com/jbloomAus/SAEDashboard; "
    "feature dashboards as uploaded to Neuronpedia, https://www.neuronpedia.org"
)
METHOD = "feature dashboard (SAEDashboard / Neuronpedia)"


class DashboardFeature(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    feature_index: int = Field(ge=0, le=999_999_999)
    activations: list[dict[str, Any]] = []


class Dashboards(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    model_id: str = Field(min_length=1, max_length=100)
    layer: int = Field(ge=0, le=9_999)
    sae_set: str = Field(min_length=1, max_length=100)
    features: list[DashboardFeature] = Field(min_length=1)


def is_dashboards(data: Any) -> bool:
    return isinstance(data, dict) and {"model_id", "layer", "sae_set", "features"} <= set(data)


def dashboard_records(
    data: Any, path: Path, *, analysis_uid: str | None = None, digest: str | None = None
) -> Iterator[NodeRecord | RelRecord]:
    """The records of one dashboard file (already parsed as `data`)."""
    batch = validate(Dashboards, data, file=path, record="the file")
    try:
        model = check_model_name(canonical_model(batch.model_id))
        dictionary = dictionary_record(
            model,
            batch.layer,
            batch.sae_set,
            origin=str(path),
            neuronpedia=f"{batch.model_id}/{neuronpedia_source(batch.layer, batch.sae_set)}",
        )
    except UidError as err:
        raise RecordError(str(err), file=str(path), field="sae_set") from None
    indices = [f.feature_index for f in batch.features]
    source = neuronpedia_source(batch.layer, batch.sae_set)
    analysis = Analysis(
        uid=analysis_uid or f"dashboards/{model}/{source}/F{min(indices)}-F{max(indices)}",
        kind="evidence",
        method=METHOD,
        models=[model],
        citation=CITATION,
        content_hash=digest,
        params={k: v for k, v in batch.model_dump().items() if k != "features"},
    )
    yield from analysis.records()
    yield dictionary
    target = analysis.record().ref
    for i, feature in enumerate(batch.features):
        where = f"features[{i}] (feature_index {feature.feature_index})"
        uid = str(
            ComponentUid(
                model, batch.layer, ComponentKind.FEATURE, feature.feature_index, batch.sae_set
            )
        )
        start = ref(NodeLabel.FEATURE, uid)
        fields = {
            k: v
            for k, v in feature.model_dump().items()
            if k not in ("feature_index", "activations")
        }
        evidence = validate(Evidence, {**fields, "analysis": analysis.uid}, file=path, record=where)
        yield evidence.record(start, target, origin=f"{path}, {where}")
        for j, activation in enumerate(feature.activations):
            at = f"{where}.activations[{j}]"
            example = validate(
                Example,
                {**activation, "analysis": analysis.uid, "example": str(j)},
                file=path,
                record=at,
            )
            yield example.record(start, target, origin=f"{path}, {at}")
