"""Cross-model similarity of neurons, stored as top-k `SIMILAR_TO` edges.

Metrics, each computed as one sparse matrix product over the two models' profiles:

* `tokens`: cosine similarity of activating-token profiles (`ACTIVATES_ON`, weighted
  by activation). Different tokenizers meet at the token string, so this compares
  neurons of models that share no token ids. Tokens that more than `max_token_share`
  of either model's neurons fire on are stop tokens, left out as stop words are in
  retrieval: they say little about which neuron is which, and sharing only them
  would make nearly every pair a candidate.
* `concepts`: Jaccard similarity of the sets of concepts the neurons encode
  (`ENCODES` with F1 at or above `min_f1`).
* `vectors`: cosine similarity of per-neuron embeddings (`circuitbase ingest vectors`),
  found with the backend's vector index: each neuron's nearest neighbours are asked
  for (`search_width` of them, since the index also holds the neuron's own model)
  and those in the other model kept.

For each neuron of either model the `top_k` best matches in the other model (with
score at or above `min_score`) are kept; a pair found from both sides is one edge,
always stored from model A to model B, carrying the score, the metric and the
analysis that computed it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..schema.graph import SIMILARITY_METRICS as METRICS
from ..schema.graph import NodeLabel
from ..schema.graph import SimilarityMetric as Metric
from ..schema.nodes import Analysis
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from ..schema.relationships import SimilarTo
from ..store.base import GraphStore

SEARCH_WIDTH = 3  # neighbours asked of the vector index per match wanted (both models share it)


@dataclass
class Profiles:
    uids: list[str]
    matrix: sparse.csr_matrix  # neurons x features, columns shared by both models


def drop_stop_features(a: Profiles, b: Profiles, max_share: float) -> tuple[Profiles, Profiles]:
    """Zero the columns that more than `max_share` of either side's rows use."""
    keep = np.ones(a.matrix.shape[1], dtype=bool)
    for side in (a, b):
        if side.matrix.shape[0]:
            share = np.asarray((side.matrix > 0).sum(axis=0)).ravel() / side.matrix.shape[0]
            keep &= share <= max_share
    mask = sparse.diags(keep.astype(np.float64))
    return Profiles(a.uids, (a.matrix @ mask).tocsr()), Profiles(b.uids, (b.matrix @ mask).tocsr())


def _profiles(
    store: GraphStore, metric: Metric, models: tuple[str, str], min_f1: float
) -> tuple[Profiles, Profiles]:
    rows = {m: store.neuron_profiles(metric, m, min_f1=min_f1) for m in models}
    features = {f: i for i, f in enumerate(sorted({r["feature"] for m in models for r in rows[m]}))}
    built = []
    for model in models:
        uids = sorted({r["uid"] for r in rows[model]})
        index = {uid: i for i, uid in enumerate(uids)}
        weights: dict[tuple[int, int], float] = {}  # the strongest, where analyses differ
        for r in rows[model]:
            cell = (index[r["uid"]], features[r["feature"]])
            weights[cell] = max(weights.get(cell, 0.0), float(r["weight"]))
        cells = list(weights)
        matrix = sparse.csr_matrix(
            (list(weights.values()), ([c[0] for c in cells], [c[1] for c in cells])),
            shape=(len(uids), len(features)),
            dtype=np.float64,
        )
        built.append(Profiles(uids, matrix))
    return built[0], built[1]


def scores(metric: Metric, a: sparse.csr_matrix, b: sparse.csr_matrix) -> sparse.csr_matrix:
    """The similarity of every row of `a` with every row of `b` (only non-zero pairs stored)."""
    if metric == "tokens":

        def unit(m: sparse.csr_matrix) -> sparse.csr_matrix:
            norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
            return sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ m

        return (unit(a) @ unit(b).T).tocsr()
    a_bin, b_bin = (a > 0).astype(np.float64), (b > 0).astype(np.float64)
    inter = (a_bin @ b_bin.T).tocoo()
    size_a = np.asarray(a_bin.sum(axis=1)).ravel()
    size_b = np.asarray(b_bin.sum(axis=1)).ravel()
    union = size_a[inter.row] + size_b[inter.col] - inter.data
    return sparse.csr_matrix((inter.data / union, (inter.row, inter.col)), shape=inter.shape)


def top_pairs(
    matrix: sparse.csr_matrix, top_k: int, min_score: float
) -> dict[tuple[int, int], float]:
    """(row, column) -> score for each row's `top_k` best columns scoring at least `min_score`."""
    pairs: dict[tuple[int, int], float] = {}
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values, columns = matrix.data[start:end], matrix.indices[start:end]
        keep = values >= min_score
        values, columns = values[keep], columns[keep]
        if len(values) > top_k:
            best = np.argpartition(-values, top_k - 1)[:top_k]
            values, columns = values[best], columns[best]
        for value, column in zip(values, columns):
            pairs[(row, int(column))] = float(min(value, 1.0))
    return pairs


def _matrix_pairs(
    store: GraphStore,
    model_a: str,
    model_b: str,
    metric: Metric,
    top_k: int,
    min_score: float,
    params: dict[str, float],
) -> dict[tuple[str, str], float]:
    a, b = _profiles(store, metric, (model_a, model_b), params.get("min_f1", 0.0))
    for name, profiles in ((model_a, a), (model_b, b)):
        if not profiles.uids:
            source = "ACTIVATES_ON (e.g. from N2G)" if metric == "tokens" else "ENCODES (probes)"
            raise RecordError(f"{name} has no neurons with {source} facts to compare")
    if metric == "tokens":
        a, b = drop_stop_features(a, b, params["max_token_share"])
    matrix = scores(metric, a.matrix, b.matrix)
    pairs = top_pairs(matrix, top_k, min_score)
    pairs.update({(i, j): s for (j, i), s in top_pairs(matrix.T.tocsr(), top_k, min_score).items()})
    return {(a.uids[i], b.uids[j]): score for (i, j), score in pairs.items()}


def _vector_pairs(
    store: GraphStore, model_a: str, model_b: str, top_k: int, min_score: float
) -> dict[tuple[str, str], float]:
    pairs: dict[tuple[str, str], float] = {}
    for source, target in ((model_a, model_b), (model_b, model_a)):
        uids = store.with_vectors(NodeLabel.NEURON, source)
        if not uids:
            raise RecordError(
                f"{source} has no neurons with vectors; add them with `circuitbase ingest vectors`"
            )
        best: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for row in store.vector_neighbours(
            NodeLabel.NEURON, uids, top_k * SEARCH_WIDTH, model=target, min_cosine=min_score
        ):
            best[row["uid"]].append((row["cosine"], row["match"]))
        for uid, found in best.items():
            for cosine, match in sorted(found, reverse=True)[:top_k]:
                pair = (uid, match) if source == model_a else (match, uid)
                pairs[pair] = float(min(cosine, 1.0))
    return pairs


def similarity_analysis_uid(metric: Metric, model_a: str, model_b: str) -> str:
    """One analysis per metric and pair of models: a rerun with other settings replaces it."""
    return f"similarity/{metric}/{model_a}+{model_b}"


def similarity_records(
    store: GraphStore,
    model_a: str,
    model_b: str,
    metric: Metric,
    *,
    top_k: int = 5,
    min_score: float = 0.1,
    min_f1: float = 0.5,
    max_token_share: float = 0.01,
) -> list[NodeRecord | RelRecord]:
    if metric not in METRICS:
        raise RecordError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    if model_a == model_b:
        raise RecordError("compare two different models")
    params: dict[str, float] = {"top_k": top_k, "min_score": min_score}
    if metric == "tokens":
        params["max_token_share"] = max_token_share
    elif metric == "concepts":
        params["min_f1"] = min_f1
    else:
        params["search_width"] = top_k * SEARCH_WIDTH
    if metric == "vectors":
        pairs = _vector_pairs(store, model_a, model_b, top_k, min_score)
    else:
        pairs = _matrix_pairs(store, model_a, model_b, metric, top_k, min_score, params)
    analysis = Analysis(
        uid=similarity_analysis_uid(metric, model_a, model_b),
        kind="similarity",
        method={
            "tokens": "cosine of activating-token profiles",
            "concepts": "Jaccard of encoded concepts",
            "vectors": "cosine of embeddings, by vector index",
        }[metric],
        models=[model_a, model_b],
        params=params,
    )
    records = analysis.records()
    for (a, b), score in sorted(pairs.items()):
        fact = SimilarTo(analysis=analysis.uid, score=score, metric=metric)
        records.append(fact.record(ref(NodeLabel.NEURON, a), ref(NodeLabel.NEURON, b)))
    return records
