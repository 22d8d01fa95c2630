"""One colour for each node kind and relationship type, the same in every figure and page.

Colour-blind safe: node kinds take Paul Tol's "muted" scheme (and Okabe-Ito's yellow),
fact relationships Okabe & Ito's eight colours, structural relationships (a component's
model, an analysis's measurements, N2G tries) greys with their own dash, so that they
recede behind the facts. A figure of ENCODES edges shows them in the same blue whatever
else it holds. Each colour (and a relationship type's dash) is part of the label's or
type's catalog entry (`NodeSpec`, `RelSpec` in schema/graph.py), so that a new type
brings its own.
"""

from __future__ import annotations

from ..schema.graph import COMPONENT_LABELS, NODE_SPECS, NodeLabel, RelType, rel_spec

NODE_COLOURS: dict[NodeLabel, str] = {label: spec.colour for label, spec in NODE_SPECS.items()}

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
