"""`similar UID`: which components of other models are like this one, from what the store
already holds, with the evidence that lets a person judge each match.

Two kinds of answers, listed side by side:

* stored: `SIMILAR_TO` edges an analysis wrote (`similarity compute`, `analyze
  correlate`), read by the `similar_components` template;
* live, computed at query time from measurements the store holds, never from a
  component's position (layer, index, depth), so that "the same head" after fine-tuning
  is a finding, not a construction. Heads have two metrics, for two questions:
  - `head-roles` (the default): "a head that does the same thing in another model". The
    measurements that are on one scale in every model, the fractions of attention a head
    pays to the induction target, the previous token and itself (ROLE_FRACTIONS), are
    compared as measured (an analysis with other attention fractions, such as the
    dual-route induction scores, by those: ATTENTION_FRACTIONS); score
    `1 - RMS(differences)` in [0, 1]. An induction head's match is an induction head
    (README: the rates, computed by the suite);
  - `head-identity`: "the same head after fine-tuning". Each metric is turned into the
    head's percentile rank within its own model; score `1 - RMS(rank differences)` (1:
    the same place in every metric's ranking). Ranks keep a fine-tuned model's heads on
    their base heads, and lose roles across models (a model's top-ranked induction head
    may barely attend to the induction target); `similarity fine-tuning` uses it;
  - `probe-concepts`: probed neurons, the weighted Jaccard similarity of what their probes
    find: each concept weighted by the neuron's best probe score for it (F1, else MCC),
    score `sum(min) / sum(max)` over both neurons' concepts, in [0, 1] (1: the same
    concepts at the same scores); the evidence is every shared concept with both scores.

Live answers are not stored: `universality_table` and the other templates read stored
analyses only.
"""

from __future__ import annotations

import base64
import math
import sys
from array import array
from itertools import repeat
from typing import Any

from ..schema.sizes import model_size
from ..schema.uids import ComponentKind, ComponentUid, UidError, parse_component
from ..store.base import GraphStore, Row
from .direction_matches import decoder_matches, direction_pair, embedding_matches
from .feature_matches import evidence_pair, explanation_matches, token_matches
from .match import (
    ATTENTION_FRACTIONS,
    DECODER,
    EXPLANATION,
    EXPLANATION_EMBEDDING,
    FEATURE_METRICS,
    HEAD_IDENTITY,
    HEAD_METRICS,
    HEAD_ROLES,
    METRICS,
    MIN_PROBE_SCORE,
    PROBE_CONCEPTS,
    ROLE_FRACTIONS,
    STORED_METRICS,
    STORED_PER_MODEL_TOP,
    Match,
)
from .names import checked_component, checked_model, stored_models
from .registry import TemplateError, run_template


def similar(
    store: GraphStore,
    uid: str,
    *,
    model: str | None = None,
    metric: str | None = None,
    top: int = 10,
    per_model: bool = False,
    timeout: float | None = None,
    dead_and_dense: bool = False,
) -> list[Match]:
    """Matches of `uid` in other models (in `model` only, if given), stored and live: the
    best `top` by score, or with `per_model` the best of each other model for each
    metric, models from the smallest. A dictionary feature is compared with every other
    feature (of its own model too: another layer or dictionary), dead and dense ones left
    out unless `dead_and_dense`."""
    if metric is not None and metric not in METRICS:
        raise TemplateError(
            f"no similarity metric {metric!r}; the metrics are {', '.join(METRICS)}"
        )
    models = stored_models(store)
    component = checked_component(store, uid, models)
    model = checked_model(store, model, models)
    matches: list[Match] = []
    if metric in (None, *STORED_METRICS):
        matches += _stored(store, str(component), model, metric, top, per_model, timeout)
    if metric in (None, HEAD_ROLES) and component.kind is ComponentKind.HEAD:
        matches += _head_matches(store, component, model, top, per_model, HEAD_ROLES)
    if metric == HEAD_IDENTITY and component.kind is ComponentKind.HEAD:
        matches += _head_matches(store, component, model, top, per_model, HEAD_IDENTITY)
    if metric in (None, PROBE_CONCEPTS) and component.kind is ComponentKind.NEURON:
        matches += _probe_concepts(store, component, model, timeout)
    if component.kind is ComponentKind.FEATURE:
        matches += _live_feature_matches(
            store, str(component), metric, model, dead_and_dense, timeout, top, per_model
        )
    for match in matches:  # where the match sits, as the stored rows say it
        if match.layer is None:
            match.layer = parse_component(match.uid).layer
            total = models.get(match.model, {}).get("n_layers")
            match.relative_depth = (
                (0.0 if total == 1 else match.layer / (total - 1)) if total else None
            )
    if per_model:
        best: dict[tuple[str, str], Match] = {}
        for match in matches:
            key = (match.model, match.metric)
            if key not in best or (match.score, best[key].uid) > (best[key].score, match.uid):
                best[key] = match
        sizes = {name: model_size(name, row) for name, row in models.items()}
        return sorted(
            best.values(), key=lambda m: (sizes.get(m.model, math.inf), m.model, m.metric)
        )
    matches.sort(key=lambda m: (-m.score, m.metric, m.uid))
    return matches[:top]


def _live_feature_matches(
    store: GraphStore,
    uid: str,
    metric: str | None,
    model: str | None,
    dead_and_dense: bool,
    timeout: float | None,
    top: int,
    per_model: bool,
) -> list[Match]:
    """A dictionary feature's live matches by each feature metric (or `metric`): at least
    the best `top` of each (and each model's best, with `per_model`). One after the other,
    in this thread: run side by side in threads they answered a third sooner (100,000
    features, FalkorDB), but a query outside the main thread is not ended by Ctrl-C on
    Neo4j (store/neo4j_store.py, `_interruptible`)."""
    matches: list[Match] = []
    for name in FEATURE_METRICS if metric is None else [metric]:
        if name == EXPLANATION:
            matches += explanation_matches(
                store, uid, model, dead_and_dense, timeout, top, per_model
            )
        elif name == DECODER:
            matches += decoder_matches(store, uid, model, top, timeout)
        elif name == EXPLANATION_EMBEDDING:
            matches += embedding_matches(store, uid, model, dead_and_dense, top)
        elif name in FEATURE_METRICS:
            matches += token_matches(
                store, uid, name, model, dead_and_dense, timeout, top, per_model
            )
    return matches


def _stored(
    store: GraphStore,
    uid: str,
    model: str | None,
    metric: str | None,
    top: int,
    per_model: bool,
    timeout: float | None,
) -> list[Match]:
    rows = run_template(
        store,
        "similar_components",
        {
            "uid": uid,
            "model": model,
            "metric": metric,
            "top": STORED_PER_MODEL_TOP if per_model else top,
        },
        timeout=timeout,
    )
    return [
        Match(
            row["match"],
            row["model"],
            row["score"],
            row["metric"],
            "stored",
            [row["analysis"]],
            [],
            row.get("layer"),
            row.get("relative_depth"),
            row.get("params"),
        )
        for row in rows
    ]


def _head_matches(
    store: GraphStore, head: ComponentUid, model: str | None, top: int, per_model: bool, metric: str
) -> list[Match]:
    """Every other model's measured heads, scored by `metric` in one pass over each
    analysis's packed ranks (head-identity) or values (head-roles); the winners'
    measurements are then read for their evidence. A head the file did not measure has
    no match, and is no other head's match (it is not in the packs)."""
    found: list[
        tuple[float, str, str, str, Row]
    ] = []  # (mean squared difference, uid, model, analysis, mine)
    for mine in store.head_profiles_of(str(head)):
        if mine["measured"].get("unmeasured"):
            continue
        columns = _columns(mine["metrics"], metric)
        if columns is None:
            continue  # not measured with the role fractions: no role to compare
        profile = _compared(mine, metric, columns)
        for pack in store.head_profile_packs(
            mine["method"], mine["metrics"], exclude=head.model, model=model
        ):
            if metric == HEAD_ROLES and not pack.get("values"):
                continue  # packed before values were: ingest its file again
            uids, distances = _distances(pack, profile, metric, columns)
            if per_model:  # the closest head, ties to the smaller uid
                best, uid = min(zip(distances, uids))
                found.append((best, uid, pack["model"], pack["analysis"], mine))
            else:
                ranked = sorted(zip(distances, uids))[:top]
                found += [(d, u, pack["model"], pack["analysis"], mine) for d, u in ranked]
    if not per_model:
        found = sorted(found, key=lambda f: (f[0], f[1]))[:top]
    measured = {
        (r["uid"], r["analysis"]): r["measured"]
        for r in store.heads_measured([(uid, analysis) for _, uid, _, analysis, _ in found])
    }
    return [
        Match(
            uid,
            other,
            1.0 - math.sqrt(d),
            metric,
            "live",
            sorted({mine["analysis"], analysis}),
            _profile_evidence(
                mine["metrics"],
                mine["measured"],
                measured[(uid, analysis)],
                _columns(mine["metrics"], metric),
            ),
        )
        for d, uid, other, analysis, mine in found
    ]


def _columns(metrics: list[str], metric: str) -> list[int] | None:
    """Which of an analysis's metrics `metric` compares: every one for head-identity; for
    head-roles, the role fractions, or where an analysis has not all three, the
    attention fractions it has (ATTENTION_FRACTIONS; None where it has none)."""
    if metric == HEAD_IDENTITY:
        return list(range(len(metrics)))
    if set(ROLE_FRACTIONS) <= set(metrics):
        return [metrics.index(name) for name in ROLE_FRACTIONS]
    fractions = [i for i, name in enumerate(metrics) if name in ATTENTION_FRACTIONS]
    return fractions or None


def _distances(
    pack: Row, profile: list[float], metric: str, columns: list[int]
) -> tuple[list[str], list[float]]:
    """The heads of one packed analysis and each one's mean squared difference to
    `profile` in `columns` of its ranks (head-identity) or values (head-roles) (math.dist
    per head: a few ms for thousands of heads, without numpy)."""
    uids = pack["heads"].split(" ") if pack["heads"] else []
    table = array("d")
    table.frombytes(base64.b64decode(pack["values" if metric == HEAD_ROLES else "table"]))
    if sys.byteorder == "big":
        table.byteswap()
    if not uids and not table:
        return [], []  # a file none of whose heads were measured
    size = len(table) // len(uids) if uids else 0
    if not uids or len(table) != len(uids) * size or max(columns) >= size:
        raise UidError(
            f"the packed head measurements of {pack['analysis']} do not match its heads; "
            "ingest its file again"
        )
    heads = zip(*(table[k::size] for k in columns))  # one tuple per head
    n = len(columns)
    return uids, [d * d / n for d in map(math.dist, repeat(profile), heads)]


def _compared(row: Row, metric: str, columns: list[int]) -> list[float]:
    """What `metric` compares of one head's row: its values or its ranks, in `columns`."""
    if metric == HEAD_ROLES:
        return [float(row["measured"][row["metrics"][k]]) for k in columns]
    ranks = profile_of(row)
    return [ranks[k] for k in columns]


def profile_of(row: Row) -> list[float]:
    """A head's ranks (`profile_0`, `profile_1`, ...) from a row of its measurements."""
    return [row["measured"][f"profile_{i}"] for i in range(len(row["metrics"]))]


def _profile_evidence(
    metrics: list[str], mine: Row, theirs: Row, columns: list[int] | None = None
) -> list[dict[str, Any]]:
    """Both heads' measurements that were compared, metric by metric, with their ranks in
    their models."""
    return [
        {
            "measure": metrics[i],
            "this": mine.get(metrics[i]),
            "that": theirs.get(metrics[i]),
            "this_rank": mine[f"profile_{i}"],
            "that_rank": theirs[f"profile_{i}"],
        }
        for i in (range(len(metrics)) if columns is None else columns)
    ]


def between(store: GraphStore, uid: str, other: str) -> list[Match]:
    """How two components compare, live, on each measurement both have (the side-by-side
    view of the web explorer): the score and its evidence."""
    found = []
    model = parse_component(other).model
    mine = {(r["method"], tuple(r["metrics"])): r for r in store.head_profiles_of(uid)}
    for theirs in store.head_profiles_of(other):
        here = mine.get((theirs["method"], tuple(theirs["metrics"])))
        if (
            here is None
            or here["measured"].get("unmeasured")
            or theirs["measured"].get("unmeasured")
        ):
            continue
        for metric in HEAD_METRICS:
            columns = _columns(here["metrics"], metric)
            if columns is None:
                continue
            a, b = (_compared(row, metric, columns) for row in (here, theirs))
            squared = [(x - y) ** 2 for x, y in zip(a, b)]
            found.append(
                Match(
                    other,
                    model,
                    1.0 - math.sqrt(sum(squared) / len(squared)) if squared else 0.0,
                    metric,
                    "live",
                    sorted({here["analysis"], theirs["analysis"]}),
                    _profile_evidence(
                        here["metrics"], here["measured"], theirs["measured"], columns
                    ),
                )
            )
    if parse_component(uid).kind is ComponentKind.FEATURE:  # every feature metric, as scored
        found += evidence_pair(store, uid, other) + direction_pair(store, uid, other)
    concepts = {r["concept"]: r for r in store.probe_concepts_of(uid, MIN_PROBE_SCORE)}
    theirs_c = {r["concept"]: r for r in store.probe_concepts_of(other, MIN_PROBE_SCORE)}
    shared = sorted(set(concepts) & set(theirs_c))
    if shared:
        score = _weighted_jaccard(
            concepts,
            {c: theirs_c[c]["score"] for c in shared},
            sum(r["score"] for r in theirs_c.values()),
        )
        analyses = {a for r in (*concepts.values(), *theirs_c.values()) for a in r["analyses"]}
        found.append(
            Match(
                other,
                model,
                score,
                PROBE_CONCEPTS,
                "live",
                sorted(analyses),
                [
                    {"concept": c, "this": concepts[c]["score"], "that": theirs_c[c]["score"]}
                    for c in shared
                ],
            )
        )
    return found


def _weighted_jaccard(mine: dict[str, Row], shared: dict[str, float], theirs_total: float) -> float:
    """`sum(min) / sum(max)` of two neurons' concept scores, from this neuron's concepts
    (rows with `score`), the other's scores of the shared ones and the sum of all its scores."""
    overlap = sum(min(mine[name]["score"], theirs) for name, theirs in shared.items())
    union = sum(row["score"] for row in mine.values()) + theirs_total - overlap
    return overlap / union if union > 0 else 0.0


def _probe_concepts(
    store: GraphStore, neuron: ComponentUid, model: str | None, timeout: float | None
) -> list[Match]:
    mine = {row["concept"]: row for row in store.probe_concepts_of(str(neuron), MIN_PROBE_SCORE)}
    if not mine:
        return []
    matches = []
    for row in store.probe_concept_candidates(
        sorted(mine), exclude=neuron.model, model=model, min_score=MIN_PROBE_SCORE, timeout=timeout
    ):
        shared = sorted((name, score) for name, score in row["shared"])
        score = _weighted_jaccard(mine, dict(shared), row["theirs"])
        analyses = {a for concept, _ in shared for a in mine[concept]["analyses"]}
        analyses |= {a for group in row["analyses"] for a in group}
        evidence = [
            {"concept": name, "this": mine[name]["score"], "that": theirs}
            for name, theirs in shared
        ]
        matches.append(
            Match(
                row["uid"], row["model"], score, PROBE_CONCEPTS, "live", sorted(analyses), evidence
            )
        )
    return matches


def no_comparison(store: GraphStore, uid: str) -> str:
    """Why a component has no match: what evidence it has, and what would compare it."""
    has = store.relationship_types_at(uid)
    listed = ", ".join(f"{n} {type_}" for type_, n in has.items()) or "no facts"
    kind = parse_component(uid).kind
    if kind is ComponentKind.FEATURE and (
        store.feature_logits([uid]) or store.feature_peaks([uid])
    ):
        return (
            f"no other feature in the store shares a promoted or suppressed logit or an "
            f"activation peak with {uid} (it has {listed}; compared by logit-profile, "
            "suppressed-logits and activation-tokens); more features (`circuitbase ingest "
            "features`) would give it matches"
        )
    if kind is ComponentKind.HEAD and (
        unmeasured := [
            r["analysis"] for r in store.head_profiles_of(uid) if r["measured"].get("unmeasured")
        ]
    ):
        return (
            f"{uid} was not measured: its layer is all zeros in {', '.join(unmeasured)} (a "
            "layer the file's tool left out), so it is neither matched nor a match"
        )
    how = {
        ComponentKind.HEAD: "head metrics (`circuitbase ingest heads`) of this model and "
        "another would compare it live (head-roles, head-identity)",
        ComponentKind.NEURON: "probes (`circuitbase ingest probes`) finding a concept in it "
        "and in another model's neurons would compare it live "
        "(probe-concepts)",
        ComponentKind.FEATURE: "its logits or activation examples (`circuitbase ingest "
        "features`) sharing a token with another feature's would compare it live "
        "(logit-profile, suppressed-logits, activation-tokens)",
    }.get(kind, "")
    stored = "`circuitbase similarity compute` or `analyze correlate` would store matches"
    return f"no comparable measurements of {uid} (it has {listed}); " + (
        f"{how}, or {stored}" if how else stored
    )
