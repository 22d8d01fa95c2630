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
import re
import sys
from array import array
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from ..schema.graph import SIMILARITY_METRICS
from ..schema.sizes import model_size
from ..schema.text import decoded_token
from ..schema.uids import ComponentKind, ComponentUid, UidError, parse_component
from ..store.base import GraphStore, Row
from .names import checked_component, checked_model, stored_models
from .registry import TemplateError, run_template

HEAD_ROLES = "head-roles"
HEAD_IDENTITY = "head-identity"
HEAD_METRICS = (HEAD_ROLES, HEAD_IDENTITY)
PROBE_CONCEPTS = "probe-concepts"
# dictionary features, by their evidence: the tokens their logits promote, those they
# suppress, the tokens their activation examples peak on
LOGIT_PROFILE = "logit-profile"
SUPPRESSED_LOGITS = "suppressed-logits"
ACTIVATION_TOKENS = "activation-tokens"
EXPLANATION = "explanation"
FEATURE_METRICS = (LOGIT_PROFILE, SUPPRESSED_LOGITS, ACTIVATION_TOKENS, EXPLANATION)
LIVE_METRICS = (*HEAD_METRICS, PROBE_CONCEPTS, *FEATURE_METRICS)
# how often a feature fires (`frac_nonzero`) outside which it is left out of matches:
# never (dead) or on more than a tenth of tokens (dense), as SAE dashboards flag them
DENSE = 0.1
# the head measurements on one scale in every model: fractions of attention, in [0, 1]
ROLE_FRACTIONS = ("induction_score", "prev_token_score", "self_attention_score")
# every per-head metric known to be a fraction of attention paid to one target, on one
# scale in every model and checkpoint: Neuronpedia's three, and the dual-route induction
# scores (attention to the token after an earlier copy, to the end of an earlier word)
ATTENTION_FRACTIONS = (*ROLE_FRACTIONS, "next_tok_attn", "end_tok_attn")
STORED_METRICS = (*SIMILARITY_METRICS, "activation-correlation")
METRICS = (*STORED_METRICS, *LIVE_METRICS)
MIN_PROBE_SCORE = 0.0  # every probe counts, by its score (a weak probe weighs little)
TIE = 1e-12  # profiles are stored to 12 decimals: closer than this is a tie
STORED_PER_MODEL_TOP = 1000  # stored matches read when the best of each model is asked for


@dataclass
class Match:
    """One component of another model like the asked one, and why."""

    uid: str
    model: str
    score: float
    metric: str
    source: str  # "live" or "stored"
    analyses: list[str]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    layer: int | None = None
    relative_depth: float | None = None
    params: str | None = None  # a stored match's analysis parameters (JSON text)

    def row(self) -> dict[str, Any]:
        return {
            "match": self.uid,
            "model": self.model,
            "layer": self.layer,
            "relative_depth": self.relative_depth,
            "score": self.score,
            "metric": self.metric,
            "source": self.source,
            "analysis": ", ".join(self.analyses),
            "params": self.params,
            "evidence": self.evidence,
        }


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
            store, str(component), metric, model, dead_and_dense, timeout
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
) -> list[Match]:
    """A dictionary feature's live matches by each feature metric (or `metric`)."""
    matches: list[Match] = []
    for name in FEATURE_METRICS if metric is None else [metric]:
        if name == EXPLANATION:
            matches += _explanation_matches(store, uid, model, dead_and_dense, timeout)
        elif name in FEATURE_METRICS:
            matches += _feature_matches(store, uid, name, model, dead_and_dense, timeout)
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
        found += [
            m for m in _live_feature_matches(store, uid, None, None, True, None) if m.uid == other
        ]
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


# --- dictionary features, by their evidence ----------------------------------------------


def token_weights(rows: list[Row], metric: str) -> dict[str, dict[str, float]]:
    """Per feature, its tokens and their weights for `metric`, from its evidence rows
    (`feature_logits` for the logit metrics, `feature_peaks` for activation-tokens): a
    promoted token's logit, a suppressed token's logit negated, an example's maximum
    summed over the examples peaking on that token; only positive weights, the largest of
    an analysis's where two analyses give the same token. Tokens are compared as the
    decoded strings the sources give, so dictionaries of one model and models sharing a
    vocabulary meet."""
    found: dict[str, dict[str, float]] = {}
    if metric == ACTIVATION_TOKENS:
        per_analysis: dict[tuple[str, str], dict[str, float]] = {}
        for row in rows:
            if isinstance(row["token"], str) and isinstance(row["value"], (int, float)):
                weights = per_analysis.setdefault((row["uid"], row["analysis"]), {})
                token = decoded_token(row["token"])
                weights[token] = weights.get(token, 0.0) + float(row["value"])
        for (uid, _), weights in per_analysis.items():
            _keep_largest(found.setdefault(uid, {}), weights)
        return found
    tokens, values, sign = (
        ("pos_str", "pos_values", 1.0)
        if metric == LOGIT_PROFILE
        else ("neg_str", "neg_values", -1.0)
    )
    for row in rows:
        logits: dict[str, float] = {}
        for token, value in zip(row[tokens] or [], row[values] or []):
            text = decoded_token(token)  # a byte-level `ĠThe` and a decoded ` The` meet
            logits[text] = max(logits.get(text, 0.0), sign * float(value))
        _keep_largest(found.setdefault(row["uid"], {}), logits)
    return found


def _keep_largest(into: dict[str, float], weights: dict[str, float]) -> None:
    for token, weight in weights.items():
        if weight > 0 and weight > into.get(token, 0.0):
            into[token] = weight


def weighted_jaccard(a: dict[str, float], b: dict[str, float]) -> float:
    """`sum(min) / sum(max)` over the tokens of two weight maps, in [0, 1]."""
    shared = set(a) & set(b)
    overlap = sum(min(a[t], b[t]) for t in shared)
    union = sum(a.values()) + sum(b.values()) - overlap
    return overlap / union if union > 0 else 0.0


def _feature_matches(
    store: GraphStore,
    uid: str,
    metric: str,
    model: str | None,
    dead_and_dense: bool,
    timeout: float | None,
) -> list[Match]:
    """Every other feature sharing a token of this one's evidence for `metric`, scored by
    the weighted Jaccard of the two features' token weights; the evidence is every shared
    token with both weights."""
    peaks = metric == ACTIVATION_TOKENS
    read = store.feature_peaks if peaks else store.feature_logits
    mine_rows = read([uid])
    mine = token_weights(mine_rows, metric).get(uid, {})
    if not mine:
        return []
    side = "peak" if peaks else ("pos_str" if metric == LOGIT_PROFILE else "neg_str")
    candidates = store.features_sharing(uid, sorted(mine), side, model=model, timeout=timeout)
    if not candidates:
        return []
    rows = read(candidates)
    theirs = token_weights(rows, metric)
    kept = _firing(store, sorted(theirs), None if peaks else rows, dead_and_dense)
    return _scored(
        uid,
        metric,
        mine,
        {u: theirs[u] for u in kept},
        weighted_jaccard,
        "token",
        [*mine_rows, *rows],
    )


_WORD = re.compile(r"[a-z0-9]+")


def explanation_words(texts: list[str]) -> dict[str, int]:
    """How often each word (lowercase letters and digits) occurs in a feature's
    explanations."""
    counts: dict[str, int] = {}
    for text in texts:
        for word in _WORD.findall(text.lower()):
            counts[word] = counts.get(word, 0) + 1
    return counts


def tf_idf(documents: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    """Each document's word weights: count x ln(documents / documents using the word)
    (a word every explanation uses weighs nothing)."""
    used: dict[str, int] = {}
    for counts in documents.values():
        for word in counts:
            used[word] = used.get(word, 0) + 1
    total = len(documents)
    return {
        uid: {w: n * math.log(total / used[w]) for w, n in counts.items() if used[w] < total}
        for uid, counts in documents.items()
    }


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(a[w] * b[w] for w in set(a) & set(b))
    norms = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norms if norms > 0 else 0.0


def _explanation_matches(
    store: GraphStore, uid: str, model: str | None, dead_and_dense: bool, timeout: float | None
) -> list[Match]:
    """Features whose explanations use this one's words: the cosine of the two features'
    TF-IDF word weights, over the explanations of every feature compared (all stored, or
    `model`'s); the evidence is every shared word with both weights."""
    rows = store.feature_explanations(uid, model=model, timeout=timeout)
    texts: dict[str, list[str]] = {}
    for row in rows:
        texts.setdefault(row["uid"], []).append(row["text"])
    if uid not in texts:
        return []
    weights = tf_idf({u: explanation_words(t) for u, t in texts.items()})
    mine = weights.pop(uid)
    candidates = sorted(u for u, w in weights.items() if set(w) & set(mine))
    kept = _firing(store, candidates, None, dead_and_dense)
    return _scored(uid, EXPLANATION, mine, {u: weights[u] for u in kept}, cosine, "word", rows)


def _scored(
    uid: str,
    metric: str,
    mine: dict[str, float],
    theirs: dict[str, dict[str, float]],
    score: Any,
    item: str,
    rows: list[Row],
) -> list[Match]:
    """A match for each feature of `theirs` scoring above 0 by `score`, its evidence every
    shared `item` (token, word) with both weights, the weightiest first; its model and
    analyses from `rows`."""
    models = {row["uid"]: row["model"] for row in rows}
    analyses: dict[str, set[str]] = {}
    for row in rows:
        analyses.setdefault(row["uid"], set()).add(row["analysis"])
    matches = []
    for other, weights in sorted(theirs.items()):
        value = score(mine, weights)
        if value <= 0:
            continue
        shared = sorted(set(mine) & set(weights), key=lambda t: (-min(mine[t], weights[t]), t))
        matches.append(
            Match(
                other,
                models[other],
                value,
                metric,
                "live",
                sorted(analyses[uid] | analyses[other]),
                [{item: t, "this": mine[t], "that": weights[t]} for t in shared],
            )
        )
    return matches


def _firing(
    store: GraphStore, uids: list[str], rows: list[Row] | None, dead_and_dense: bool
) -> list[str]:
    """`uids` without the dead and dense features (by `frac_nonzero`, from `rows` of their
    logits or read), unless `dead_and_dense`."""
    if dead_and_dense or not uids:
        return uids
    firing = _frac_nonzero(rows if rows is not None else store.feature_logits(uids))
    return [u for u in uids if not (u in firing and (firing[u] <= 0 or firing[u] > DENSE))]


def _frac_nonzero(rows: list[Row]) -> dict[str, float]:
    """How often each feature fires, by the largest `frac_nonzero` an analysis gives."""
    found: dict[str, float] = {}
    for row in rows:
        value = row.get("frac_nonzero")
        if isinstance(value, (int, float)):
            found[row["uid"]] = max(found.get(row["uid"], 0.0), float(value))
    return found


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
