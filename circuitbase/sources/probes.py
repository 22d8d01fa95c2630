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
weight, dataset, category, aggregation, hook, analysis}]->(:Concept {name})`; concepts are
shared, so the same feature found in two models (or two collections) is one node, and a
neuron probed for one feature on two datasets has two facts.

Published tables are recognised for what they are:

* per-neuron probe results (a metric column: F1, MCC, ...): one k=1 probe per row,
  ranked within its (model, feature, dataset) by F1 (else MCC), best first;
* neuron selections without metrics (`compound_superposition.csv`: the neurons of one
  feature at one layer): one k-sparse probe per (feature, layer), k its number of rows,
  ranked in the order the file lists them;
* anything else (`biasxnorm_p20_50_80.csv`: percentiles of bias x weight norm) is refused,
  saying what it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..schema.graph import NodeLabel
from ..schema.interchange import AnalysisInfo, ProbeFile, ProbeRow
from ..schema.nodes import Analysis, Concept
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from ..schema.relationships import Encodes, ProbeScores
from ..schema.uids import neuron_uid
from .files import csv_header, file_hash, read_csv, read_json, validate
from .formats import Format, Option, analysis_option

CITATION = (
    "Gurnee, Nanda, Pauly, Harvey, Troitskii, Bertsimas. Finding Neurons in a Haystack: "
    "Case Studies with Sparse Probing. TMLR 2023. arXiv:2305.01610"
)

# sparse-probing-paper column -> ProbeRow field
PAPER_COLUMNS = {
    "test_f1_score": "f1",
    "test_precision": "precision",
    "test_recall": "recall",
    "test_mcc": "mcc",
    "test_accuracy": "accuracy",
    "coef": "weight",
    "hook_loc": "hook",
    "loc": "hook",
    "agg": "aggregation",
}


# The interchange CSV's columns, and the sparse-probing paper's names for some of them.
PROBE_COLUMNS = frozenset(ProbeRow.model_fields) | frozenset(PAPER_COLUMNS)


def category_of(dataset: str | None) -> str | None:
    """`natural_lang_id.pyth.512.-1` -> `natural_lang_id`: the paper's feature collection."""
    return dataset.split(".")[0] if dataset else None


# `compound_superposition.csv`: the neurons one k-sparse probe selects, without its scores.
SELECTION_COLUMNS = {"feature", "layer", "neuron"}
NOT_PROBES = {  # published tables of the same folders that are not probe results
    frozenset(
        {"layer", "neuron", "percentile", "biasxnorm"}
    ): "percentiles of each neuron's bias x weight norm (biasxnorm), not probe results"
}


def _csv_rows(path: Path, model: str | None, feature: str | None) -> Iterator[tuple[str, ProbeRow]]:
    """The table's rows as they are read (nothing kept): one ProbeRow per line."""
    required = {"layer", "neuron"}
    header = set(csv_header(path))
    if (what := NOT_PROBES.get(frozenset(header))) is not None:
        raise RecordError(
            f"this table holds {what}; circuitbase does not store it",
            file=str(path),
            record="line 1",
        )
    model = model or _model_from_folder(path, header)
    for line, raw in read_csv(path, required, known=PROBE_COLUMNS, what="k-sparse probing table"):
        values: dict[str, Any] = {PAPER_COLUMNS.get(k, k): v for k, v in raw.items() if v != ""}
        values.setdefault("model", model)
        values.setdefault("feature", feature)
        where = f"line {line}"
        for name, hint in (("model", "--model"), ("feature", "--feature")):
            if values.get(name) is None:
                raise RecordError(
                    f"no {name} column and no {hint} given",
                    file=str(path),
                    record=where,
                    field=name,
                )
        values.setdefault("category", category_of(values.get("dataset")))
        yield where, validate(ProbeRow, values, file=path, record=where)


def _model_from_folder(path: Path, header: set[str]) -> str | None:
    """The paper's tables without a model column sit in `interpretable_neurons/<model>/`."""
    if "model" in header:
        return None
    from ..schema.catalog import known_model

    return path.parent.name if known_model(path.parent.name) is not None else None


def _json_rows(path: Path) -> tuple[AnalysisInfo, list[tuple[str, ProbeRow]]]:
    parsed = validate(ProbeFile, read_json(path), file=path, record="the file")
    rows = [(f"probe {i}", row) for i, probe in enumerate(parsed.probes) for row in probe.rows()]
    return parsed.analysis, rows


def probe_records(
    path: Path,
    *,
    model: str | None = None,
    feature: str | None = None,
    analysis_uid: str | None = None,
) -> Iterator[NodeRecord | RelRecord]:
    """All records of one probe file, as they are made: the rows wait in a scratch file
    to be ranked, not in memory. Raises RecordError naming file, record and field."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        rows: Iterable[tuple[str, ProbeRow]]
        info, rows = _json_rows(path)
        selection = False  # the interchange format: the user's own probes, cited as they say
    else:
        info, rows = AnalysisInfo(citation=CITATION), _csv_rows(path, model, feature)
        selection = set(csv_header(path)) == SELECTION_COLUMNS
    with RankedRows(selection=selection) as ranked:
        ranked.add_all((f"{path}, {where}", row) for where, row in rows)
        if not ranked.models():
            raise RecordError("no probe rows", file=str(path))
        analysis = info.analysis(
            kind="probe",
            models=ranked.models(),
            content_hash=file_hash(path),
            default_uid=f"sparse-probing/{'+'.join(ranked.models())}/{path.stem}",
            default_method="k-sparse probing",
            uid=analysis_uid,
        )
        yield from _records(analysis, ranked)


def records_from_rows(
    analysis: Analysis, rows: Iterable[tuple[str, ProbeRow]]
) -> list[NodeRecord | RelRecord]:
    """The analysis, its ABOUT edges, the concepts and one ENCODES edge per selected neuron
    of `rows` ((origin, row) pairs), ranked as `RankedRows` says."""
    with RankedRows() as ranked:
        ranked.add_all(rows)
        return list(_records(analysis, ranked))


def _records(analysis: Analysis, ranked: RankedRows) -> Iterator[NodeRecord | RelRecord]:
    yield from analysis.records()
    for origin, row, rank in ranked:
        concept = Concept(name=row.feature).record()
        yield concept.at(origin)
        fact = Encodes(
            analysis=analysis.uid,
            rank=rank,
            weight=row.weight,
            category=row.category,
            aggregation=row.aggregation,
            hook=row.hook,
            **row.model_dump(include=set(ProbeScores.model_fields)),
        )
        start = ref(NodeLabel.NEURON, neuron_uid(row.model, row.layer, row.neuron))
        yield fact.record(start, concept.ref).at(origin)


class RankedRows:
    """Probe rows in a scratch SQLite file (deleted on close), read back ranked.

    A row without a rank is ranked among the rows of its (model, feature, dataset, k) by
    F1, else MCC (best first; the input's order breaks ties), so the rank says the same
    whatever order a file lists its rows in. A row repeated verbatim counts once. In a
    `selection` table (neurons without scores), the rows of one (model, feature, layer)
    are one k-sparse probe: k is their number, rank their order in the input.
    """

    def __init__(self, *, selection: bool = False) -> None:
        self.selection = selection
        self._db = sqlite3.connect("")  # "": a private temporary file
        self._db.execute(
            "CREATE TABLE rows (position INTEGER PRIMARY KEY, origin TEXT, "
            "row TEXT UNIQUE, model TEXT, feature TEXT, dataset TEXT, k INTEGER, "
            "layer INTEGER, score REAL)"
        )

    def __enter__(self) -> RankedRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    def add_all(self, rows: Iterable[tuple[str, ProbeRow]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO rows (origin, row, model, feature, dataset, k, layer, "
                "score) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        origin,
                        row.model_dump_json(),
                        row.model,
                        row.feature,
                        row.dataset,
                        row.k,
                        row.layer,
                        row.f1 if row.f1 is not None else row.mcc,
                    )
                    for origin, row in rows
                ),
            )

    def models(self) -> list[str]:
        return [m for (m,) in self._db.execute("SELECT DISTINCT model FROM rows ORDER BY model")]

    def __iter__(self) -> Iterator[tuple[str, ProbeRow, int]]:
        """(origin, row, rank) in the input's order."""
        if self.selection:
            group = "model, feature, layer"
            extra = f", count(*) OVER (PARTITION BY {group})"
            order = "position"
        else:
            group, extra = "model, feature, coalesce(dataset, ''), k", ""
            order = "score IS NULL, score DESC, position"
        cursor = self._db.execute(
            f"SELECT origin, row, row_number() OVER (PARTITION BY {group} ORDER BY {order}) - 1"
            f"{extra} FROM rows ORDER BY position"
        )
        while chunk := cursor.fetchmany(2_000):
            for origin, text, place, *size in chunk:
                row = ProbeRow.model_validate_json(text)
                if size:
                    row = row.model_copy(update={"k": size[0], "rank": place})
                yield origin, row, row.rank if row.rank is not None else place


FORMAT = Format(
    name="probes",
    summary="k-sparse probing results: sparse-probing-paper CSVs, or the interchange CSV/JSON.",
    details="""\b
    Examples:
      circuitbase ingest probes interpretable_neurons/pythia-70m/top_mono_neurons.csv
      circuitbase ingest probes primes.csv --model pythia-70m --feature prime-factors
      circuitbase ingest probes my_probes.json""",
    reader=probe_records,
    suffixes=(".csv", ".json"),
    options=(
        Option("--model", "model", "The model, for tables without a model column.", "model"),
        Option(
            "--feature", "feature", "The feature (concept), for tables without a feature column."
        ),
        analysis_option(),
    ),
)
