"""`circuitbase check`: facts without their analysis, unreferenced shared nodes,
components outside their model's shape, and their repair."""

from __future__ import annotations

from collections.abc import Iterable

from ..schema.graph import NodeLabel
from . import cypher
from .driver import Row, WriteCounts
from .removal import Removal


class Integrity(Removal):
    """The checks and repairs of `circuitbase check` (removal's helpers beneath)."""

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
