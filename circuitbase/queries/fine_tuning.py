"""`similarity fine-tuning`: whether a fine-tuned model's heads stay where they were in
its base, each head matched to its most similar base head by profile."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..schema.sizes import model_size
from ..schema.uids import UidError
from ..store.base import GraphStore, Row
from .match import TIE
from .names import checked_model, stored_models
from .similar import profile_of


def model_sizes(store: GraphStore) -> dict[str, float]:
    """Each stored model's size, to order models from the smallest (`schema.sizes`)."""
    return {name: model_size(name, row) for name, row in stored_models(store).items()}


@dataclass
class FineTuning:
    """For each head of `model`, its most similar head (head-identity) in `base`."""

    model: str
    base: str
    rows: list[dict[str, Any]]
    base_heads: int  # how many heads the other model has: chance is one over it

    @property
    def heads(self) -> int:
        return len(self.rows)

    @property
    def same(self) -> int:
        return sum(1 for row in self.rows if row["same_head"])

    @property
    def fraction(self) -> float:
        return self.same / self.heads if self.heads else 0.0

    @property
    def chance(self) -> float:
        return 1.0 / self.base_heads if self.base_heads else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base": self.base,
            "heads": self.heads,
            "same_head": self.same,
            "fraction": round(self.fraction, 4),
            "chance": round(self.chance, 6),
            "times_chance": round(self.fraction / self.chance, 1) if self.chance else None,
        }


def fine_tuning(store: GraphStore, model: str, base: str | None = None) -> list[FineTuning]:
    """For `model` and the base it is FINE_TUNED_FROM (or `base`), whether each head's most
    similar head by profile in the other model is the same layer and head; chance is one
    over the other model's heads."""
    import numpy as np

    models = stored_models(store)
    model = checked_model(store, model, models) or model
    pairs = store.fine_tuned_pairs()
    bases = (
        [base]
        if base
        else [b for m, b in pairs if m == model] + [m for m, b in pairs if b == model]
    )
    if not bases:
        raise UidError(
            f"{model} has no FINE_TUNED_FROM edge to a base or a fine-tuned model in "
            "the store; name one with --base"
        )
    reports = []
    for other in bases:
        other = checked_model(store, other, models) or other
        mine, theirs = _profile_table(store, model), _profile_table(store, other)
        key = next((k for k in sorted(mine) if k in theirs), None)  # the same one each run
        if key is None:
            raise UidError(f"{model} and {other} have no head metrics measured the same way")
        a, b = mine[key], theirs[key]
        pa, pb = np.array([profile_of(r) for r in a]), np.array([profile_of(r) for r in b])
        distance = ((pa[:, None, :] - pb[None, :, :]) ** 2).mean(axis=2)
        best = distance.argmin(axis=1)
        position = {(r["layer"], r["head"]): j for j, r in enumerate(b)}
        rows = []
        for i, row in enumerate(a):
            match = b[int(best[i])]
            same = position.get((row["layer"], row["head"]))
            # the same head counts when it is (one of) the closest: ties are not decided by order
            rows.append(
                {
                    "head": row["uid"],
                    "base_head": match["uid"],
                    "score": round(1.0 - math.sqrt(float(distance[i, best[i]])), 6),
                    "same_head": same is not None
                    and bool(distance[i, same] <= distance[i, best[i]] + TIE),
                }
            )
        reports.append(FineTuning(model, other, rows, base_heads=len(b)))
    return reports


def _profile_table(store: GraphStore, model: str) -> dict[tuple[str, tuple[str, ...]], list[Row]]:
    """A model's head profiles by (method, metrics): the first analysis of each head."""
    tables: dict[tuple[str, tuple[str, ...]], dict[str, Row]] = {}
    for row in store.head_profiles_in(model):
        tables.setdefault((row["method"], tuple(row["metrics"])), {}).setdefault(row["uid"], row)
    return {
        key: sorted(rows.values(), key=lambda r: (r["layer"], r["head"]))
        for key, rows in tables.items()
    }
