"""`circuitbase check`: what an earlier version, a cut-off command or a forged alias could
leave in a store, found by asking the store, and repaired on request.

Each finding is a kind, a count and what repairing it does:

* `facts-without-analysis`: facts citing an analysis the store does not hold (a removal
  cut off before this version finished removals in order); repair deletes them.
* `unreferenced`: concepts, tasks, roles, families, tokens, N2G patterns and trie nodes
  nothing refers to (an earlier version's partial write); repair deletes them.
* `merged-by-alias`: analyses whose source names another model than the one they are
  stored under (a user alias that named a real model merged the two); repair retracts
  them (as `analysis remove`), so the file can be ingested again without the alias.
* `components-out-of-model`: components without exactly one IN_MODEL edge to the model
  they name; reported, not repaired (remove the model and add it again).
* `components-out-of-shape`: components past their model's layers, heads or neurons;
  reported, not repaired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..schema.aliases import canonical_model
from ..store.base import GraphStore, WriteCounts

# Where an analysis's parameters name the model its source is about.
_MODEL_FIELDS = ("model_name", "scan", "hf_id", "model")


@dataclass
class Finding:
    kind: str
    count: int
    detail: str
    repairable: bool = True
    items: list[str] = field(default_factory=list)


def _named_models(params: Any) -> set[str]:
    try:
        values = json.loads(params) if isinstance(params, str) else {}
    except ValueError:
        return set()
    if not isinstance(values, dict):
        return set()
    return {
        canonical_model(values[name], shipped_only=True)
        for name in _MODEL_FIELDS
        if isinstance(values.get(name), str)
    }


def merged_by_alias(store: GraphStore) -> list[str]:
    """Analyses whose source names a model (by its own names, without the user's aliases)
    that is not one of the models they are stored about."""
    found = []
    for row in store.analysis_sources():
        named = _named_models(row.get("params"))
        if named and not named & set(row.get("models") or ()):
            found.append(row["uid"])
    return sorted(found)


def check(store: GraphStore) -> list[Finding]:
    """Everything wrong that this version knows how to find."""
    findings = []
    orphans = store.facts_without_analysis()
    if orphans:
        findings.append(
            Finding(
                "facts-without-analysis",
                sum(orphans.values()),
                f"facts cite {len(orphans)} analysis(es) the store does not "
                f"hold: {', '.join(sorted(orphans)[:5])}",
                items=sorted(orphans),
            )
        )
    unreferenced = store.unreferenced_counts()
    if unreferenced:
        findings.append(
            Finding(
                "unreferenced",
                sum(unreferenced.values()),
                "nodes nothing refers to: "
                + ", ".join(f"{n} {label}" for label, n in sorted(unreferenced.items())),
            )
        )
    merged = merged_by_alias(store)
    if merged:
        findings.append(
            Finding(
                "merged-by-alias",
                len(merged),
                f"analyses stored under another model than their source "
                f"names: {', '.join(merged[:5])}",
                items=merged,
            )
        )
    stray = store.components_out_of_model()
    if stray:
        findings.append(
            Finding(
                "components-out-of-model",
                len(stray),
                f"components without one IN_MODEL edge to their model "
                f"(first: {stray[0]['uid']}); remove the model and add it again",
                repairable=False,
            )
        )
    outside = store.components_out_of_shape()
    if outside:
        findings.append(
            Finding(
                "components-out-of-shape",
                len(outside),
                f"components past their model's layers or widths (first: "
                f"{outside[0]['uid']}, of a model with {outside[0]['n_layers']} layers); "
                "remove the model and add it again",
                repairable=False,
                items=[row["uid"] for row in outside],
            )
        )
    return findings


def repair(store: GraphStore, findings: list[Finding]) -> WriteCounts:
    """Repair what `check` found (merged analyses first: their removal may leave nodes
    that nothing refers to, which the last step deletes)."""
    total = WriteCounts()
    kinds = {finding.kind: finding for finding in findings}
    if "merged-by-alias" in kinds:
        for analysis in kinds["merged-by-alias"].items:
            total += store.remove_analysis(analysis)
    if "facts-without-analysis" in kinds:
        total += store.delete_facts_without_analysis(kinds["facts-without-analysis"].items)
    total += store.delete_unreferenced()
    return total
