"""Things the field names its own way: dictionaries by Neuronpedia's and SAELens's
names and aliases, N2G patterns and their tries."""

from __future__ import annotations

from . import cypher
from .core import StoreCore
from .driver import Row


class NamedThings(StoreCore):
    """Dictionaries by the field's names; N2G patterns and tries."""

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
