"""The neighbourhood of one node drawn as an SVG one can click through.

Drawn on the server from what `show()` returns: the node in the middle, its neighbours on
a circle grouped by relationship type, each a link to its own page. Edges take the
palette's colour of their type and a width by score; the tooltip holds every score.
No script runs in the page: the links are SVG anchors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from ..export.palette import SVG_DASHES, edge_colour, edge_style, node_colour
from ..schema.graph import score_of

MAX_NEIGHBOURS = 40
WIDTH, HEIGHT = 960, 640


@dataclass
class Neighbour:
    kind: str
    key: str
    types: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)  # tooltip lines: type, direction, score
    best: float = 0.0
    outgoing: bool = True

    @property
    def main_type(self) -> str:
        return sorted(self.types)[0]


def neighbours(relationships: dict[str, list[dict[str, Any]]]) -> list[Neighbour]:
    """One entry per other node, strongest first, at most MAX_NEIGHBOURS."""
    found: dict[tuple[str, str], Neighbour] = {}
    for type_, facts in relationships.items():
        for fact in facts:
            if not fact.get("other") or not fact.get("other_kind"):
                continue
            entry = found.setdefault(
                (fact["other_kind"], fact["other"]), Neighbour(fact["other_kind"], fact["other"])
            )
            entry.types.add(type_)
            entry.outgoing = fact["direction"] == "out"
            score = score_of(fact, type_)
            if score is not None:
                entry.best = max(entry.best, abs(score))
            entry.lines.append(
                f"{type_} ({fact['direction']})"
                + (f" {score:.4g}" if score is not None else "")
                + (f" [{fact['analysis']}]" if fact.get("analysis") else "")
            )
    ranked = sorted(found.values(), key=lambda n: (-n.best, n.main_type, n.kind, n.key))
    return ranked[:MAX_NEIGHBOURS]


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def svg(
    kind: str,
    key: str,
    relationships: dict[str, list[dict[str, Any]]],
    link: Callable[[str, str], str],
    label: Callable[[str, str], str] = lambda k, v: v,
) -> str:
    """The drawing as SVG markup; `link(kind, key)` gives each node's page address and
    `label(kind, key)` its caption."""
    around = neighbours(relationships)
    cx, cy = WIDTH / 2, HEIGHT / 2
    # Neighbours grouped by type around the circle; alternating radii keep labels apart.
    ordered = sorted(around, key=lambda n: (n.main_type, -n.best, n.key))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="neighbourhood" role="img" aria-label="neighbourhood of {escape(key)}">',
        "<defs>",
    ]
    for type_ in sorted({t for n in around for t in n.types}):
        parts.append(
            f'<marker id="arrow-{escape(type_)}" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{edge_colour(type_)}"/></marker>'
        )
    parts.append("</defs>")
    positions: list[tuple[Neighbour, float, float]] = []
    for i, entry in enumerate(ordered):
        angle = 2 * math.pi * i / max(1, len(ordered)) - math.pi / 2
        radius = 250 if i % 2 == 0 or len(ordered) < 12 else 185
        positions.append(
            (entry, cx + radius * math.cos(angle) * 1.45, cy + radius * math.sin(angle))
        )
    for entry, x, y in positions:  # edges first, under the nodes
        type_ = entry.main_type
        width = 1.0 + 3.0 * min(entry.best, 1.0)
        dash = SVG_DASHES[edge_style(type_)]
        # stop short of both circles, so the arrowhead shows
        length = math.hypot(x - cx, y - cy) or 1.0
        x1, y1 = cx + (x - cx) * 34 / length, cy + (y - cy) * 34 / length
        x2, y2 = x - (x - cx) * 16 / length, y - (y - cy) * 16 / length
        if not entry.outgoing:
            x1, y1, x2, y2 = x2, y2, x1, y1
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{edge_colour(type_)}" stroke-width="{width:.2f}" '
            + (f'stroke-dasharray="{dash}" ' if dash else "")
            + f'marker-end="url(#arrow-{escape(type_)})">'
            f"<title>{escape(chr(10).join(entry.lines[:12]))}</title></line>"
        )
    for entry, x, y in positions:
        parts.append(
            _node(
                entry.kind,
                entry.key,
                x,
                y,
                14,
                link,
                label,
                "\n".join([f"{entry.kind} {entry.key}", *entry.lines[:12]]),
            )
        )
    parts.append(_node(kind, key, cx, cy, 32, link, label, f"{kind} {key}", centre=True))
    parts.append("</svg>")
    return "".join(parts)


def _node(
    kind: str,
    key: str,
    x: float,
    y: float,
    r: float,
    link: Callable[[str, str], str],
    label: Callable[[str, str], str],
    tooltip: str,
    centre: bool = False,
) -> str:
    caption = escape(_short(label(kind, key), 40 if centre else 26))
    # a neighbour above the middle is labelled above itself, clear of its edge
    text_y = y - r - 5 if not centre and y < HEIGHT / 2 - 1 else y + r + (17 if centre else 13)
    fill = node_colour(kind)
    weight = ' font-weight="bold"' if centre else ""
    return (
        f'<a href="{escape(link(kind, key))}" class="node" data-kind="{escape(kind)}" '
        f'data-key="{escape(key)}"><title>{escape(tooltip)}</title>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" stroke="#333333" '
        f'stroke-width="{2 if centre else 1}"/>'
        f'<text x="{x:.1f}" y="{text_y:.1f}" text-anchor="middle" '
        f'font-size="{13 if centre else 11}"{weight}>'
        f"{caption}</text></a>"
    )
