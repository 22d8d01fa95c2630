"""Adapter for k-sparse probing results (Gurnee et al. 2023, arXiv 2305.01610).

Two inputs become the same records:

* the result tables of wesg52/sparse-probing-paper (`interpretable_neurons/<model>/*.csv`):
  `model,dataset,feature,layer,neuron,test_mcc,test_f1_score,test_precision,test_recall,coef`,
  optionally with `aggregation,hook_loc` or `agg,loc,k`; tables without `model` or
  `feature` columns take them from the caller (`--model`, `--feature`);
* circuitbase's interchange format, as CSV (one row per selected neuron, columns of
  `ProbeRow`) or JSON (`ProbeFile`: an analysis and its probes, each with its
  selected neurons).

Each probe becomes `(:Neuron)-[:ENCODES {k, f1, precision, recall, accuracy, mcc, rank,
weight, dataset, analysis}]->(:Concept {name, category})`; concepts are shared, so the
same feature found in two models is one node.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..schema.graph import NodeLabel
from ..schema.interchange import AnalysisInfo, ProbeFile, ProbeRow
from ..schema.nodes import Analysis, Concept, content_hash
from ..schema.records import NodeRecord, RelRecord, RecordError, ref
from ..schema.relationships import Encodes, ProbeScores
from ..schema.uids import neuron_uid
from .files import read_bytes, read_csv, read_json, validate

CITATION = ("Gurnee, Nanda, Pauly, Harvey, Troitskii, Bertsimas. Finding Neurons in a Haystack: "
            "Case Studies with Sparse Probing. TMLR 2023. arXiv:2305.01610")

# sparse-probing-paper column -> ProbeRow field
PAPER_COLUMNS = {"test_f1_score": "f1", "test_precision": "precision", "test_recall": "recall",
                 "test_mcc": "mcc", "test_accuracy": "accuracy", "coef": "weight",
                 "hook_loc": "hook", "loc": "hook", "agg": "aggregation"}


# The interchange CSV's columns, and the sparse-probing paper's names for some of them.
PROBE_COLUMNS = frozenset(ProbeRow.model_fields) | frozenset(PAPER_COLUMNS)


def category_of(dataset: str | None) -> str | None:
    """`natural_lang_id.pyth.512.-1` -> `natural_lang_id`: the paper's feature collection."""
    return dataset.split(".")[0] if dataset else None


def _csv_rows(path: Path, model: str | None, feature: str | None) -> Iterator[tuple[str, ProbeRow]]:
    required = {"layer", "neuron"}
    for line, raw in read_csv(path, required, known=PROBE_COLUMNS,
                              what="k-sparse probing table"):
        values: dict[str, Any] = {PAPER_COLUMNS.get(k, k): v for k, v in raw.items() if v != ""}
        values.setdefault("model", model)
        values.setdefault("feature", feature)
        where = f"line {line}"
        for name, hint in (("model", "--model"), ("feature", "--feature")):
            if values.get(name) is None:
                raise RecordError(f"no {name} column and no {hint} given", file=str(path),
                                  record=where, field=name)
        values.setdefault("category", category_of(values.get("dataset")))
        yield where, validate(ProbeRow, values, file=path, record=where)


def _json_rows(path: Path) -> tuple[AnalysisInfo, list[tuple[str, ProbeRow]]]:
    parsed = validate(ProbeFile, read_json(path), file=path, record="the file")
    rows = [(f"probe {i}", row) for i, probe in enumerate(parsed.probes) for row in probe.rows()]
    return parsed.analysis, rows


def probe_records(path: Path, *, model: str | None = None, feature: str | None = None,
                  analysis_uid: str | None = None) -> list[NodeRecord | RelRecord]:
    """All records of one probe file; raises RecordError naming file, record and field."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        info, rows = _json_rows(path)
    else:
        info, rows = AnalysisInfo(citation=CITATION), list(_csv_rows(path, model, feature))
    if not rows:
        raise RecordError("no probe rows", file=str(path))
    models = sorted({row.model for _, row in rows})
    analysis = info.analysis(kind="probe", models=models,
                             content_hash=content_hash(read_bytes(path)),
                             default_uid=f"sparse-probing/{'+'.join(models)}/{path.stem}",
                             default_method="k-sparse probing", uid=analysis_uid,
                             default_citation=CITATION)
    return records_from_rows(analysis, [(f"{path}, {where}", row) for where, row in rows])


def records_from_rows(analysis: Analysis,
                      rows: list[tuple[str, ProbeRow]]) -> list[NodeRecord | RelRecord]:
    """The analysis, its ABOUT edges, the concepts and one ENCODES edge per selected neuron.

    A row without a rank gets its position among the rows of the same model, feature
    and k, i.e. the order of the source; a row repeated verbatim counts once.
    """
    records = analysis.records()
    ranks: dict[tuple[str, str, int], int] = defaultdict(int)
    seen: set[str] = set()
    for origin, row in rows:
        if (verbatim := row.model_dump_json()) in seen:
            continue
        seen.add(verbatim)
        concept = Concept(name=row.feature, category=row.category).record()
        records.append(concept.at(origin))
        group = (row.model, row.feature, row.k)
        rank = row.rank if row.rank is not None else ranks[group]
        ranks[group] += 1
        fact = Encodes(analysis=analysis.uid, rank=rank, weight=row.weight,
                       **row.model_dump(include=set(ProbeScores.model_fields)))
        start = ref(NodeLabel.NEURON, neuron_uid(row.model, row.layer, row.neuron))
        records.append(fact.record(start, concept.ref).at(origin))
    return records
