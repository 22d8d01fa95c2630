"""Taking things out: an analysis and its facts, a model and its components, and what
nothing refers to any more; and what the store derives and keeps up to date beside them:
the similarity summaries of SIMILAR_TO edges, the word counts of explanations, the
indexed vectors of explanation embeddings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..schema.graph import NodeLabel, RelType
from . import cypher
from .core import StoreCore
from .driver import DEFAULT_BATCH_SIZE, Progress, Row, WriteCounts, batches


class Removal(StoreCore):
    """Removal of analyses and models, and the similarity summaries."""

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
        """N2G patterns no neuron has (with their tries), then shared nodes nothing refers
        to; then the word counts, recounted."""
        total = WriteCounts()
        for row in self.read(cypher.UNUSED_PATTERNS):
            total += self._write(cypher.DELETE_PATTERN_TRIE, {"pattern": row["uid"]})
            total += self._write(cypher.DELETE_PATTERN, {"pattern": row["uid"]})
        for label in self.SHARED_LABELS:
            total += self._write(cypher.delete_unreferenced(label))
        self.refresh_word_counts()  # what was removed may have used words
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

    def refresh_word_counts(self) -> None:
        """Recount, for `similar --metric explanation`, how many dictionary features'
        explanations use each word, and how many are explained: from the graph as it is,
        after any change to explanations (so the counts never depend on the order of
        ingests)."""
        self._write(cypher.RECOUNT_WORDS)
        explained = self.read(cypher.COUNT_EXPLAINED)[0]["n"]
        if explained:
            self._write(cypher.SET_CORPUS, {"features": explained})
        else:  # no corpus node where nothing is explained: a store as if never written
            self._write(cypher.DELETE_CORPUS)

    def index_embeddings(self, progress: Progress | None = None) -> None:
        """Set the numbers of every explanation embedding an ingest wrote (`values`) as
        its indexed vector, a batch at a time, and index them (all of one length: the
        ingest checked it)."""
        dimension = None
        while rows := self.read(cypher.EMBEDDINGS_TO_INDEX, {"batch": 1_000}):
            self.set_vectors(NodeLabel.EMBEDDING, rows)
            self._write(cypher.EMBEDDINGS_INDEXED, {"uids": [row["uid"] for row in rows]})
            dimension = len(rows[0]["vector"])
            if progress:
                progress(len(rows))
        if dimension is not None:
            self.ensure_vector_index(NodeLabel.EMBEDDING, dimension)

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
        """A store whose similarity edges were written before summaries existed gets them;
        one whose words were imported offline gets their counts, and its explanation
        embeddings their index."""
        if self.read(cypher.SUMMARIES_MISSING)[0]["missing"]:
            self.refresh_similarity_summaries(
                (row["a"], row["b"]) for row in self.read(cypher.ALL_SIMILARITY_PAIRS)
            )
        if self.read(cypher.WORD_COUNTS_MISSING)[0]["missing"]:
            self.refresh_word_counts()
        self.index_embeddings()  # those an offline import wrote

    def prepare_for_writes(self) -> None:
        """Bring the schema up to date once per opened store, before its first write, not
        on every command: a read-only user can still read, and a read costs no DDL."""
        if not self._schema_ready:
            self.ensure_schema()
            self._finish_offline_import()
            self._summaries_up_to_date()
            self._schema_ready = True
