"""What live similarity, the trajectory figures and the training templates read: head
profiles and their packs, head measurements and role scores, probe concepts, feature
logits, peaks and explanations, lineage and checkpoints (queries/similar.py, export/)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..schema.graph import RelType, token_uid
from ..schema.packing import unpack
from . import cypher
from .core import StoreCore
from .driver import Row

TOKEN_EDGES = (RelType.PROMOTES, RelType.SUPPRESSES, RelType.PEAKS_ON)


class Measurements(StoreCore):
    """The measurements other rooms read: head profiles and packs, head metrics and role
    scores, probe concepts, feature evidence, lineage and checkpoints."""

    def head_profiles_of(self, uid: str) -> list[Row]:
        """A head's measurements by analyses that rank it (one row each): rows {measured,
        analysis, method, metrics}; its ranks are `measured["profile_<i>"]`."""
        return self.read(cypher.HEAD_PROFILES_OF, {"uid": uid})

    def head_profile_packs(
        self, method: str, metrics: Sequence[str], *, exclude: str, model: str | None = None
    ) -> list[Row]:
        """Every analysis measuring heads like this (same method and metrics), but those
        about `exclude`, with all its measured heads' ranks and values in one piece each:
        rows {analysis, model, heads, table, values} (`sources.head_metrics.pack_profiles`;
        `values` is None for an analysis stored before values were packed)."""
        return self.read(
            cypher.HEAD_PROFILE_PACKS,
            {"method": method, "metrics": list(metrics), "exclude": exclude, "model": model},
        )

    def heads_measured(self, pairs: Sequence[tuple[str, str]]) -> list[Row]:
        """The measurements of these (head uid, analysis) pairs: rows {uid, measured,
        analysis}."""
        return self.read(cypher.HEADS_MEASURED, {"pairs": [list(p) for p in pairs]})

    def head_profiles_in(self, model: str) -> list[Row]:
        """Every ranked head of `model`: rows {uid, layer, head, measured, method, metrics,
        analysis}."""
        return self.read(cypher.HEAD_PROFILES_IN, {"model": model})

    def head_measurements_in(self, model: str) -> list[Row]:
        """Every measurement of `model`'s heads: rows {layer, head, measured (the
        MEASURED_BY properties), analysis, metrics (the analysis's metric names, if it
        ranks heads)}."""
        return self.read(cypher.HEAD_MEASUREMENTS_IN, {"model": model})

    def head_role_scores_in(self, model: str) -> list[Row]:
        """Every role score of `model`'s heads: rows {layer, head, role, score, analysis}."""
        return self.read(cypher.HEAD_ROLE_SCORES_IN, {"model": model})

    def probe_concepts_of(self, uid: str, min_score: float) -> list[Row]:
        """The concepts a neuron's probes find at or above `min_score` (F1, else MCC):
        rows {concept, score (the best), analyses}."""
        return self.read(cypher.PROBE_CONCEPTS_OF, {"uid": uid, "min_score": min_score})

    def feature_logits(self, uids: Sequence[str]) -> list[Row]:
        """The logit evidence of these features: rows {uid, model, analysis, pos_str,
        pos_values, neg_str, neg_values, frac_nonzero}, one per analysis (the lists
        stored packed, read back as lists)."""
        return [unpack(row) for row in self.read(cypher.FEATURE_LOGITS, {"uids": list(uids)})]

    def firing_rates(self, uids: Sequence[str]) -> dict[str, float]:
        """How often each of these features fires (the largest `frac_nonzero` its
        evidence gives), for those with one."""
        rows = self.read(cypher.FIRING_RATES, {"uids": list(uids)})
        return {row["uid"]: row["rate"] for row in rows if row["rate"] is not None}

    def feature_peaks(self, uids: Sequence[str]) -> list[Row]:
        """The token at each activation example's maximum: rows {uid, model, analysis,
        token, value, example}."""
        return self.read(cypher.FEATURE_PEAKS, {"uids": list(uids)})

    def feature_words(self, uids: Sequence[str]) -> list[Row]:
        """The words of these features' explanations, per explanation fact: rows {uid,
        model, analysis, word, count, features (how many features' explanations use the
        word)}."""
        return self.read(cypher.FEATURE_WORDS, {"uids": list(uids)})

    def embeddings_of_features(self, uids: Sequence[str]) -> list[Row]:
        """These features' explanation embeddings: rows {uid, embedding (its node's key),
        analysis, text (of the explanation)}."""
        return self.read(cypher.EMBEDDINGS_OF_FEATURES, {"uids": list(uids)})

    def features_of_embeddings(self, embeddings: Sequence[str]) -> list[Row]:
        """The features whose explanations these embeddings are of: rows {embedding, uid,
        model, analysis, text, fires (its largest frac_nonzero)}."""
        return self.read(cypher.FEATURES_OF_EMBEDDINGS, {"uids": list(embeddings)})

    def explained_features(self) -> int:
        """How many dictionary features have an explanation (as last counted)."""
        rows = self.read(cypher.EXPLAINED_FEATURES)
        return int(rows[0]["n"] or 0) if rows else 0

    def features_sharing_words(
        self,
        uid: str,
        mine: dict[str, tuple[float, float]],
        walk: Sequence[str],
        n: int,
        *,
        explained: int,
        floor: float = 0.0,
        per_model: bool = False,
        model: str | None = None,
        timeout: float | None = None,
    ) -> list[Row]:
        """Other features whose explanations use a word of `walk` (of `mine`: word ->
        (this feature's TF-IDF weight, the word's idf), idf over `explained` features),
        the best `n` by an upper bound of the cosine (each model's, with `per_model`) of
        those whose bound is at least `floor`, each scored exactly over all its words: rows
        {uid, model, score, fires (its largest frac_nonzero), beyond: the largest bound
        of those not scored, null where none is left}
        (cypher.features_sharing_words)."""
        walked = set(walk)
        params = {
            "uid": uid,
            "walk": [[w, float(mine[w][0]), float(mine[w][1])] for w in sorted(walked)],
            "unwalked": [[w, float(a)] for w, (a, _) in sorted(mine.items()) if w not in walked],
            "norm": math.sqrt(sum(weight * weight for weight, _ in mine.values())),
            "rest": math.sqrt(sum(a * a for w, (a, _) in mine.items() if w not in walked)),
            "explained": int(explained),
            "n": int(n),
            "more": int(n) + 1,
            "floor": float(floor),
            "model": model,
        }
        return self.read(cypher.features_sharing_words(per_model), params, timeout=timeout)

    def features_sharing_tokens(
        self,
        uid: str,
        weights: dict[str, float],
        type_: RelType,
        n: int,
        *,
        whole: float,
        per_model: bool = False,
        model: str | None = None,
        timeout: float | None = None,
    ) -> list[Row]:
        """Other features sharing a token of `weights` (token text -> this feature's
        weight; `whole`: its total weight) over
        `type_` edges (PROMOTES, SUPPRESSES, PEAKS_ON), the best `n` by an upper bound of
        their weighted Jaccard (each model's, with `per_model`): groups {model, best:
        [[uid, bound]], more} (cypher.features_sharing_tokens)."""
        if type_ not in TOKEN_EDGES:
            raise ValueError(type_)
        params = {
            "uid": uid,
            "tokens": [[token_uid(t), w] for t, w in sorted(weights.items())],
            "mine": float(whole),
            "n": int(n),
            "model": model,
        }
        query = cypher.features_sharing_tokens(RelType(type_).value, per_model)
        return _groups(self.read(query, params, timeout=timeout), per_model, n)

    def probe_concept_candidates(
        self,
        concepts: Sequence[str],
        *,
        exclude: str,
        model: str | None,
        min_score: float,
        timeout: float | None = None,
    ) -> list[Row]:
        """Neurons of other models probed for any of `concepts`: rows {uid, model, shared:
        [[concept, score]], analyses, theirs (the sum of their best score per concept)}."""
        return self.read(
            cypher.PROBE_CONCEPT_CANDIDATES,
            {
                "concepts": list(concepts),
                "exclude": exclude,
                "model": model,
                "min_score": min_score,
            },
            timeout=timeout,
        )

    def relationship_types_at(self, uid: str) -> dict[str, int]:
        """What a component has, by relationship type (but IN_MODEL and the index of its
        evidence circuitbase derives: its token edges)."""
        rows = self.read(cypher.RELATIONSHIP_TYPES_AT, {"uid": uid})
        return {row["type"]: row["n"] for row in rows if _known_input(row["type"])}

    def fine_tuned_pairs(self) -> list[tuple[str, str]]:
        """(model, its base) for every FINE_TUNED_FROM edge."""
        return [(row["model"], row["base"]) for row in self.read(cypher.FINE_TUNED_PAIRS)]

    def checkpoints_of(self, model: str) -> list[Row]:
        """`model`'s training checkpoints in training order: rows {uid, step, tokens,
        stage} (stage, then step, then tokens; a position not known counts as 0)."""
        rows = self.read(cypher.CHECKPOINTS_OF, {"model": model})
        return sorted(
            rows, key=lambda r: (r["stage"] or 0, r["step"] or 0, r["tokens"] or 0, r["uid"])
        )

    def head_metric_names(self) -> list[str]:
        """Every per-head metric a stored analysis measured (`next_tok_attn`, ...)."""
        return [row["metric"] for row in self.read(cypher.HEAD_METRIC_NAMES)]


def _known_input(type_: str) -> bool:
    """Whether a relationship type is one an input makes (or not in the catalog)."""
    try:
        return RelType(type_).spec.made_by != "circuitbase"
    except ValueError:
        return True


def _groups(rows: list[Row], per_model: bool, n: int) -> list[Row]:
    """A walk's ranked candidates as groups {model, best, more}: as the store gives them
    per model, else the best `n` of all as one group (more where `n` came back)."""
    if per_model:
        return rows
    best = [[row["uid"], row["bound"]] for row in rows]
    return [{"model": None, "best": best, "more": len(best) >= n}] if best else []
