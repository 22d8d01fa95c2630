"""Dictionary features matched live by their own evidence: the tokens their logits
promote or suppress, the tokens their activation examples peak on (weighted Jaccard),
and the words of their explanations (TF-IDF cosine). Dead and dense features are left
out unless asked for."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

from ..schema.evidence import LOGIT_SIDES, logit_weights
from ..schema.graph import RelType
from ..store.base import GraphStore, Row
from .match import ACTIVATION_TOKENS, DENSE, EXPLANATION, LOGIT_PROFILE, SUPPRESSED_LOGITS, Match

# --- dictionary features, by their evidence ----------------------------------------------


def token_weights(rows: list[Row], metric: str) -> dict[str, dict[str, float]]:
    """Per feature, its tokens and their weights for `metric`, from its evidence rows
    (`feature_logits` for the logit metrics, `feature_peaks` for activation-tokens): a
    promoted token's logit, a suppressed token's logit negated, an example's maximum
    summed over the examples peaking on that token; only positive weights, the largest of
    an analysis's where two analyses give the same token. Tokens are compared as the
    decoded strings the sources give (a peak's token is stored decoded), so dictionaries
    of one model and models sharing a vocabulary meet."""
    found: dict[str, dict[str, float]] = {}
    if metric == ACTIVATION_TOKENS:
        per_analysis: dict[tuple[str, str], dict[str, float]] = {}
        for row in rows:
            if isinstance(row["token"], str) and isinstance(row["value"], (int, float)):
                weights = per_analysis.setdefault((row["uid"], row["analysis"]), {})
                token = row["token"]
                weights[token] = weights.get(token, 0.0) + float(row["value"])
        for (uid, _), weights in per_analysis.items():
            _keep_largest(found.setdefault(uid, {}), weights)
        return found
    tokens, values, sign = LOGIT_SIDES[TOKEN_EDGES[metric]]
    for row in rows:
        # the planner's index weighs each token by the same definition
        _keep_largest(
            found.setdefault(row["uid"], {}), logit_weights(row[tokens], row[values], sign)
        )
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


TOKEN_EDGES = {
    LOGIT_PROFILE: RelType.PROMOTES,
    SUPPRESSED_LOGITS: RelType.SUPPRESSES,
    ACTIVATION_TOKENS: RelType.PEAKS_ON,
}
FIRST_CANDIDATES = 64  # candidates per model read first; four times more while not enough


def token_matches(
    store: GraphStore,
    uid: str,
    metric: str,
    model: str | None,
    dead_and_dense: bool,
    timeout: float | None,
    top: int,
    per_model: bool = False,
) -> list[Match]:
    """The features sharing a token of this one's evidence for `metric` that score best
    by the weighted Jaccard of the two features' token weights (the best `top`, and with
    `per_model` each model's best); the evidence is every shared token with both weights.

    Candidates are walked to from the shared Token nodes, each model's most promising
    first by an upper bound of the score the store computes from the edges alone; they
    are scored exactly from their evidence, and more are read until no candidate left
    unread could score above the ones kept (the threshold algorithm): the answer is the
    one a comparison with every feature gives."""
    peaks = metric == ACTIVATION_TOKENS
    read = store.feature_peaks if peaks else store.feature_logits
    mine_rows = read([uid])
    mine = token_weights(mine_rows, metric).get(uid, {})
    if not mine:
        return []

    def weighed(candidates: list[str]) -> tuple[list[Row], dict[str, dict[str, float]]]:
        rows = read(candidates) if candidates else []
        return rows, token_weights(rows, metric)

    whole = sum(mine.values())
    return _best_first(
        lambda n: store.features_sharing_tokens(
            uid,
            mine,
            TOKEN_EDGES[metric],
            n,
            whole=whole,
            per_model=per_model,
            model=model,
            timeout=timeout,
        ),
        _Scoring(store, uid, metric, mine, mine_rows, weighed, dead_and_dense, not peaks),
        top,
        per_model,
    )


class _Scoring:
    """Scores candidates exactly: their rows and weights read by `weighed`, the dead and
    dense left out (by `frac_nonzero` from those rows where `rows_fire`: logit rows carry
    it), each scored against `mine` by the metric's score."""

    def __init__(
        self,
        store: GraphStore,
        uid: str,
        metric: str,
        mine: dict[str, float],
        mine_rows: list[Row],
        weighed: Callable[[list[str]], tuple[list[Row], dict[str, dict[str, float]]]],
        dead_and_dense: bool,
        rows_fire: bool,
    ) -> None:
        self.store, self.uid, self.metric, self.mine = store, uid, metric, mine
        self.mine_rows, self.weighed = mine_rows, weighed
        self.dead_and_dense, self.rows_fire = dead_and_dense, rows_fire

    def __call__(self, candidates: list[str]) -> list[Match]:
        rows, theirs = self.weighed(candidates)
        firing_rows = rows if self.rows_fire else None
        kept = _firing(self.store, sorted(theirs), firing_rows, self.dead_and_dense)
        explained = self.metric == EXPLANATION
        return _scored(
            self.uid,
            self.metric,
            self.mine,
            {u: theirs[u] for u in kept},
            cosine if explained else weighted_jaccard,
            "word" if explained else "token",
            [*self.mine_rows, *rows],
        )


def _best_first(
    groups_of: Callable[[int], list[Row]],
    matches_of: Callable[[list[str]], list[Match]],
    top: int,
    per_model: bool,
) -> list[Match]:
    """The threshold algorithm: `groups_of(n)` gives the `n` most promising candidates
    by an upper bound of their score (each model's, with `per_model`): groups {model,
    best: [[uid, bound]], more (whether it has candidates left unread)};
    they are scored exactly by `matches_of`, and more are read (four times as many each
    round) until no candidate left unread could score above the matches kept."""
    n, read, matches = FIRST_CANDIDATES, set(), []  # type: ignore[var-annotated]
    while True:
        groups = groups_of(n)
        candidates = sorted({u for g in groups for u, _ in g["best"]} - read)
        matches += matches_of(candidates)  # each scored once: its score is its own
        read |= set(candidates)
        unread = {g["model"]: g["best"][-1][1] for g in groups if g["more"]}
        if _enough(matches, unread, top, per_model):
            return matches
        n *= 4


def _enough(
    matches: list[Match], unread: dict[str | None, float], top: int, per_model: bool
) -> bool:
    """Whether no unread candidate could change the answer: each model whose candidates
    were not all read (`unread`: the largest bound left unread) has its best match at
    least that good (with `per_model`), and the `top` best overall are too."""
    if not unread:
        return True
    scores = sorted((m.score for m in matches), reverse=True)
    if len(scores) < top or scores[top - 1] < max(unread.values()):
        return False
    if per_model:
        best: dict[str | None, float] = {}
        for m in matches:
            best[m.model] = max(best.get(m.model, 0.0), m.score)
        return all(best.get(model, 0.0) >= bound for model, bound in unread.items())
    return True


def tf_idf(rows: list[Row], explained: int) -> dict[str, dict[str, float]]:
    """Each feature's word weights from its explanations' word rows (`feature_words`): how
    often its explanations use the word x ln(explained features / features using it); a
    word every explained feature uses weighs nothing."""
    used = {row["word"]: row["features"] for row in rows}
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        if isinstance(used[row["word"]], int) and 0 < used[row["word"]] < explained:
            words = counts.setdefault(row["uid"], {})
            words[row["word"]] = words.get(row["word"], 0) + row["count"]
    return {
        uid: {w: n * math.log(explained / used[w]) for w, n in words.items()}
        for uid, words in counts.items()
    }


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(a[w] * b[w] for w in set(a) & set(b))
    norms = _norm(list(a.values())) * _norm(list(b.values()))
    return dot / norms if norms > 0 else 0.0


def explanation_matches(
    store: GraphStore,
    uid: str,
    model: str | None,
    dead_and_dense: bool,
    timeout: float | None,
    top: int,
    per_model: bool = False,
) -> list[Match]:
    """Features whose explanations use this one's words that score best by the cosine of
    the two features' TF-IDF word weights (idf over every explained feature stored); the
    evidence is every shared word with both weights.

    Candidates are walked to from the shared Word nodes of this feature's rarer words: a
    feature sharing none of them scores no more than the norm of the others' weights
    (Cauchy-Schwarz), so words many explanations use (and so weigh little) are not walked
    where a first estimate of the `top`-th score is above that. The store ranks the
    candidates by an upper bound of the cosine and scores the most promising exactly;
    the best are scored again from their evidence, and more are scored while one left
    unscored could score above the matches kept: the answer is the one a comparison with
    every feature gives."""
    explained = store.explained_features()
    mine_rows = store.feature_words([uid])
    weights = tf_idf(mine_rows, explained).get(uid, {})
    if not weights:
        return []
    used = {row["word"]: row["features"] for row in mine_rows}
    mine = {w: (weight, math.log(explained / used[w])) for w, weight in weights.items()}
    norm = _norm(list(weights.values()))

    def weighed(candidates: list[str]) -> tuple[list[Row], dict[str, dict[str, float]]]:
        rows = store.feature_words(candidates) if candidates else []
        return rows, tf_idf(rows, explained)

    scoring = _Scoring(store, uid, EXPLANATION, weights, mine_rows, weighed, dead_and_dense, False)

    def best(walk: list[str], floor: float, exact: bool = True) -> list[Match]:
        """The best matches among the features sharing a word of `walk` whose bound is
        at least `floor` (one round of the most promising where not `exact`); with a
        floor, the store scores every candidate above it in one round where it can."""
        n = FIRST_CANDIDATES * (64 if floor else 1)
        while True:
            rows = store.features_sharing_words(
                uid,
                mine,
                walk,
                n,
                explained=explained,
                floor=floor,
                per_model=per_model,
                model=model,
                timeout=timeout,
            )
            matches, unread = _read_best(rows, scoring, top, per_model, dead_and_dense)
            if not exact or _enough(matches, unread, top, per_model):
                return matches
            n *= 8

    # the rarest words first (the weightiest)
    order = sorted(weights, key=lambda w: (-weights[w], w))
    if per_model or len(order) == 1:
        return best(order, 0.0)
    # a first estimate of the `top`-th score (the final one is no lower), from the
    # fewest rarest words that `top` other features use (more where those are too few):
    # a feature whose bound is lower, or that shares none of the words walked, cannot be
    # among the best
    reach = list(itertools.accumulate(used[w] - 1 for w in order))  # not this feature
    first = next((i + 1 for i, n in enumerate(reach) if n >= 2 * top), len(order))
    estimate = 0.0
    while estimate == 0.0 and first <= len(order):
        estimate = _kth_best(best(order[:first], 0.0, exact=False), top)
        first += 1
    walked = next(
        (
            i
            for i in range(1, len(order))
            if _norm([weights[w] for w in order[i:]]) < estimate * norm
        ),
        len(order),
    )
    return best(order[:walked], estimate * (1 - 1e-9))  # the store's sums may round lower


def _read_best(
    rows: list[Row], scoring: _Scoring, top: int, per_model: bool, dead_and_dense: bool
) -> tuple[list[Match], dict[str | None, float]]:
    """The candidates the store scored (`rows`: {uid, model, score, fires, beyond}), the
    best `top` that fire (and with `per_model` each model's best) read and scored from
    their evidence; with, per group (a model, or all), the largest score a candidate
    left unread may have (`_enough`'s `unread`)."""
    ranked = sorted(
        (r for r in rows if dead_and_dense or fires(r["fires"])),
        key=lambda r: (-r["score"], r["uid"]),
    )
    chosen: list[str] = []
    models: set[str] = set()
    unread: dict[str | None, float] = {}

    def unscored(row: Row, bound: float) -> None:
        group = row["model"] if per_model else None
        unread[group] = max(unread.get(group, bound), bound)

    for i, row in enumerate(ranked):
        if i < top or (per_model and row["model"] not in models):
            chosen.append(row["uid"])
        else:
            unscored(row, row["score"])  # scored by the store only: all it can have
        models.add(row["model"])
    for row in rows:
        if row["beyond"] is not None:
            unscored(row, row["beyond"])
    return scoring(sorted(chosen)), unread


def _norm(values: list[float]) -> float:
    return math.sqrt(sum(v * v for v in values))


def _kth_best(matches: list[Match], top: int) -> float:
    """The `top`-th best score of `matches` (0 where there are fewer)."""
    scores = sorted((m.score for m in matches), reverse=True)
    return scores[top - 1] if len(scores) >= top else 0.0


def evidence_pair(store: GraphStore, uid: str, other: str) -> list[Match]:
    """How two dictionary features compare by each evidence metric both can be scored
    by (the explorer's side-by-side page): each score from the two features' evidence
    alone, as `similar` scores a candidate, dead and dense features included."""
    found: list[Match] = []
    pair = [uid, other]
    for metric in TOKEN_EDGES:
        rows = (store.feature_peaks if metric == ACTIVATION_TOKENS else store.feature_logits)(pair)
        weights = token_weights(rows, metric)
        if uid in weights and other in weights:
            theirs = {other: weights[other]}
            found += _scored(uid, metric, weights[uid], theirs, weighted_jaccard, "token", rows)
    rows = store.feature_words(pair)
    weights = tf_idf(rows, store.explained_features())
    if uid in weights and other in weights:
        theirs = {other: weights[other]}
        found += _scored(uid, EXPLANATION, weights[uid], theirs, cosine, "word", rows)
    return found


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
    firing = _frac_nonzero(rows) if rows is not None else store.firing_rates(uids)
    return [u for u in uids if fires(firing.get(u))]


def fires(rate: Any) -> bool:
    """Whether a feature firing at `rate` (its `frac_nonzero`; None: unknown) is neither
    dead nor dense."""
    return not isinstance(rate, (int, float)) or 0 < rate <= DENSE


def _frac_nonzero(rows: list[Row]) -> dict[str, float]:
    """How often each feature fires, by the largest `frac_nonzero` an analysis gives."""
    found: dict[str, float] = {}
    for row in rows:
        value = row.get("frac_nonzero")
        if isinstance(value, (int, float)):
            found[row["uid"]] = max(found.get(row["uid"], 0.0), float(value))
    return found
