"""Adapter for Neuronpedia's attention-head metrics (hijohnnylin/neuronpedia,
`utils/neuronpedia-utils/neuronpedia_utils/headvis/head-metrics/*.json`, MIT).

A file is `{"config": {"model_name": <Hugging Face id>, "num_hidden_layers",
"num_attention_heads", "dataset_name", "n_sequences", "seq_len", ...}, "metrics":
{<metric>: [layer][head] numbers, ..., "counts": {<count>: [layer] numbers}}}`, one model.
Everything in it is kept:

* the config is the analysis's parameters (dataset, sequences, length, dtype, ...);
* each head gets one `(:AttentionHead)-[:MEASURED_BY {analysis, <every metric>, <its
  layer's counts>}]->(:Analysis)`, under the file's names, whichever metrics a file has;
* each head's profile: its percentile rank within its model in every per-head metric,
  as `profile_0`, `profile_1`, ... in the order of the analysis's `profile_metrics` (the
  metrics by name), which `similar` compares across models (`head-profile`);
* the two scores the field names roles by are also `HAS_ROLE {score}` edges, so the
  role templates read them beside TransformerLens's detector scores:
  `induction_score` -> induction, `prev_token_score` -> previous-token. Which score
  makes a head an induction head is a query parameter, not decided here.

A model not yet known is created from the file (layers and heads; other dimensions
unknown), named after its Hugging Face id without the organisation, the id kept as
`hf_id`.
"""

from __future__ import annotations

import base64
import math
import sys
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..schema.aliases import canonical_model
from ..schema.catalog import known_model
from ..schema.graph import NodeLabel
from ..schema.nodes import Analysis, HeadRole, ModelSpec
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from ..schema.relationships import HasRole, MeasuredBy
from ..schema.uids import UidError, check_model_name, head_uid
from .files import file_hash, validate
from .models import MAX_COMPONENTS

CITATION = (
    "Neuronpedia attention-head metrics (headvis), Johnny Lin et al., "
    "https://github.com/hijohnnylin/neuronpedia, MIT licence"
)
ROLE_METRICS = {"induction_score": "induction", "prev_token_score": "previous-token"}
METHOD = "Neuronpedia headvis attention-head metrics"
COUNTS = "counts"


class HeadvisConfig(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    model_name: str = Field(min_length=1, max_length=200)
    num_hidden_layers: int = Field(gt=0, le=10_000)
    num_attention_heads: int = Field(gt=0, le=100_000)
    dataset_name: str | None = None


class HeadvisFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config: HeadvisConfig
    metrics: dict[str, Any] = Field(min_length=1)


def is_head_metrics(data: Any) -> bool:
    return isinstance(data, dict) and {"config", "metrics"} <= set(data)


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RecordError(f"{value!r} is not a finite number", field=field)
    return float(value)


def _per_head(name: str, matrix: Any, layers: int, heads: int) -> list[list[float]]:
    if not isinstance(matrix, list) or len(matrix) != layers:
        raise RecordError(
            f"a metric is a [layer][head] table of {layers} layers", field=f"metrics.{name}"
        )
    for layer, row in enumerate(matrix):
        if not isinstance(row, list) or len(row) != heads:
            raise RecordError(
                f"layer {layer} must have {heads} heads", field=f"metrics.{name}[{layer}]"
            )
    return [
        [_number(v, f"metrics.{name}[{layer}][{head}]") for head, v in enumerate(row)]
        for layer, row in enumerate(matrix)
    ]


def _per_layer(name: str, values: Any, layers: int) -> list[float]:
    if not isinstance(values, list) or len(values) != layers:
        raise RecordError(
            f"a count is one number per layer ({layers})", field=f"metrics.{COUNTS}.{name}"
        )
    return [_number(v, f"metrics.{COUNTS}.{name}[{layer}]") for layer, v in enumerate(values)]


def profile_property(position: int) -> str:
    """The property holding a head's rank in the `position`-th of its analysis's
    `profile_metrics`: named by position, so a query can name it without taking a name
    from a file into its text."""
    return f"profile_{position}"


def percentile_ranks(values: list[float]) -> list[float]:
    """Each value's rank among `values` scaled to [0, 1] (ties share their mean rank; one
    value is 0.5): what makes a metric comparable across models whose scales differ."""
    if len(values) == 1:
        return [0.5]
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 / (len(values) - 1)
        start = end + 1
    return ranks


def head_profiles(
    tables: list[list[list[float]]], unmeasured: frozenset[int] = frozenset()
) -> list[list[list[float] | None]]:
    """Per head ([layer][head]), its percentile rank within its model in each table, in
    the tables' order: the head's profile (`head-identity` similarity compares these),
    ranked among the measured heads only (None for a head of an `unmeasured` layer).
    Derived from the file alone, so it does not depend on what else is stored."""
    layers, heads = len(tables[0]), len(tables[0][0])
    measured = [layer for layer in range(layers) if layer not in unmeasured]
    ranked = [percentile_ranks([v for layer in measured for v in table[layer]]) for table in tables]
    at = {layer: i for i, layer in enumerate(measured)}
    return [
        [
            [round(column[at[layer] * heads + head], 12) for column in ranked]
            if layer in at
            else None
            for head in range(heads)
        ]
        for layer in range(layers)
    ]


def unmeasured_layers(tables: dict[str, list[list[float]]]) -> frozenset[int]:
    """Layers whose every head has every metric exactly 0: a layer the file's tool did
    not measure (Qwen3.5's files leave 18 of 24 layers as zeros), not heads that attend
    nowhere, since a head's attention fractions and entropy cannot all be 0 when measured."""
    first = next(iter(tables.values()))
    return frozenset(
        layer
        for layer in range(len(first))
        if all(value == 0 for table in tables.values() for value in table[layer])
    )


def pack_profiles(
    uids: list[str], profiles: list[list[float]], values: list[list[float]]
) -> dict[str, str]:
    """Every measured head's ranks and values in one piece each, for `similar` to read a
    model's heads in one row (48,000 heads' ranks as properties took 0.2 s to score in
    the store; as one string, a few ms to read): `profile_heads`, the uids in order,
    space-separated; `profile_table`, their ranks, and `profile_values`, their measured
    values of the same metrics (`profile_metrics`), each little-endian float64, base64
    (what `profile_<i>` and the metrics hold, head by head)."""
    return {
        "profile_heads": " ".join(uids),
        "profile_table": _packed(rank for head in profiles for rank in head),
        "profile_values": _packed(value for head in values for value in head),
    }


def _packed(numbers: Iterable[float]) -> str:
    table = array("d", numbers)
    if sys.byteorder == "big":
        table.byteswap()
    return base64.b64encode(table.tobytes()).decode("ascii")


def check_metric_names(names: Iterable[str], where: str = "") -> None:
    """A metric becomes a property of each head's MEASURED_BY: not one circuitbase keeps
    there itself (its ranks, whether it was measured, the analysis)."""
    if taken := sorted(
        n for n in names if n.startswith("profile_") or n in ("unmeasured", "analysis", "node")
    ):
        raise RecordError(
            f"{taken[0]!r}: circuitbase keeps its own values under this name (each head's "
            "ranks, whether it was measured, its analysis)",
            field=f"{where}{taken[0]}",
        )


def _check_claimed_size(metrics: dict[str, Any], layers: int, heads: int) -> None:
    """The work a file asks for is bounded by what it holds: its config's layers x heads
    must be measured by at least one [layer][head] table (whose size is then checked
    against the claim), and stay within what one command may create."""
    if not any(name != COUNTS for name in metrics):
        raise RecordError(
            f"no per-head metric: the file claims {layers:,} layers x {heads:,} "
            "heads but measures none of them",
            field="metrics",
        )
    if layers * heads > MAX_COMPONENTS:
        raise RecordError(
            f"{layers:,} layers x {heads:,} heads is over the "
            f"{MAX_COMPONENTS:,} components one command may create",
            field="config",
        )


def _model(config: HeadvisConfig) -> NodeRecord:
    name = canonical_model(config.model_name)
    try:
        check_model_name(name)
    except UidError as err:
        raise RecordError(str(err), field="config.model_name") from None
    shape = {"n_layers": config.num_hidden_layers, "n_heads": config.num_attention_heads}
    catalog = known_model(name)
    if catalog is None:
        return ModelSpec(name=name, hf_id=config.model_name, **shape).record()
    differs = [
        f"{k} {getattr(catalog, k)} (file: {v})"
        for k, v in shape.items()
        if getattr(catalog, k) != v
    ]
    if differs:
        raise RecordError(f"{name} has {', '.join(differs)}", field="config")
    return catalog.record()


def head_metrics_records(
    data: Any, path: Path, *, analysis_uid: str | None = None
) -> Iterator[NodeRecord | RelRecord]:
    """The records of one head-metrics file (already parsed as `data`)."""
    parsed = validate(HeadvisFile, data, file=path, record="the file")
    config = parsed.config
    layers, heads = config.num_hidden_layers, config.num_attention_heads
    try:
        _check_claimed_size(parsed.metrics, layers, heads)
        model = _model(config)
        tables = {
            name: _per_head(name, matrix, layers, heads)
            for name, matrix in parsed.metrics.items()
            if name != COUNTS
        }
        counts = parsed.metrics.get(COUNTS, {})
        if not isinstance(counts, dict):
            raise RecordError(
                "counts are {name: [one number per layer]}", field=f"metrics.{COUNTS}"
            )
        per_layer = {name: _per_layer(name, values, layers) for name, values in counts.items()}
        if clash := sorted(set(tables) & (set(per_layer) | {"analysis"})):
            raise RecordError(
                f"{clash[0]!r} is both a metric and a count", field=f"metrics.{clash[0]}"
            )
        check_metric_names([*tables, *per_layer], "metrics.")
    except RecordError as err:
        raise err.located(file=str(path), record="the file") from None
    analysis = Analysis(
        uid=analysis_uid or f"neuronpedia-headvis/{model.key}/{config.dataset_name or path.stem}",
        kind="heads",
        method=METHOD,
        models=[model.key],
        citation=CITATION,
        content_hash=file_hash(path),
        params=config.model_dump(),
    )
    yield model
    roles = {metric: role for metric, role in ROLE_METRICS.items() if metric in tables}
    yield from measured_head_records(
        model.key, analysis, tables, per_layer, path, roles, "Neuronpedia headvis {metric}"
    )


def measured_head_records(
    model: str,
    analysis: Analysis,
    tables: dict[str, list[list[float]]],
    per_layer: dict[str, list[float]],
    path: Path,
    roles: dict[str, str],
    role_method: str,
) -> Iterator[NodeRecord | RelRecord]:
    """An analysis of per-head metrics (`tables`: [layer][head] per metric, `per_layer`:
    one number per layer) as records: the analysis with its heads' ranks and values
    packed, each head's `MEASURED_BY` with every metric and its ranks, and a `HAS_ROLE`
    per metric of `roles` (`role_method` names its method, `{metric}` filled in)."""
    layers, heads = len(next(iter(tables.values()))), len(next(iter(tables.values()))[0])
    profile_metrics = sorted(tables)
    unmeasured = unmeasured_layers(tables)
    profiles = head_profiles([tables[name] for name in profile_metrics], unmeasured)
    first, *about = analysis.records()
    measured = [
        (layer, head) for layer in range(layers) if layer not in unmeasured for head in range(heads)
    ]
    packed = pack_profiles(
        [head_uid(model, layer, head) for layer, head in measured],
        [profiles[layer][head] for layer, head in measured],  # type: ignore[misc]
        [[tables[name][layer][head] for name in profile_metrics] for layer, head in measured],
    )
    yield replace(
        first,
        props={
            **first.props,
            "profile_metrics": profile_metrics,
            "unmeasured_layers": sorted(unmeasured),
            **packed,
        },
    )
    yield from about
    role_nodes = {metric: HeadRole(name=role).record() for metric, role in roles.items()}
    yield from role_nodes.values()
    measured_by = analysis.record().ref
    for layer in range(layers):
        for head in range(heads):
            origin = f"{path}, head L{layer}H{head}"
            start = ref(NodeLabel.HEAD, head_uid(model, layer, head))
            values = {name: table[layer][head] for name, table in tables.items()}
            values |= {name: column[layer] for name, column in per_layer.items()}
            # a head of a layer the file did not measure keeps the file's zeros, said so,
            # and is never ranked, matched or given a role
            profile = profiles[layer][head]
            ranks = (
                {profile_property(i): rank for i, rank in enumerate(profile)}
                if profile is not None
                else {"unmeasured": True}
            )
            try:
                yield (
                    MeasuredBy(analysis=analysis.uid, **ranks, **values)
                    .record(start, measured_by)
                    .at(origin)
                )
            except (ValueError, RecordError) as err:
                raise RecordError(str(err).splitlines()[0], file=str(path), record=origin) from None
            if profile is None:
                continue
            for metric, role in role_nodes.items():
                yield (
                    HasRole(
                        analysis=analysis.uid,
                        score=values[metric],
                        method=role_method.format(metric=metric),
                    )
                    .record(start, role.ref)
                    .at(origin)
                )
