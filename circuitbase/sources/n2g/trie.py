"""A Neuron-to-Graph (N2G) neuron model: a trie of tokens, and how it predicts activations.

Under a virtual root, each child is an *activating* token. Below it, each path
is the context read backwards from the activating token: regular tokens that
must match, and *ignore* nodes (N2G's `**IGNORE**`) that match any token. A
node that ends a pattern holds the activation that pattern predicts.

Prediction on a token walks from its activating node back over its context,
at each step taking the child that equals the context token, else the ignore
child, and stops where neither exists. Two rules for the result exist in N2G's
code, and a graph keeps the one it was made with:

* `deepest` (the maintained fork, n2g-rs `CompactFeatureModel::predict_activation`):
  the activation of the node where the walk stopped, 0 if it ends no pattern;
* `longest_end` (the original script's `NeuronModel.search`): the activation of
  the deepest pattern end passed on the way, 0 if none.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ...schema.records import RecordError

# N2G's contexts are a few tokens long; a trie far deeper is not a neuron model but a
# file built to exhaust memory (each node's path, and uid, grows with its depth).
MAX_DEPTH = 4096

Rule = Literal["deepest", "longest_end"]
RULES: tuple[Rule, ...] = ("deepest", "longest_end")


@dataclass
class TrieNode:
    """`token` is None for an ignore node (matches anything)."""

    token: str | None
    importance: float
    activation: float | None = None  # set when a pattern ends here
    token_id: int | None = None
    children: list[TrieNode] = field(default_factory=list)

    @property
    def is_ignore(self) -> bool:
        return self.token is None

    def child_for(self, token: str) -> TrieNode | None:
        """The matching child: an exact token first, else the ignore node."""
        wildcard = None
        for child in self.children:
            if child.token == token:
                return child
            if child.is_ignore:
                wildcard = child
        return wildcard


@dataclass
class NeuronGraph:
    roots: list[TrieNode]  # the activating tokens
    rule: Rule = "deepest"

    def nodes(self) -> Iterator[tuple[tuple[int, ...], TrieNode]]:
        """Every node with its path of child positions from the root, breadth first."""
        queue: deque[tuple[tuple[int, ...], TrieNode]] = deque(
            ((i,), root) for i, root in enumerate(self.roots)
        )
        while queue:
            path, node = queue.popleft()
            if len(path) > MAX_DEPTH:
                raise RecordError(f"the N2G trie is deeper than {MAX_DEPTH} tokens", field="louds")
            yield path, node
            queue.extend((path + (i,), child) for i, child in enumerate(node.children))

    def activation_on(self, activating: str, context_backwards: Sequence[str]) -> float:
        node = next((root for root in self.roots if root.token == activating), None)
        if node is None:
            return 0.0
        best = node.activation
        for token in context_backwards:
            step = node.child_for(token)
            if step is None:
                break
            node = step
            if node.activation is not None:
                best = node.activation
        if self.rule == "deepest":
            return node.activation if node.activation is not None else 0.0
        return best if best is not None else 0.0

    def predict(self, tokens: Sequence[str]) -> list[float]:
        """The predicted activation on each token, given the tokens before it."""
        return [
            self.activation_on(tokens[i], list(reversed(tokens[:i]))) for i in range(len(tokens))
        ]

    def activating_tokens(self) -> dict[str, float]:
        """Each activating token and the highest activation any of its patterns predicts."""
        summary: dict[str, float] = {}
        for root in self.roots:
            values = [
                n.activation for _, n in NeuronGraph([root]).nodes() if n.activation is not None
            ]
            if values and root.token is not None:
                summary[root.token] = max(values)
        return summary
