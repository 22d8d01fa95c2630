"""Adapter for Neuronpedia's exports (hijohnnylin/neuronpedia,
`utils/neuronpedia-utils/neuronpedia_utils/export-data.py` and the webapp's Prisma schema):
per model and source (`exports/<model>/<source>/`, a source being `<layer>-<set>`), JSON
Lines batches of 1,024 features, gzipped:

* `features/batch-<n>.jsonl.gz`: Neuronpedia's `Neuron` rows (`modelId`, `layer` = the
  source, `index` as text, `maxActApprox`, `frac_nonzero`, `pos_str`/`pos_values`,
  `neg_str`/`neg_values`, histograms, correlated neurons, top cosine similarities, `vector`,
  `hookName`, ...): each row a feature's `HAS_EVIDENCE` fact, every field kept but
  `vector` (the decoder direction: `ingest vectors` stores vectors; skipped here); its
  `topkCosSimIndices`/`topkCosSimValues` (the features of its source whose decoder
  directions are nearest, and their cosines: Neuronpedia's "similar features") are also
  each a match, `SIMILAR_TO {metric: "decoder", score}` of the source's analysis, so
  `similar` answers with them;
* `explanations/batch-<n>.jsonl.gz`: `Explanation` rows (`id`, `description`, `typeName`,
  `explanationModelName`, `authorId`, umap coordinates, `embedding`): each an
  `(:Explanation {text})` and `EXPLAINED_BY {explanation: id, method: typeName,
  explainer: explanationModelName, ...}`; its `embedding` (256 numbers, of the text)
  kept there too and indexed (ingest/evidence_index.py) for `similar --metric
  explanation-embedding`;
* `activations/batch-<n>.jsonl.gz`: `Activation` rows (`id`, `tokens`, `values`,
  `maxValue`, `maxValueTokenIndex`, `minValue`, DFA values, quantile bin, ...): each a
  `HAS_EXAMPLE {example: <its id>, ...}`, with `max_value`, `max_index`, `min_value` copied
  from Neuronpedia's own.

Each file is read as a stream, a line at a time. Which of the three a file is comes from
its folder's name, as the export lays them out. All batches of one source are one analysis,
`neuronpedia/<model>/<source>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..schema.aliases import canonical_model
from ..schema.dictionaries import dictionary_record, parse_neuronpedia_source
from ..schema.evidence import Evidence, Example, ExplainedBy, Explanation
from ..schema.graph import DECODER_METRIC, NodeLabel
from ..schema.nodes import Analysis
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from ..schema.relationships import SimilarTo
from ..schema.uids import ComponentKind, ComponentUid, UidError, check_model_name, parse_component
from .files import read_jsonl, validate

CITATION = "Neuronpedia (Lin et al.), https://www.neuronpedia.org; its data exports"
METHOD = "Neuronpedia export"
KINDS = ("features", "explanations", "activations")
SKIPPED = {"features": ("vector",), "explanations": (), "activations": ()}
MAX_EMBEDDING = 4_096  # numbers in an explanation's embedding (Neuronpedia's have 256)


class ExportRow(BaseModel):
    """What every row of the three kinds has: which feature it is about."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    modelId: str = Field(min_length=1, max_length=100)
    layer: str = Field(min_length=1, max_length=200)
    index: str | int


class ExplanationRow(ExportRow):
    id: str | None = Field(default=None, max_length=200)
    description: str
    typeName: str | None = None
    explanationModelName: str | None = None
    embedding: list[float] | None = Field(default=None, min_length=1, max_length=MAX_EMBEDDING)


class ActivationRow(ExportRow):
    id: str = Field(min_length=1, max_length=200)
    tokens: list[str]
    values: list[float]
    maxValue: float | None = None
    maxValueTokenIndex: int | None = None
    minValue: float | None = None


def export_kind(path: Path) -> str | None:
    """`features`, `explanations` or `activations` for a batch file of an export."""
    name = Path(path).name
    if Path(path).parent.name in KINDS and name.endswith((".jsonl", ".jsonl.gz")):
        return Path(path).parent.name
    return None


def export_records(path: Path) -> Iterator[NodeRecord | RelRecord]:
    """The records of one export batch file, a line at a time."""
    kind = export_kind(path)
    if kind is None:
        raise RecordError(
            "not a Neuronpedia export batch: expected <source>/features|"
            "explanations|activations/batch-<n>.jsonl[.gz]",
            file=str(path),
        )
    analyses: set[str] = set()
    row_model: Any = {
        "features": ExportRow,
        "explanations": ExplanationRow,
        "activations": ActivationRow,
    }[kind]
    for line, data in read_jsonl(path):
        where = f"line {line}"
        row: Any = validate(row_model, data, file=path, record=where)
        uid, model, source = _feature(row, path, where)
        analysis = f"neuronpedia/{model}/{source}"
        if analysis not in analyses:  # the same records from every batch of the source
            analyses.add(analysis)
            yield from _analysis(analysis, model, row, source, path, where)
        fields = {
            k: v
            for k, v in data.items()  # as read: the row model only checked them
            if k not in ("modelId", "layer", "index", *SKIPPED[kind])
        }
        start, target = ref(NodeLabel.FEATURE, uid), ref(NodeLabel.ANALYSIS, analysis)
        origin = f"{path}, {where}"
        if kind == "features":
            fact = validate(Evidence, {**fields, "analysis": analysis}, file=path, record=where)
            yield fact.record(start, target, origin=origin)
            yield from _decoder_neighbours(uid, data, analysis, path, where)
        elif kind == "activations":
            fields.pop("id")  # kept as `example`, the fact's identity
            example = validate(
                Example,
                {**fields, "analysis": analysis, "example": row.id, **_neuronpedia_maximum(row)},
                file=path,
                record=where,
            )
            yield example.record(start, target, origin=origin)
        else:
            text = (
                validate(
                    Explanation,
                    {"component": uid, "text": row.description},
                    file=path,
                    record=where,
                )
                .record()
                .at(origin)
            )
            explained = {
                k: v
                for k, v in fields.items()
                if k not in ("id", "description", "typeName", "explanationModelName")
            }
            explained_by = validate(
                ExplainedBy,
                {  # the source's own fields never restate what circuitbase names
                    **explained,
                    "analysis": analysis,
                    "explanation": row.id,
                    "method": row.typeName,
                    "explainer": row.explanationModelName,
                },
                file=path,
                record=where,
            )
            yield text
            yield explained_by.record(start, text.ref, origin=origin)


NEIGHBOURS = ("topkCosSimIndices", "topkCosSimValues")


def _decoder_neighbours(
    uid: str, data: dict[str, Any], analysis: str, path: Path, where: str
) -> Iterator[RelRecord]:
    """A `SIMILAR_TO {metric: "decoder"}` match to each feature of the same source that
    Neuronpedia lists among this one's nearest decoder directions (itself left out), its
    cosine the score. The two lists are the source's; they must pair up."""
    indices, values = (data.get(name) or [] for name in NEIGHBOURS)
    if not isinstance(indices, list) or not isinstance(values, list):
        field = NEIGHBOURS[0] if not isinstance(indices, list) else NEIGHBOURS[1]
        raise RecordError("expected a list", file=str(path), record=where, field=field)
    if len(indices) != len(values):
        raise RecordError(
            f"{len(indices)} neighbours but {len(values)} cosines: the two lists pair up",
            file=str(path),
            record=where,
            field=NEIGHBOURS[1],
        )
    feature = parse_component(uid)
    for position, (index, value) in enumerate(zip(indices, values)):
        if type(index) is not int or index < 0:
            raise RecordError(
                f"neighbour {index!r} is not a feature index",
                file=str(path),
                record=where,
                field=f"{NEIGHBOURS[0]}[{position}]",
            )
        if index == feature.index:
            continue
        other = ref(NodeLabel.FEATURE, str(replace(feature, index=index)))
        match = validate(
            SimilarTo,
            {"analysis": analysis, "metric": DECODER_METRIC, "score": value},
            file=path,
            record=f"{where}, {NEIGHBOURS[1]}[{position}]",
        )
        yield match.record(ref(NodeLabel.FEATURE, uid), other, origin=f"{path}, {where}")


def _neuronpedia_maximum(row: ActivationRow) -> dict[str, Any]:
    """Neuronpedia's own maximum, where it gives it (else derived from `values`)."""
    given = {
        "max_value": row.maxValue,
        "max_index": row.maxValueTokenIndex,
        "min_value": row.minValue,
    }
    return {k: v for k, v in given.items() if v is not None}


def _feature(row: ExportRow, path: Path, where: str) -> tuple[str, str, str]:
    try:
        model = check_model_name(canonical_model(row.modelId))
        layer, set_name = parse_neuronpedia_source(row.layer)
        index = int(row.index) if isinstance(row.index, int) or row.index.isdigit() else None
        if index is None:
            raise RecordError(f"feature index {row.index!r} is not a number", field="index")
        uid = ComponentUid(model, layer, ComponentKind.FEATURE, index, set_name)
    except UidError as err:
        raise RecordError(str(err), file=str(path), record=where, field="layer") from None
    except RecordError as err:
        raise err.located(file=str(path), record=where) from None
    return str(uid), model, row.layer


def _analysis(
    uid: str, model: str, row: ExportRow, source: str, path: Path, where: str
) -> Iterator[NodeRecord | RelRecord]:
    layer, set_name = parse_neuronpedia_source(source)
    yield from Analysis(
        uid=uid,
        kind="evidence",
        method=METHOD,
        models=[model],
        citation=CITATION,
        params={"modelId": row.modelId, "source": source},
    ).records()
    yield dictionary_record(
        model, layer, set_name, origin=f"{path}, {where}", neuronpedia=f"{row.modelId}/{source}"
    )
