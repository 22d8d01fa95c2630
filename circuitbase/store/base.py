"""The graph layer: every question the library asks the graph, written once for both
backends above a `Driver` (driver.py: read, write, indexes, persistence per backend).

Everything above the store (writer, query registry, export, CLI) talks only to
`GraphStore`, which is what lets the same Cypher templates run on the embedded
FalkorDB and on Neo4j.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

# The store's errors, defined with the rest of the family; callers import them from here too.
from ..errors import QueryTimeout, ReadOnlyViolation, StoreError  # noqa: F401
from ..schema.graph import COMPONENT_LABEL, COMPONENT_LABELS, NODE_SPECS, NodeLabel, RelType
from . import cypher
from .driver import (
    DEFAULT_BATCH_SIZE,
    SEARCH_FIELDS,
    VECTOR_PROPERTY,
    Driver,
    LoadNode,
    LoadRel,
    Progress,
    Row,
    WriteCounts,
    batches,
)


@dataclass
class GraphStats:
    """What is in the store: nodes per label, relationships per type, components per model."""

    labels: dict[str, int]
    relationships: dict[str, int]
    models: list[dict[str, Any]]


def search_words(text: str) -> list[str]:
    """The words of a search, lower-cased: letters, digits and underscores."""
    return [w for w in re.findall(r"\w+", text.lower())]


def _matches(value: str, words: list[str]) -> bool:
    found = re.findall(r"\w+", value.lower())
    return all(any(f.startswith(w) for f in found) for w in words)


class GraphStore:
    """A property graph reached by Cypher: everything the library asks of it, written once
    above a backend's `Driver` (`connection`). Use as a context manager, or call close()."""

    SEARCH_FIELDS = SEARCH_FIELDS
    SHARED_LABELS = tuple(label for label, spec in NODE_SPECS.items() if spec.shared)

    def __init__(self, connection: Driver) -> None:
        self.connection = connection
        self._schema_ready = False

    @property
    def backend(self) -> str:
        return self.connection.backend

    @property
    def location(self) -> str:
        return self.connection.location

    # --- the driver's own work, passed through ------------------------------------------
    def read(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        untrusted: bool = False,
        max_rows: int | None = None,
        max_bytes: int | None = None,
    ) -> list[Row]:
        """Run a read-only query (see `Driver.read`: timeouts, caps, untrusted text)."""
        return self.connection.read(
            cypher,
            params,
            timeout=timeout,
            untrusted=untrusted,
            max_rows=max_rows,
            max_bytes=max_bytes,
        )

    # The raw writes are not the library's surface: everything goes in through the ingest
    # pipeline (ingest/writer.py sends its batches with `_write_rows`), and the store's own
    # changes (removal, summaries) are its methods.
    def _write(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteCounts:
        """Run one write query atomically."""
        return self.connection.write(cypher, params)

    def _write_rows(
        self,
        cypher: str,
        rows: Sequence[Row] | Iterable[Row],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Progress | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> WriteCounts:
        """Run `cypher` (which unwinds `$rows`) once per batch of rows, with `params`."""
        return self.connection.write_rows(
            cypher, rows, batch_size=batch_size, progress=progress, params=params
        )

    def set_vectors(
        self, label: NodeLabel, rows: Sequence[Row], progress: Progress | None = None
    ) -> WriteCounts:
        """Set `embedding` on existing nodes: rows of {"uid": ..., "vector": [floats]}."""
        return self.connection.set_vectors(label, rows, progress)

    def ensure_vector_index(self, label: NodeLabel, dimension: int) -> None:
        self.connection.ensure_vector_index(label, dimension)

    def vector_index_dimension(self, label: NodeLabel) -> int | None:
        return self.connection.vector_index_dimension(label)

    def check_vector_dimension(self, label: NodeLabel, dimension: int) -> bool:
        return self.connection.check_vector_dimension(label, dimension)

    def persist(self) -> None:
        """Make every write so far durable; the writer calls it before reporting success."""
        self.connection.persist()

    def ensure_schema(self) -> None:
        """Create the uniqueness constraints and indexes (idempotent)."""
        self.connection.ensure_schema()

    def clear(self) -> None:
        """Delete every node and relationship (tests and `init --reset`)."""
        self.connection.clear()

    def bulk_unavailable(self) -> str | None:
        """Why this store's backend cannot bulk-load it (None: it can, while empty)."""
        return self.connection.bulk_unavailable()

    def bulk_load(
        self,
        nodes: Iterable[LoadNode],
        rels: Iterable[LoadRel],
        *,
        counts: tuple[int, int],
        progress: Progress | None = None,
    ) -> WriteCounts:
        """Create `nodes` and `rels` in this empty store through the backend's bulk loader
        (`ingest.bulk` checks that it is empty and makes the indexes after)."""
        return self.connection.bulk_load(nodes, rels, counts=counts, progress=progress)

    def close(self, *, interrupted: bool = False) -> None:
        """Let go of the store; `interrupted`: after Ctrl-C, end what is still running."""
        self.connection.close(interrupted=interrupted)

    # --- what the library asks of the graph (the Cypher is in cypher.py) ------------------
    def is_empty(self) -> bool:
        """Whether the graph holds no node at all (a bulk load fills only such a store)."""
        return not self.read(cypher.ANY_NODE)

    def prepare_for_writes(self) -> None:
        """Bring the schema up to date once per opened store, before its first write, not
        on every command: a read-only user can still read, and a read costs no DDL."""
        if not self._schema_ready:
            self.ensure_schema()
            self._finish_offline_import()
            self._summaries_up_to_date()
            self._schema_ready = True

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
        labels = [NodeLabel(k) for k in kinds] or list(self.SEARCH_FIELDS)
        if any(NodeLabel(k) in COMPONENT_LABELS for k in kinds):
            labels.append(NodeLabel.EXPLANATION)  # a component is found by its explanations
        labels = [label for label in labels if label in self.SEARCH_FIELDS]
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

    def models(self, names: Sequence[str] | None = None) -> list[Row]:
        """The stored Model nodes (all, or those named), as property dicts, by uid."""
        rows = self.read(cypher.MODELS, {"names": None if names is None else list(names)})
        return [{k: v for k, v in row["m"].items() if not k.startswith("_")} for row in rows]

    def existing_keys(self, label: NodeLabel, keys: Iterable[str]) -> set[str]:
        """Those of `keys` that a stored `label` node has as its merge key."""
        return {row["k"] for row in self.read(cypher.existing_keys(label), {"keys": list(keys)})}

    def node_properties(self, label: NodeLabel, keys: Iterable[str]) -> dict[str, dict]:
        """The properties of the stored `label` nodes among `keys`, by key."""
        rows = self.read(cypher.node_properties(label), {"keys": list(keys)})
        return {row["k"]: row["props"] for row in rows}

    def fact_properties(
        self, group: tuple[RelType, NodeLabel, NodeLabel], rows: Sequence[Row]
    ) -> list[dict | None]:
        """For each row {start, end, props}, the properties of the stored relationship of
        the group's type between its ends with its identity (None where there is none)."""
        found: list[dict | None] = [None] * len(rows)
        params = [
            {"i": i, "start": r["start"], "end": r["end"], "props": r["props"]}
            for i, r in enumerate(rows)
        ]
        for row in self.read(cypher.fact_properties(*group), {"rows": params}):
            found[row["i"]] = row["props"]
        return found

    def has_node(self, label: NodeLabel, key: str) -> bool:
        return bool(self.existing_keys(label, [key]))

    def has_value(self, label: NodeLabel, prop: str, value: str, *, prefix: bool = False) -> bool:
        """Whether some `label` node's `prop` is `value` (or starts with it)."""
        return bool(self.read(cypher.has_value(label, prop, prefix=prefix), {"value": value}))

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

    def values_of(self, label: NodeLabel, prop: str) -> list[str]:
        """The distinct text values of `prop` on `label` nodes (at most cypher.MAX_NAMES),
        for naming near matches of a name the store lacks."""
        return [
            row["value"]
            for row in self.read(cypher.values_of(label, prop))
            if isinstance(row["value"], str)
        ]

    def nodes(self, label: NodeLabel, keys: Iterable[str]) -> list[Row]:
        """Rows {labels, props} of the `label` nodes with these keys."""
        return self.read(cypher.nodes_by_key(label), {"keys": sorted(keys)})

    def outgoing(self, label: NodeLabel, keys: Iterable[str]) -> list[Row]:
        """Every relationship leaving these nodes: rows {a, type, props, b_labels, b}."""
        return self.read(cypher.outgoing(label), {"keys": sorted(keys)})

    def neighbourhood(
        self, label: NodeLabel, key: str, hops: int, rel_types: Sequence[RelType] = ()
    ) -> list[Row]:
        """The distinct nodes within `hops` of one node, either direction: rows {labels, props}."""
        return self.read(cypher.neighbourhood(label, hops, rel_types), {"k": key})

    def stats(self) -> GraphStats:
        labels = {row["label"]: row["n"] for row in self.read(cypher.LABEL_COUNTS)}
        relationships = {row["type"]: row["n"] for row in self.read(cypher.RELATIONSHIP_COUNTS)}
        models = self.read(cypher.MODEL_COMPONENT_COUNTS, {"component": COMPONENT_LABEL})
        return GraphStats(dict(sorted(labels.items())), dict(sorted(relationships.items())), models)

    def analyses(self, uids: Iterable[str]) -> list[Row]:
        """Rows {uid, method, citation, created_at, models} of these analyses."""
        return self.read(cypher.ANALYSES, {"uids": sorted(uids)})

    def neuron_profiles(self, metric: str, model: str, *, min_f1: float = 0.0) -> list[Row]:
        """Rows {uid, feature, weight}: each neuron's activating tokens or encoded concepts."""
        return self.read(cypher.NEURON_PROFILES[metric], {"model": model, "min_f1": min_f1})

    def with_vectors(self, label: NodeLabel, model: str) -> list[str]:
        """The uids of `model`'s `label` nodes that have a vector."""
        return [
            row["uid"]
            for row in self.read(cypher.with_vectors(label, VECTOR_PROPERTY), {"model": model})
        ]

    def facts_of(self, analysis: str) -> list[Row]:
        """Every relationship that cites `analysis`: rows {type, start_labels, start, end, props}."""
        return self.read(cypher.FACTS_OF, {"analysis": analysis})

    def analyses_at(self, nodes: dict[NodeLabel, set[str]]) -> set[str]:
        """The analyses of every fact at these nodes (label -> keys)."""
        found: set[str] = set()
        for label, keys in nodes.items():
            rows = self.read(cypher.analyses_at(label), {"keys": sorted(keys)})
            found |= {row["a"] for row in rows}
        return found

    def nodes_of_analysis(self, analysis: str) -> list[Row]:
        """Rows {labels, props} of every node a fact of `analysis` touches."""
        return self.read(cypher.NODES_OF_ANALYSIS, {"analysis": analysis})

    def delete_facts(
        self, analysis: str, type_: RelType, start: NodeLabel, rows: Sequence[Row]
    ) -> WriteCounts:
        """Delete these facts of `analysis`: rows {start, end, identity} (see cypher.delete_facts)."""
        total = WriteCounts()
        for chunk in batches(rows, DEFAULT_BATCH_SIZE):
            total += self._write(
                cypher.delete_facts(type_, start), {"rows": chunk, "analysis": analysis}
            )
        return total

    def node_with_relationships(self, label: NodeLabel, key: str, limit: int) -> list[Row]:
        """Rows {node, type, outgoing, labels, other, other_model, props}: the node and each
        relationship at it (at most `limit`); one row with type None if it has none."""
        return self.read(cypher.node_with_relationships(label), {"key": key, "limit": limit})

    def analysis_list(self) -> list[Row]:
        """Rows {uid, kind, method, models} of every stored analysis."""
        return self.read(cypher.ANALYSIS_LIST)

    def fact_counts(self, analysis: str) -> dict[str, int]:
        """How many relationships of each type cite `analysis`."""
        return {
            row["type"]: row["n"] for row in self.read(cypher.FACT_COUNTS, {"analysis": analysis})
        }

    def refresh_similarity_summaries(
        self, pairs: Iterable[tuple[str, str]], progress: Progress | None = None
    ) -> None:
        """Recompute the summaries of these pairs of models, both ways, from their SIMILAR_TO
        edges: every write path that adds or removes similarity edges calls this, so
        `universality_table` reads exact answers without reading the edges. (Bookkeeping:
        not counted among a command's writes.)"""
        for a, b in sorted({tuple(sorted(pair)) for pair in pairs}):
            for first, second in sorted({(a, b), (b, a)}):
                self._write(cypher.DELETE_SUMMARIES, {"a": first, "b": second})
                self._write(cypher.SUMMARY_BY_METRIC, {"a": first, "b": second})
                self._write(cypher.SUMMARY_ANY_METRIC, {"a": first, "b": second})
            if progress:
                progress(1)

    def similarity_pairs_of(self, analysis: str) -> set[tuple[str, str]]:
        """The pairs of models an analysis's SIMILAR_TO edges join."""
        return {
            (row["a"], row["b"])
            for row in self.read(cypher.SIMILARITY_PAIRS_OF, {"analysis": analysis})
        }

    def _finish_offline_import(self) -> None:
        """Set the empty lists Neo4j's offline importer could not write (`neo4j_import`)."""
        for row in self.read(cypher.PENDING_EMPTY_LISTS):
            for kind, of_nodes in (("nodes", True), ("rels", False)):
                for where in row[kind] or []:
                    self._write(cypher.set_empty_list(where, of_nodes=of_nodes))
                for name in sorted({where.partition(".")[0] for where in row[kind] or []}):
                    self._write(cypher.drop_empty_list_marks(name, of_nodes=of_nodes))
            self._write(cypher.DELETE_PENDING)

    def _summaries_up_to_date(self) -> None:
        """A store whose similarity edges were written before summaries existed gets them."""
        if self.read(cypher.SUMMARIES_MISSING)[0]["missing"]:
            self.refresh_similarity_summaries(
                (row["a"], row["b"]) for row in self.read(cypher.ALL_SIMILARITY_PAIRS)
            )

    def remove_analysis(self, analysis: str) -> WriteCounts:
        """Retract `analysis`: every fact citing it, the N2G patterns and shared nodes
        (concepts, tasks, roles, families, tokens) nothing refers to any more, then the
        analysis node. Facts of other analyses, models and components stay. A removal cut
        off halfway is finished by running it again (the analysis node goes last)."""
        self.prepare_for_writes()
        pairs = self.similarity_pairs_of(analysis)
        total = self._delete_in_batches(cypher.DELETE_FACTS_BATCH, {"analysis": analysis})
        self.refresh_similarity_summaries(pairs)
        total += self._delete_unreferenced()
        total += self._write(cypher.DELETE_ANALYSIS, {"analysis": analysis})
        self.persist()
        return total

    def _delete_in_batches(self, statement: str, params: Mapping[str, Any]) -> WriteCounts:
        """Run a `... LIMIT $batch DELETE ...` statement until it deletes nothing more, so
        no transaction grows with what is deleted."""
        total = WriteCounts()
        while True:
            counts = self._write(statement, {**params, "batch": DEFAULT_BATCH_SIZE})
            total += counts
            if counts.relationships_deleted == 0 and counts.nodes_deleted == 0:
                return total

    def _delete_unreferenced(self) -> WriteCounts:
        """N2G patterns no neuron has (with their tries), then shared nodes nothing refers to."""
        total = WriteCounts()
        for row in self.read(cypher.UNUSED_PATTERNS):
            total += self._write(cypher.DELETE_PATTERN_TRIE, {"pattern": row["uid"]})
            total += self._write(cypher.DELETE_PATTERN, {"pattern": row["uid"]})
        for label in self.SHARED_LABELS:
            total += self._write(cypher.delete_unreferenced(label))
        return total

    # -- live similarity (queries/similar.py) ----------------------------------------------

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
        pos_values, neg_str, neg_values, frac_nonzero}, one per analysis."""
        return self.read(cypher.FEATURE_LOGITS, {"uids": list(uids)})

    def feature_peaks(self, uids: Sequence[str]) -> list[Row]:
        """The token at each activation example's maximum: rows {uid, model, analysis,
        token, value, example}."""
        return self.read(cypher.FEATURE_PEAKS, {"uids": list(uids)})

    def feature_explanations(
        self, uid: str, *, model: str | None = None, timeout: float | None = None
    ) -> list[Row]:
        """Every feature's explanations (those of `model` and of `uid` only, if `model` is
        given): rows {uid, model, analysis, text}."""
        return self.read(cypher.FEATURE_EXPLANATIONS, {"uid": uid, "model": model}, timeout=timeout)

    def features_sharing(
        self,
        uid: str,
        tokens: Sequence[str],
        side: str,
        *,
        model: str | None = None,
        timeout: float | None = None,
    ) -> list[str]:
        """Other features whose evidence names any of `tokens` on `side`: `pos_str`
        (promoted), `neg_str` (suppressed) or `peak` (an example's maximum)."""
        params = {"uid": uid, "tokens": list(tokens), "model": model}
        if side == "peak":
            rows = self.read(cypher.FEATURES_PEAKING, params, timeout=timeout)
        else:
            if side not in ("pos_str", "neg_str"):
                raise ValueError(side)
            rows = self.read(cypher.FEATURES_PROMOTING, {**params, "side": side}, timeout=timeout)
        return [row["uid"] for row in rows]

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
        """What a component has, by relationship type (but IN_MODEL)."""
        return {
            row["type"]: row["n"] for row in self.read(cypher.RELATIONSHIP_TYPES_AT, {"uid": uid})
        }

    def fine_tuned_pairs(self) -> list[tuple[str, str]]:
        """(model, its base) for every FINE_TUNED_FROM edge."""
        return [(row["model"], row["base"]) for row in self.read(cypher.FINE_TUNED_PAIRS)]

    # -- integrity (`circuitbase check`) ---------------------------------------------------

    def facts_without_analysis(self) -> dict[str, int]:
        """Analysis uid -> how many facts cite it, for analyses that are not in the store
        (a removal an earlier version cut off, or an import that forged the uid)."""
        cited = {row["uid"]: row["n"] for row in self.read(cypher.CITED_ANALYSES)}
        present = {row["uid"] for row in self.read(cypher.ANALYSIS_UIDS)}
        return {uid: n for uid, n in sorted(cited.items()) if uid not in present}

    def unreferenced_counts(self) -> dict[str, int]:
        """Per shared label (and N2G patterns and trie nodes), nodes nothing refers to."""
        found = {
            label.value: self.read(cypher.count_unreferenced(label))[0]["n"]
            for label in self.SHARED_LABELS
        }
        found[NodeLabel.PATTERN.value] = len(self.read(cypher.UNUSED_PATTERNS))
        found[NodeLabel.PATTERN_NODE.value] = len(self.read(cypher.UNREFERENCED_PATTERN_NODES))
        return {label: n for label, n in found.items() if n}

    def components_out_of_model(self, limit: int = 100) -> list[Row]:
        """Components with no IN_MODEL edge, several, or one to a model they do not name."""
        return self.read(cypher.COMPONENTS_OUT_OF_MODEL, {"limit": limit})

    def components_out_of_shape(self, limit: int = 100) -> list[Row]:
        """Components past their model's layers or widths (what an earlier version or a
        hand-made write could leave: the planner refuses them)."""
        return self.read(cypher.COMPONENTS_OUT_OF_SHAPE, {"limit": limit})

    def analysis_sources(self) -> list[Row]:
        """Rows {uid, params (JSON text), models} of every analysis."""
        return self.read(cypher.ANALYSIS_SOURCES)

    def delete_facts_without_analysis(self, analyses: Iterable[str]) -> WriteCounts:
        """Delete the facts citing these (absent) analyses, in batches."""
        self.prepare_for_writes()
        total = WriteCounts()
        for analysis in analyses:
            pairs = self.similarity_pairs_of(analysis)
            total += self._delete_in_batches(cypher.DELETE_FACTS_BATCH, {"analysis": analysis})
            self.refresh_similarity_summaries(pairs)
        self.persist()
        return total

    def delete_unreferenced(self) -> WriteCounts:
        """Delete shared nodes, N2G patterns and trie nodes nothing refers to."""
        self.prepare_for_writes()
        total = WriteCounts()
        for row in self.read(cypher.UNREFERENCED_PATTERN_NODES):
            total += self._write(cypher.DELETE_PATTERN_NODE_TREE, {"uid": row["uid"]})
        total += self._delete_unreferenced()
        self.persist()
        return total

    def model_contents(self, model: str) -> dict[str, Any]:
        """What removing `model` takes: its components by label, and the analyses about
        it alone."""
        components = {
            row["label"]: row["n"] for row in self.read(cypher.MODEL_COMPONENTS, {"model": model})
        }
        only = [row["uid"] for row in self.read(cypher.ANALYSES_ONLY_ABOUT, {"model": model})]
        return {"components": components, "analyses": only}

    def remove_model(self, model: str) -> WriteCounts:
        """Remove `model`: the analyses about it alone (as `remove_analysis`), its components
        and every relationship at them (facts of other analyses about them too), what nothing
        refers to any more, then the model node (last: a rerun finishes the job)."""
        total = WriteCounts()
        for analysis in self.model_contents(model)["analyses"]:
            total += self.remove_analysis(analysis)
        self.prepare_for_writes()
        total += self._delete_in_batches(cypher.DELETE_COMPONENTS_BATCH, {"model": model})
        self._write(cypher.DELETE_SUMMARIES, {"a": model, "b": None})
        total += self._delete_unreferenced()
        total += self._write(cypher.DELETE_MODEL, {"model": model})
        self.persist()
        return total

    # -- dictionaries by the names the field gives them (schema/dictionaries.py) -------------

    def dictionaries_by_neuronpedia(self, source_id: str) -> list[str]:
        """Uids of the dictionaries whose Neuronpedia id is `source_id` (`gpt2-small/0-res-jb`)."""
        return [
            row["uid"] for row in self.read(cypher.DICTIONARY_BY_NEURONPEDIA, {"id": source_id})
        ]

    def dictionaries_by_saelens(self, release: str, sae_id: str) -> list[Row]:
        """Rows {uid, layer} of the dictionary SAELens loads as (release, SAE id)."""
        return self.read(cypher.DICTIONARY_BY_SAELENS, {"release": release, "sae_id": sae_id})

    def dictionaries_by_alias(self, model: str, layer: int, alias: str) -> list[str]:
        """Uids of the dictionaries an attribution graph's transcoder set named `alias` (the
        set part of the uids it was stored under before it had a Neuronpedia set)."""
        return [
            row["uid"]
            for row in self.read(
                cypher.DICTIONARY_BY_ALIAS, {"model": model, "layer": layer, "alias": alias}
            )
        ]

    def patterns_of(self, neuron: str, analysis: str | None = None) -> list[Row]:
        """A neuron's N2G patterns: rows {uid, rule, analysis}."""
        return self.read(cypher.PATTERNS_OF, {"neuron": neuron, "analysis": analysis})

    def pattern_trie(self, pattern: str) -> list[Row]:
        """Every trie node of a pattern: rows {uid, token, token_id, ignore, importance, activation}."""
        return self.read(cypher.PATTERN_TRIE, {"pattern": pattern})

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
