"""Finding nodes: full-text search over names and explanations (both backends give the
same hits), and nearest neighbours by the vector index."""

from __future__ import annotations

import os
import re
from array import array
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ..schema.graph import COMPONENT_LABELS, NodeLabel
from . import cypher
from .core import StoreCore
from .driver import VECTOR_PROPERTY, Row, batches, search_fields


def search_words(text: str) -> list[str]:
    """The words of a search, lower-cased: letters, digits and underscores."""
    return [w for w in re.findall(r"\w+", text.lower())]


def _matches(value: str, words: list[str]) -> bool:
    found = re.findall(r"\w+", value.lower())
    return all(any(f.startswith(w) for f in found) for w in words)


class Search(StoreCore):
    """Full-text search and vector neighbours."""

    def has_vector(self, label: NodeLabel, uid: str) -> bool:
        """Whether this node has a vector (`ingest vectors`, an SAE's decoder row)."""
        rows = self.read(cypher.has_vector(NodeLabel(label), VECTOR_PROPERTY), {"uid": uid})
        return bool(rows and rows[0]["found"])

    def vectors_of(self, label: NodeLabel, uids: Sequence[str]) -> dict[str, list[float]]:
        """The stored vectors of these nodes (those that have one), by uid, at the 32-bit
        precision FalkorDB stores them in (Neo4j keeps 64: read alike, both backends
        compute the same cosines from them)."""
        rows = self.read(cypher.vectors_of(NodeLabel(label), VECTOR_PROPERTY), {"uids": list(uids)})
        return {row["uid"]: array("f", row["vector"]).tolist() for row in rows}

    def vector_neighbours(
        self,
        label: NodeLabel,
        uids: Sequence[str],
        k: int,
        *,
        model: str | None = None,
        min_cosine: float = -1.0,
    ) -> list[Row]:
        """For each uid, those of its `k` nearest nodes by the index that are in `model` (any
        if None) with cosine >= `min_cosine`: rows {uid, match, model, cosine}.

        Filtering in the query matters: most of the k neighbours are dropped, and reading
        every one of them back was most of the time `similarity compute` took."""
        query = self.connection.vector_query(NodeLabel(label), int(k)) + cypher.NEAREST
        chunks = list(batches(({"uid": u} for u in uids), 1_000))
        params = {"model": model, "min_cosine": float(min_cosine)}
        # Both backends answer read queries on several threads; one client waits on each.
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            answers = pool.map(lambda chunk: self.read(query, {"rows": chunk, **params}), chunks)
            return [row for rows in answers for row in rows]

    def search(self, text: str, kinds: Sequence[NodeLabel] = (), limit: int = 50) -> list[Row]:
        """Nodes whose searchable fields (names, labels, tokens, descriptions) hold, for
        every word of `text`, a word starting with it: rows {kind, key, match, score}, best
        first. Both backends return the same hits; their scores differ."""
        words = search_words(text)
        if not words:
            return []
        labels = [NodeLabel(k) for k in kinds] or list(search_fields())
        if any(NodeLabel(k) in COMPONENT_LABELS for k in kinds):
            labels.append(NodeLabel.EXPLANATION)  # a component is found by its explanations
        labels = [label for label in labels if label in search_fields()]
        hits = []
        for row in self.connection.fulltext(words, labels, max(limit * 4, 200)):
            matching = [v for v in row["fields"] if isinstance(v, str) and _matches(v, words)]
            if matching:
                hits.append(
                    {
                        "kind": row["label"],
                        "key": row["key"],
                        "match": matching[0],
                        "score": float(row["score"] or 0.0),
                    }
                )
        hits = self._explained_components(hits, kinds)
        hits.sort(key=lambda h: (-h["score"], h["kind"], h["key"]))
        return hits[:limit]

    def _explained_components(self, hits: list[Row], kinds: Sequence[NodeLabel]) -> list[Row]:
        """An explanation's hit as the component it explains (the best hit per component)."""
        texts = [h["key"] for h in hits if h["kind"] == NodeLabel.EXPLANATION.value]
        if not texts:
            return hits
        explained = {
            row["uid"]: (row["label"], row["component"])
            for row in self.read(cypher.EXPLAINED_COMPONENTS, {"uids": texts})
        }
        wanted = {NodeLabel(k).value for k in kinds}
        best: dict[tuple[str, str], Row] = {}
        for hit in hits:
            if hit["kind"] == NodeLabel.EXPLANATION.value:
                if hit["key"] not in explained:
                    continue
                label, component = explained[hit["key"]]
                if wanted and label not in wanted:
                    continue
                hit = {**hit, "kind": label, "key": component}
            seen = best.get((hit["kind"], hit["key"]))
            if seen is None or hit["score"] > seen["score"]:
                best[(hit["kind"], hit["key"])] = hit
        return list(best.values())
