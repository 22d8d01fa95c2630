"""One colour for each node kind and relationship type, the same in every figure and page.

Colour-blind safe: node kinds take Paul Tol's "muted" scheme (and Okabe-Ito's yellow),
fact relationships Okabe & Ito's eight colours, structural relationships (a component's
model, an analysis's measurements, N2G tries) greys with their own dash, so that they
recede behind the facts. A figure of ENCODES edges shows them in the same blue whatever
else it holds. A relationship type's colour and dash are part of its catalog entry
(`RelSpec` in schema/graph.py), so that a new type brings its own.
"""

from __future__ import annotations

from ..schema.graph import COMPONENT_LABELS, NodeLabel, RelType, rel_spec

NODE_COLOURS: dict[NodeLabel, str] = {
    NodeLabel.NEURON: "#332288",  # indigo
    NodeLabel.HEAD: "#CC6677",  # rose
    NodeLabel.MLP: "#117733",  # green
    NodeLabel.ATTENTION: "#882255",  # wine
    NodeLabel.FEATURE: "#AA4499",  # purple
    NodeLabel.MODEL: "#DDCC77",  # sand
    NodeLabel.CONCEPT: "#88CCEE",  # cyan
    NodeLabel.HEAD_ROLE: "#44AA99",  # teal
    NodeLabel.TASK: "#999933",  # olive
    NodeLabel.NEURON_FAMILY: "#F0E442",  # yellow (Okabe-Ito)
    NodeLabel.TOKEN: "#DDDDDD",  # pale grey
    NodeLabel.ANALYSIS: "#BBBBBB",
    NodeLabel.PATTERN: "#E0E0E0",
    NodeLabel.PATTERN_NODE: "#F2F2F2",
    NodeLabel.DICTIONARY: "#CCBBEE",  # pale purple, beside its features' purple
    NodeLabel.EXPLANATION: "#EEEEBB",  # pale yellow
    NodeLabel.SIMILARITY_SUMMARY: "#F2F2F2",
}

# Fills dark enough to need white text.
DARK_NODES = COMPONENT_LABELS

SVG_DASHES = {"solid": "", "dashed": "6 3", "dotted": "1.5 2.5", "dashdot": "6 2 1.5 2"}


def node_colour(label: NodeLabel | str) -> str:
    return NODE_COLOURS[NodeLabel(label)]


def text_colour(label: NodeLabel | str) -> str:
    """Black or white, whichever reads on the node's fill."""
    return "#FFFFFF" if NodeLabel(label) in DARK_NODES else "#000000"


def edge_colour(type_: RelType | str) -> str:
    """A relationship type's colour: its catalog entry's (schema/graph.py, `RelSpec`)."""
    return rel_spec(type_).colour


def edge_style(type_: RelType | str) -> str:
    """Its matplotlib dash name (SVG_DASHES has the SVG dash array of each)."""
    return rel_spec(type_).dash
