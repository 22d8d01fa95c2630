"""`ingest features`: which reader a file of dictionary-feature evidence needs, from what
it is (a Neuronpedia export batch by its place in the export's folders, a dashboard
upload by its fields)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..schema.nodes import content_hash
from ..schema.records import NodeRecord, RecordError, RelRecord
from .dashboards import dashboard_records, is_dashboards
from .files import parse_json, read_bytes
from .formats import Format, analysis_option
from .neuronpedia_export import export_kind, export_records

SUFFIXES = (".json", ".jsonl", ".gz")


def feature_records(
    path: Path, *, analysis_uid: str | None = None
) -> Iterable[NodeRecord | RelRecord]:
    path = Path(path)
    if export_kind(path) is not None:
        if analysis_uid is not None:
            raise RecordError(
                "an export names its own analysis (neuronpedia/<model>/<source>); "
                "--analysis is for dashboard files",
                file=str(path),
            )
        return export_records(path)
    if path.suffix != ".json":
        raise RecordError(
            "not a feature file: a dashboard upload (.json) or a Neuronpedia "
            "export batch (<source>/features|explanations|activations/"
            "batch-<n>.jsonl.gz)",
            file=str(path),
        )
    raw = read_bytes(path)
    data = parse_json(raw, path)
    if not is_dashboards(data):
        raise RecordError(
            "not a feature dashboard file: expected model_id, layer, sae_set and "
            "features (the JSON Neuronpedia takes as an upload)",
            file=str(path),
        )
    return dashboard_records(data, path, analysis_uid=analysis_uid, digest=content_hash(raw))


FORMAT = Format(
    name="features",
    summary="Evidence about dictionary features: SAEDashboard's dashboards, or Neuronpedia's "
    "exports.",
    details="""Dashboards in the JSON Neuronpedia takes as an upload (SAEDashboard's output), or
    Neuronpedia's exports (a source's features/, explanations/ and activations/ batches,
    .jsonl.gz, read as a stream). Every field is kept (an export's feature vectors and
    explanation embeddings are skipped).

    \b
    Examples:
      circuitbase ingest features batch-0.json batch-1.json
      circuitbase ingest features exports/gpt2-small/0-res-jb/""",
    reader=feature_records,
    suffixes=SUFFIXES,
    options=(analysis_option("dashboards/<model>/<layer>-<set>/F<first>-F<last>"),),
)
