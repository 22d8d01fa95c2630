"""Adapter for per-head score lists, as the dual-route induction code writes them
(sfeucht/dual-route-induction, `cache/attention_scores/<model>/[<revision>/]*.json` and
`cache/causal_scores/...`, MIT; Feucht et al. 2025):

* a list `[{"layer", "head_idx", "score"}, ...]`, one metric (named by `--metric`, else
  the file's name), or
* `{"<metric>": [{"layer", "head_idx", "score"}, ...], ...}`, several (`next_tok_attn`,
  `end_tok_attn`).

Each must list every head of a layers x heads grid once. The scores are stored as the
heads-metrics files' are (sources/head_metrics.py): each head's `MEASURED_BY` with every
metric and its rank within its model, packed on the analysis for `similar`; a metric
becomes a `HAS_ROLE` score only when `--role METRIC=ROLE` says which role it measures.

The files name no model: `--model` does, else the folders: `<model>/<file>` is the final
model's, `<model>/<revision>/<file>` a checkpoint's when the folder is named as Pythia's
and OLMo's revisions are (`step1000`, `stage1-step1000-tokens5B`; another name needs
`--revision`). One analysis per file and model: `head-scores/<file name>/<model>`, so
that the start `head-scores/<file name>/` selects one measurement across checkpoints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..schema.aliases import canonical_model, revision_being_read
from ..schema.checkpoints import checkpoint_name, position_from_name, split_checkpoint
from ..schema.nodes import Analysis
from ..schema.records import NodeRecord, RecordError, RelRecord
from ..schema.uids import UidError, check_model_name
from .files import file_hash, validate
from .head_metrics import check_metric_names, measured_head_records
from .models import MAX_COMPONENTS

METHOD = "per-head scores"
_METRIC = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}", re.ASCII)


class HeadScore(BaseModel):
    # NaN and infinity are refused here (allow_inf_nan), as are strings for numbers
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    layer: int = Field(ge=0, le=10_000)
    head_idx: int = Field(ge=0, le=100_000)
    score: float


def is_score_lists(data: Any) -> bool:
    """A list of per-head scores, or a dict of such lists."""

    def scores(value: Any) -> bool:
        return (
            isinstance(value, list)
            and bool(value)
            and isinstance(value[0], dict)
            and {"layer", "head_idx"} <= set(value[0])
        )

    if isinstance(data, dict):
        return bool(data) and all(scores(v) for v in data.values())
    return scores(data)


def parse_roles(text: str | None) -> dict[str, str]:
    """`--role next_tok_attn=induction,end_tok_attn=concept-induction` as {metric: role}."""
    roles: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        metric, equals, role = (piece.strip() for piece in part.partition("="))
        if not equals or not metric or not role:
            raise RecordError(f"--role takes METRIC=ROLE pairs, not {part.strip()!r}")
        roles[metric] = role
    return roles


def _model_of(path: Path, given: str | None) -> str:
    """The model (or checkpoint) a score file is about: `--model`, else its folders."""
    if given is not None:
        return given
    folder, above = path.resolve().parent, path.resolve().parent.parent
    revision = folder.name if position_from_name(above.name, folder.name) else None
    named = above.name if revision is not None else folder.name
    reading = revision_being_read()
    if revision is not None and reading is not None and reading != revision:
        raise RecordError(
            f"the file is in the folder of revision {revision!r}, not --revision {reading!r}",
            field="revision",
        )
    name = canonical_model(named)
    if revision is not None:
        name = checkpoint_name(split_checkpoint(name)[0], revision)
    try:
        return check_model_name(name)
    except UidError as err:
        raise RecordError(
            f"{err}; the folder names no model: give --model (files are laid out as "
            "<model>/[<revision>/]<file>)",
            field="model",
        ) from None


def _table(name: str, rows: Any, path: Path) -> list[list[float]]:
    """One metric's [layer][head] table from its list; every head of the grid once."""
    if not isinstance(rows, list) or not rows:
        raise RecordError("a metric is a non-empty list of {layer, head_idx, score}", field=name)
    scores = [
        validate(HeadScore, row, file=path, record=f"{name}[{i}]") for i, row in enumerate(rows)
    ]
    layers = max(s.layer for s in scores) + 1
    heads = max(s.head_idx for s in scores) + 1
    if layers * heads > MAX_COMPONENTS or layers * heads != len(scores):
        raise RecordError(
            f"{len(scores):,} scores for a grid of {layers:,} layers x {heads:,} heads: "
            "each head is listed once",
            field=name,
        )
    table: list[list[float | None]] = [[None] * heads for _ in range(layers)]
    for i, score in enumerate(scores):
        if table[score.layer][score.head_idx] is not None:
            raise RecordError(
                f"head L{score.layer}H{score.head_idx} is listed twice", field=f"{name}[{i}]"
            )
        table[score.layer][score.head_idx] = score.score
    return table  # type: ignore[return-value]  # every cell was filled (counted above)


def score_list_records(
    data: Any,
    path: Path,
    *,
    model: str | None = None,
    metric: str | None = None,
    roles: str | None = None,
    analysis_uid: str | None = None,
) -> Iterator[NodeRecord | RelRecord]:
    """The records of one score-list file (already parsed as `data`)."""
    try:
        name = _model_of(path, model)
        if isinstance(data, dict):
            if metric is not None:
                raise RecordError("--metric names the one metric of a list", field="metric")
            given = data
        else:
            given = {metric or path.stem: data}
        for each in given:
            if not _METRIC.fullmatch(each):
                raise RecordError(
                    f"metric {each!r}: letters, digits and '_' (give --metric NAME)", field="metric"
                )
        check_metric_names(given)
        tables = {
            each: _table(each if isinstance(data, dict) else "", rows, path)
            for each, rows in given.items()
        }
        shapes = {(len(t), len(t[0])) for t in tables.values()}
        if len(shapes) > 1:
            raise RecordError(f"the metrics measure grids of different shapes {sorted(shapes)}")
        wanted = parse_roles(roles)
        if unknown := sorted(set(wanted) - set(tables)):
            raise RecordError(
                f"--role names {unknown[0]!r}, not a metric of the file "
                f"({', '.join(sorted(tables))})",
                field="role",
            )
    except RecordError as err:
        raise err.located(file=str(path), record="the file") from None
    analysis = Analysis(
        uid=analysis_uid or f"head-scores/{path.stem}/{name}",
        kind="heads",
        method=f"{METHOD}: {path.stem}",
        models=[name],
        content_hash=file_hash(path),
        params={"file": path.name, "metrics": sorted(tables)},
    )
    yield from measured_head_records(
        name, analysis, tables, {}, path, wanted, f"{METHOD}: {{metric}}"
    )
