"""Adapter for attention-head categories (induction, previous-token, duplicate-token, ...).

Reads circuitbase's interchange format (CSV rows `model,layer,head,role,score[,method]`,
or JSON `{"analysis": {...}, "heads": [...]}`), per-head score lists (`head_scores`), and
the scores TransformerLens's
`head_detector.detect_head` returns, saved as JSON
`{"model": ..., "scores": {"induction_head": [[...per head...] per layer], ...}}`, and
Neuronpedia's head metrics (`head_metrics`).
Each score becomes `(:AttentionHead)-[:HAS_ROLE {score, method, analysis}]->(:HeadRole)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..schema.graph import NodeLabel
from ..schema.interchange import AnalysisInfo, HeadDetectorScores, HeadRoleFile, HeadRoleRow
from ..schema.nodes import Analysis, HeadRole
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from ..schema.relationships import HasRole
from ..schema.uids import head_uid
from .files import file_hash, read_csv, read_json, validate
from .formats import Format, Option, analysis_option
from .head_metrics import head_metrics_records, is_head_metrics
from .head_scores import is_score_lists, score_list_records

ROLES = ("previous-token", "duplicate-token", "induction")
DETECTOR_HEAD_TYPES = {
    "previous_token_head": "previous-token",
    "duplicate_token_head": "duplicate-token",
    "induction_head": "induction",
}


HeadScore = tuple[int, int, str, float, str | None, str]  # layer, head, role, score, method, origin


def head_role_records(
    analysis: Analysis, model: str, rows: Iterable[HeadScore]
) -> list[NodeRecord | RelRecord]:
    """The analysis, its roles and one HAS_ROLE edge per row."""
    records = analysis.records()
    for layer, head, role, score, method, origin in rows:
        role_node = HeadRole(name=role).record()
        fact = HasRole(analysis=analysis.uid, score=score, method=method)
        records.append(role_node)
        records.append(
            fact.record(ref(NodeLabel.HEAD, head_uid(model, layer, head)), role_node.ref).at(origin)
        )
    return records


def _analysis(
    info: AnalysisInfo, models: list[str], path: Path, default_method: str, uid: str | None
) -> Analysis:
    return info.analysis(
        kind="heads",
        models=models,
        content_hash=file_hash(path),
        default_uid=f"heads/{'+'.join(models)}/{path.stem}",
        default_method=default_method,
        uid=uid,
    )


def _detector_records(
    parsed: HeadDetectorScores, path: Path, uid: str | None
) -> list[NodeRecord | RelRecord]:
    analysis = _analysis(
        parsed.analysis, [parsed.model], path, "TransformerLens head_detector", uid
    )
    rows: list[HeadScore] = []
    for head_type, matrix in parsed.scores.items():
        role = DETECTOR_HEAD_TYPES.get(head_type)
        if role is None:
            raise RecordError(
                f"unknown head type {head_type!r}; TransformerLens's are "
                f"{', '.join(DETECTOR_HEAD_TYPES)}",
                file=str(path),
                field="scores",
            )
        rows += [
            (
                layer,
                head,
                role,
                score,
                parsed.method or analysis.method,
                f"{path}, scores.{head_type}[{layer}][{head}]",
            )
            for layer, scores in enumerate(matrix)
            for head, score in enumerate(scores)
        ]
    return head_role_records(analysis, parsed.model, rows)


def heads_records(
    path: Path,
    *,
    analysis_uid: str | None = None,
    model: str | None = None,
    metric: str | None = None,
    roles: str | None = None,
) -> list[NodeRecord | RelRecord]:
    """All records of one heads file; RecordError names file, record and field."""
    path = Path(path)
    data: Any = read_json(path) if path.suffix.lower() == ".json" else None
    if is_score_lists(data):
        return list(
            score_list_records(
                data, path, model=model, metric=metric, roles=roles, analysis_uid=analysis_uid
            )
        )
    for flag, value in (("--model", model), ("--metric", metric), ("--role", roles)):
        if value is not None:
            raise RecordError(
                f"{flag} is for per-head score lists, which name neither model nor metric; "
                "this file names its own",
                file=str(path),
            )
    if path.suffix.lower() == ".json":
        if is_head_metrics(data):
            return list(head_metrics_records(data, path, analysis_uid=analysis_uid))
        if isinstance(data, dict) and "scores" in data:
            parsed = validate(HeadDetectorScores, data, file=path, record="the file")
            return _detector_records(parsed, path, analysis_uid)
        parsed_file = validate(HeadRoleFile, data, file=path, record="the file")
        info = parsed_file.analysis
        rows = [(f"{path}, head {i}", r) for i, r in enumerate(parsed_file.heads)]
    else:
        info = AnalysisInfo()
        rows = [
            (
                f"{path}, line {n}",
                validate(
                    HeadRoleRow,
                    {k: v for k, v in raw.items() if v != ""},
                    file=path,
                    record=f"line {n}",
                ),
            )
            for n, raw in read_csv(path, {"model", "layer", "head", "role", "score"})
        ]
    if not rows:
        raise RecordError("no head rows", file=str(path))
    models = sorted({row.model for _, row in rows})
    analysis = _analysis(info, models, path, "head categories", analysis_uid)
    records: list[NodeRecord | RelRecord] = []
    for model in models:
        records += head_role_records(
            analysis,
            model,
            [
                (r.layer, r.head, r.role, r.score, r.method, origin)
                for origin, r in rows
                if r.model == model
            ],
        )
    return records


FORMAT = Format(
    name="heads",
    summary="Attention-head categories and metrics: the interchange CSV or JSON, TransformerLens "
    "head_detector scores, Neuronpedia's head metrics, per-head score lists.",
    details="""The interchange CSV is model,layer,head,role,score[,method]. A per-head
    score list ([{"layer", "head_idx", "score"}] or {"<metric>": [...]}, as the
    dual-route induction code writes them) names no model: --model, or a folder laid out
    as <model>/[<revision>/]<file>, whose checkpoints go in with it.

    \b
    Examples:
      circuitbase ingest heads head_roles.csv
      circuitbase ingest heads detect_head_scores.json
      circuitbase ingest heads attention_scores/OLMo-2-1124-7B --role next_tok_attn=induction""",
    reader=heads_records,
    suffixes=(".csv", ".json"),
    options=(
        analysis_option(),
        Option(
            "--model",
            "model",
            "The model of per-head score lists (default: their folder, laid out as "
            "<model>/[<revision>/]<file>).",
            kind="model",
        ),
        Option(
            "--metric", "metric", "The metric of a per-head score list (default: its file name)."
        ),
        Option(
            "--role",
            "roles",
            "METRIC=ROLE[,...]: store a score-list metric as the score of a head role "
            "(e.g. next_tok_attn=induction).",
        ),
    ),
)
