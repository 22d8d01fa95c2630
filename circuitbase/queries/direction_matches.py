"""Dictionary features matched by vectors: their decoder directions (`decoder`) and the
embeddings a source gives of their explanations (`explanation-embedding`). Candidates
come from the backend's vector index, which is approximate (and scores differently on
each backend), so each is rescored exactly from the stored vectors: both backends give
the same matches and cosines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..schema.checkpoints import split_checkpoint
from ..schema.dictionaries import dictionary_of
from ..schema.graph import NodeLabel
from ..schema.uids import ComponentUid, parse_component
from ..store.base import GraphStore, Row
from .feature_matches import fires
from .match import DECODER, EXPLANATION_EMBEDDING, MAX_DECODER_NEIGHBOURS, Match


def direction_pair(store: GraphStore, uid: str, other: str) -> list[Match]:
    """How two dictionary features compare by their directions and explanation
    embeddings (the explorer's side-by-side page), dead and dense features included."""
    return embedding_matches(store, uid, None, True, 1, others=[other]) + _decoder_pair(
        store, uid, other
    )


def decoder_matches(
    store: GraphStore, uid: str, model: str | None, top: int, timeout: float | None
) -> list[Match]:
    """Features whose decoder directions point the way this one's does: the cosine of the
    two vectors, nearest first. Candidates come from the backend's vector index, which is
    approximate (and scores differently on each backend), so each is rescored exactly
    from the stored vectors: both backends give the same matches and cosines. Only
    features of models that share this one's residual basis are compared: its own model
    (any layer or dictionary: an SAE of another width splits or merges the same
    direction), its training checkpoints, and the models it was fine-tuned from or into.
    The evidence names both dictionaries and the cosine. None without a stored
    direction."""
    feature = parse_component(uid)
    same_basis = shared_basis(store, feature.model)
    if (model is not None and model not in same_basis) or not store.has_vector(
        NodeLabel.FEATURE, uid
    ):
        return []
    k = min(MAX_DECODER_NEIGHBOURS, 4 * top + 1)
    rows = store.vector_neighbours(NodeLabel.FEATURE, [uid], k, model=model, min_cosine=-1.0)
    candidates = {row["match"]: row["model"] for row in rows if row["model"] in same_basis}
    vectors = store.vectors_of(NodeLabel.FEATURE, [uid, *candidates])
    return [
        m
        for other, other_model in sorted(candidates.items())
        if (m := _decoder_match(uid, other, other_model, vectors)) is not None
    ]


def _decoder_pair(store: GraphStore, uid: str, other: str) -> list[Match]:
    """The decoder match of two features, where both have a direction and share a
    residual basis."""
    other_model = parse_component(other).model
    if other_model not in shared_basis(store, parse_component(uid).model):
        return []
    match = _decoder_match(
        uid, other, other_model, store.vectors_of(NodeLabel.FEATURE, [uid, other])
    )
    return [match] if match is not None else []


def _decoder_match(
    uid: str, other: str, other_model: str, vectors: dict[str, list[float]]
) -> Match | None:
    """`other` as a decoder match of `uid` by the exact cosine of their `vectors` (none
    where either has none or they point apart); the evidence names both dictionaries."""
    if uid not in vectors or other not in vectors:
        return None
    score = round(_cosine(vectors[uid], vectors[other]), 6)
    if score <= 0:
        return None
    evidence: list[dict[str, Any]] = [
        {
            "measure": "dictionary",
            "this": _dictionary(parse_component(uid)),
            "that": _dictionary(parse_component(other)),
        },
        {"measure": "decoder cosine", "this": 1.0, "that": score},
    ]
    return Match(other, other_model, score, DECODER, "live", [], evidence)


def embedding_matches(
    store: GraphStore,
    uid: str,
    model: str | None,
    dead_and_dense: bool,
    top: int,
    others: Sequence[str] | None = None,
) -> list[Match]:
    """Features whose explanations mean what this one's does: the cosine of the
    embeddings a source gives of the two texts (the best pair where a feature has
    several), nearest first. Candidates come from the backend's vector index (or are
    `others`), each rescored exactly from the stored vectors, as for `decoder`. The
    evidence: both explanations and the cosine. None without an embedding."""
    mine = store.embeddings_of_features([uid])
    if not mine:
        return []
    own = {row["embedding"] for row in mine}
    if others is None:
        k = min(MAX_DECODER_NEIGHBOURS, 4 * top + len(own))
        near = store.vector_neighbours(NodeLabel.EMBEDDING, sorted(own), k, model=model)
        owners = store.features_of_embeddings(sorted({r["match"] for r in near} - own))
    else:  # these features (the side-by-side page): no index
        rows = store.embeddings_of_features(others)
        rates = store.firing_rates(sorted({r["uid"] for r in rows}))
        owners = [
            {**r, "model": parse_component(r["uid"]).model, "fires": rates.get(r["uid"])}
            for r in rows
        ]
    owners = [r for r in owners if r["uid"] != uid and (dead_and_dense or fires(r["fires"]))]
    vectors = store.vectors_of(NodeLabel.EMBEDDING, sorted(own | {r["embedding"] for r in owners}))
    best: dict[str, tuple[float, Row, Row]] = {}
    for theirs in owners:
        for row in mine:
            if row["embedding"] in vectors and theirs["embedding"] in vectors:
                cosine = round(_cosine(vectors[row["embedding"]], vectors[theirs["embedding"]]), 6)
                if cosine > best.get(theirs["uid"], (0.0,))[0]:
                    best[theirs["uid"]] = (cosine, row, theirs)
    return [
        Match(
            other,
            theirs["model"],
            score,
            EXPLANATION_EMBEDDING,
            "live",
            sorted({row["analysis"], theirs["analysis"]}),
            [
                {"measure": "explanation", "this": row["text"], "that": theirs["text"]},
                {"measure": "embedding cosine", "this": 1.0, "that": score},
            ],
        )
        for other, (score, row, theirs) in sorted(best.items())
    ]


def shared_basis(store: GraphStore, model: str) -> set[str]:
    """The stored models whose residual stream is `model`'s: itself, the checkpoints of
    its run, and the models fine-tuned from it or it from (and their checkpoints)."""
    related = {split_checkpoint(model)[0]}
    for tuned, base in store.fine_tuned_pairs():
        if {split_checkpoint(tuned)[0], split_checkpoint(base)[0]} & related:
            related |= {split_checkpoint(tuned)[0], split_checkpoint(base)[0]}
    return {m["uid"] for m in store.models() if split_checkpoint(m["uid"])[0] in related}


def _cosine(a: list[float], b: list[float]) -> float:
    if len(a) != len(b):
        return 0.0
    dot = math.fsum(x * y for x, y in zip(a, b))
    norms = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norms if norms else 0.0


def _dictionary(feature: ComponentUid) -> str:
    return dictionary_of(feature).key
