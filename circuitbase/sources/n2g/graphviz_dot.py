"""N2G's graphviz form: the `graph` file the original Neuron2Graph script renders.

`NeuronModel.graph_neuron` in alexjfoote/Neuron2Graph (src/neuron-activation-dev.ipynb)
writes `neuron_graphs/<model>/<layer>_<neuron>/graph` (DOT source, next to its .svg
and .png) with the python `graphviz` package; DeepDecipher reads the same files.
What the picture keeps, and so what can be read back:

- one `subgraph cluster_K` per depth, K = max_depth - depth: depth 0 holds the
  activating tokens, depth d the context token d positions before;
- per node, `label` = the token shown as `json.dumps(token).strip('[]"')` (all-space
  tokens in single quotes), so a token that starts or ends with [, ] or " cannot be
  recovered exactly; such nodes are marked `exact_token = false`;
- `fillcolor`: red `#ffXXXX` for depth 0, scaled by activation, and blue `#XXXXff` for
  context, scaled by importance: value = 1 - XX/255 as DeepDecipher reads it,
  quantized to 1/255 and measured from N2G's drawing thresholds;
- `penwidth=7` marks a node where a pattern may end;
- edges `parent -> child [dir=back]`; ignore nodes are not drawn, and in the `graph`
  file (unlike the trie the JSON form keeps) equal tokens at a depth are one node.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ...schema.records import RecordError

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(->|--|[{}\[\];,=])|([^\s{}\[\];,="]+)|(\S))', re.S)
_CLUSTER = re.compile(r"^cluster_(\d+)$")
_COLOUR = re.compile(r"^#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})$")


@dataclass
class DotNode:
    id: str
    attrs: dict[str, str]
    cluster: str | None


@dataclass
class DotGraph:
    nodes: dict[str, DotNode] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


def _lex(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(text):
        quoted, punct, word, stray = match.groups()
        if quoted is not None:
            tokens.append(("id", quoted.replace('\\"', '"')))
        elif punct is not None:
            tokens.append(("punct", punct))
        elif word is not None:
            tokens.append(("id", word))
        elif stray is not None:
            raise RecordError(f"unexpected {stray!r} in DOT text")
    return tokens


class _Parser:
    """The statement subset graphviz's python package writes: attribute statements,
    nodes, edges, `key=value`, and nested subgraphs."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.at = 0
        self.graph = DotGraph()

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def next_is(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token[1] == text

    def more_before(self, text: str) -> bool:
        """Whether a token other than `text` comes next."""
        token = self.peek()
        return token is not None and token[1] != text

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token[1] != expected):
            raise RecordError(f"malformed DOT: expected {expected or 'more'} at token {self.at}")
        self.at += 1
        return token[1]

    def parse(self) -> DotGraph:
        if self.take() not in ("digraph", "strict"):
            raise RecordError("not a graphviz digraph (N2G writes `digraph {...}`)")
        while self.more_before("{"):
            self.take()
        self.block(None)
        return self.graph

    def block(self, cluster: str | None) -> None:
        self.take("{")
        while (token := self.peek()) is not None and token[1] != "}":
            self.statement(cluster)
        self.take("}")

    def attrs(self) -> dict[str, str]:
        found: dict[str, str] = {}
        while self.next_is("["):
            self.take("[")
            while self.more_before("]"):
                key = self.take()
                if key in (",", ";"):
                    continue
                self.take("=")
                found[key] = self.take()
            self.take("]")
        return found

    def statement(self, cluster: str | None) -> None:
        kind, value = self.take(), None
        if kind == ";":
            return
        if kind == "subgraph":
            name = self.take() if not self.next_is("{") else None
            self.block(name)
            return
        if kind in ("graph", "node", "edge") and self.next_is("["):
            self.attrs()
            return
        if self.next_is("="):
            self.take("=")
            self.take()
            return
        if self.next_is("->"):
            self.take("->")
            value = self.take()
            self.graph.edges.append((kind, value, self.attrs()))
            return
        self.graph.nodes[kind] = DotNode(kind, self.attrs(), cluster)


def parse_dot(text: str) -> DotGraph:
    return _Parser(text).parse()


@dataclass(frozen=True)
class DrawnNode:
    """A node of N2G's picture, with what its drawing says."""

    id: str
    token: str
    exact_token: bool
    depth: int
    scale: float  # activation at depth 0, importance deeper: 1 - green / 255
    is_end: bool


def label_to_token(label: str) -> tuple[str, bool]:
    """Undo N2G's display of a token: graphviz `escape` and `json.dumps(...).strip('[]"')`."""
    shown = label.replace("\\\\", "\\")
    if re.fullmatch(r"' +'", shown):
        return shown[1:-1], True
    try:
        return json.loads(f'"{shown}"'), True
    except json.JSONDecodeError:
        return shown, False


def drawn_nodes(graph: DotGraph) -> list[DrawnNode]:
    clusters = {node.cluster for node in graph.nodes.values()}
    numbers = {}
    for cluster in clusters:
        found = _CLUSTER.match(cluster or "")
        if not found:
            raise RecordError(
                f"node outside a cluster_<depth> subgraph (in {cluster!r}); not an N2G graph"
            )
        numbers[cluster] = int(found[1])
    deepest = max(numbers.values(), default=0)
    nodes = []
    for node in graph.nodes.values():
        colour = _COLOUR.match(node.attrs.get("fillcolor", ""))
        if "label" not in node.attrs or colour is None:
            raise RecordError(
                f"node {node.id} needs a label and a #rrggbb fillcolor, as N2G draws them"
            )
        token, exact = label_to_token(node.attrs["label"])
        nodes.append(
            DrawnNode(
                node.id,
                token,
                exact,
                deepest - numbers[node.cluster],
                1.0 - int(colour[2], 16) / 255,
                node.attrs.get("penwidth") == "7",
            )
        )
    return sorted(nodes, key=lambda n: (n.depth, int(n.id) if n.id.isdigit() else n.id))
