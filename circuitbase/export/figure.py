"""Draw a subgraph for a paper.

Two layouts. A circuit (the graph holds CIRCUIT_EDGEs) is drawn layer by layer, input
at the bottom, each component labelled by its TransformerLens name (`L9H9`), coloured by
its role, with arrowheads that stop at the labels. Anything else is drawn in one band per
model (smallest model first), components left to right by relative depth, and the shared
nodes (concepts, roles, tasks, tokens) in a column of their own on the right.

Both take their colours from `palette.py` (the same colour for the same kind or
relationship type in every figure), size the canvas to what they hold, keep text as
text in SVG and PDF, draw edges as wide as their score, and never overlap labels: a label
that would touch another moves to the next free row.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import networkx as nx

from ..schema.graph import COMPONENT_LABELS, NodeLabel, RelType, rel_spec, score_of
from ..schema.records import RecordError
from ..schema.sizes import model_size
from .palette import edge_colour, edge_style, node_colour, text_colour
from .subgraph import primary_label

MAX_FIGURE_NODES = 400
SINGLE_COLUMN = 3.5  # inches: a column of a two-column paper
DOUBLE_COLUMN = 7.0  # inches: the full text width
WIDTHS = {"single": SINGLE_COLUMN, "double": DOUBLE_COLUMN}
FIGURE_FORMATS = ("svg", "png", "pdf")
COLOUR_BY = ("kind", "role", "concept", "model")
# Paul Tol's "bright" scheme gives the head roles the field names (IOI's classes and the
# TransformerLens detector's) a colour each, the same in every figure; other roles,
# concepts and models take Tol's "light" scheme in the order of the figure's legend.
ROLE_COLOURS = {
    "name-mover": "#4477AA",
    "negative-name-mover": "#EE6677",
    "s-inhibition": "#228833",
    "induction": "#CCBB44",
    "backup-name-mover": "#66CCEE",
    "duplicate-token": "#AA3377",
    "previous-token": "#BBBBBB",
}
CATEGORY_COLOURS = [
    "#77AADD",
    "#EE8866",
    "#EEDD88",
    "#FFAABB",
    "#99DDFF",
    "#44BB99",
    "#BBCC33",
    "#AAAA00",
    "#DDDDDD",
]
# Relationships a figure does not draw: the model is the band, the analysis is the citation.
# The number that says how strong each kind of fact is (ENCODES also has the probe's
# `weight`, a coefficient, not a score).
# SVG keeps text as <text> (editable, searchable); PDF embeds TrueType, not Type 3 glyphs.
TEXT_AS_TEXT: Any = {"svg.fonttype": "none", "pdf.fonttype": 42}
CHAR_WIDTH = 0.62  # of the font size: DejaVu Sans's digits and letters, with room to spare
LABEL_PAD = 0.3  # of the font size, each side of a label's box


@dataclass(frozen=True)
class FigureStyle:
    """How a figure looks: width in inches (`SINGLE_COLUMN`, `DOUBLE_COLUMN` or any),
    dpi of a PNG, font size in points, what the node colours say (`kind`, `role`,
    `concept`, `model`), whether edges carry their score as a label, and the weakest
    circuit edge drawn (`min_weight`, by the size of its weight)."""

    width: float = DOUBLE_COLUMN
    dpi: int = 300
    font_size: float = 7.0
    colour_by: str = "kind"
    edge_labels: bool = False
    min_weight: float = 0.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.width <= 40.0:
            raise RecordError(f"figure width must be 1 to 40 inches, got {self.width}")
        if not 50 <= self.dpi <= 1200:
            raise RecordError(f"figure dpi must be 50 to 1200, got {self.dpi}")
        if not 4.0 <= self.font_size <= 24.0:
            raise RecordError(f"font size must be 4 to 24 points, got {self.font_size}")
        if self.colour_by not in COLOUR_BY:
            raise RecordError(f"colour by one of {', '.join(COLOUR_BY)}, not {self.colour_by!r}")
        if not (math.isfinite(self.min_weight) and self.min_weight >= 0):
            raise RecordError(f"--min-weight must be a number >= 0, got {self.min_weight}")


def parse_width(text: str) -> float:
    """`single`, `double` or inches."""
    try:
        return WIDTHS[text] if text in WIDTHS else float(text)
    except ValueError:
        raise RecordError(f"--width is single, double or inches, not {text!r}") from None


def category_colours(
    names: Iterable[str], order: Callable[[str], Any] = lambda n: n
) -> dict[str, str]:
    """A colour for each role, concept or model name: a known role's own, the others in
    turn (in `order`), cycling past nine."""
    colours = {}
    others = sorted((n for n in set(names) if n not in ROLE_COLOURS), key=order)
    for name in sorted(set(names) & set(ROLE_COLOURS)):
        colours[name] = ROLE_COLOURS[name]
    for i, name in enumerate(others):
        colours[name] = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
    return colours


# --- what is drawn ----------------------------------------------------------------------


@dataclass
class Box:
    ident: str
    text: str
    label: NodeLabel
    x: float = 0.0
    y: float = 0.0
    fill: str = "#FFFFFF"
    ink: str = "#000000"

    def width(self, font: float) -> float:
        return (len(self.text) * CHAR_WIDTH + 2 * LABEL_PAD) * font / 72


def _label_text(attrs: dict[str, Any], label: NodeLabel) -> str:
    if label is NodeLabel.FEATURE:  # its label (a clerp) if it has one, else layer and index
        text = str(attrs.get("label") or f"L{attrs.get('layer')} F{attrs.get('index')}")
        return text if len(text) <= 28 else text[:27] + "…"
    if (
        label in COMPONENT_LABELS
    ):  # TransformerLens's short name; the band or circuit names the model
        return str(attrs.get("name") or attrs.get("uid"))
    if label is NodeLabel.TOKEN:
        text = repr(attrs.get("text", ""))
    elif label is NodeLabel.FEATURE and attrs.get("label"):
        text = str(attrs["label"])
    else:
        text = str(attrs.get("name") or attrs.get("uid") or attrs.get("text"))
    return text if len(text) <= 28 else text[:27] + "…"


def _categories(graph: nx.MultiDiGraph, colour_by: str) -> dict[str, str]:
    """Each component's role, concept or model (its strongest, where it has several)."""
    if colour_by == "model":
        return {n: a["model"] for n, a in graph.nodes(data=True) if a.get("model")}
    wanted = {"role": RelType.HAS_ROLE.value, "concept": RelType.ENCODES.value}[colour_by]
    best: dict[str, tuple[float, str]] = {}
    for a, b, attrs in graph.edges(data=True):
        if attrs.get("type") != wanted:
            continue
        score = score_of(attrs) or 0.0
        name = str(graph.nodes[b].get("name"))
        if a not in best or (score, name) > best[a]:
            best[a] = (score, name)
    return {n: name for n, (_, name) in best.items()}


def _drawable(graph: nx.MultiDiGraph, style: FigureStyle) -> tuple[nx.MultiDiGraph, dict[str, str]]:
    """The graph as drawn: no analyses or N2G tries (the .bib cites them), no model nodes
    (the bands name them), and the nodes the colours stand for left out."""
    hidden = {
        n
        for n, a in graph.nodes(data=True)
        if not (label := primary_label(a["labels"])).spec.drawn or label is NodeLabel.MODEL
    }
    categories = _categories(graph, style.colour_by) if style.colour_by != "kind" else {}
    if style.colour_by in ("role", "concept") and categories:
        colour_label = NodeLabel.HEAD_ROLE if style.colour_by == "role" else NodeLabel.CONCEPT
        hidden |= {
            n for n, a in graph.nodes(data=True) if primary_label(a["labels"]) is colour_label
        }
    drawn = nx.MultiDiGraph()
    drawn.add_nodes_from((n, a) for n, a in graph.nodes(data=True) if n not in hidden)
    drawn.add_edges_from(
        (a, b, k, d)
        for a, b, k, d in graph.edges(keys=True, data=True)
        if a not in hidden
        and b not in hidden
        and not (d.get("type") and rel_spec(d["type"]).context)
    )
    return drawn, categories


def _boxes(
    graph: nx.MultiDiGraph, categories: dict[str, str], palette: dict[str, str]
) -> dict[str, Box]:
    boxes = {}
    for ident, attrs in graph.nodes(data=True):
        label = primary_label(attrs["labels"])
        box = Box(ident, _label_text(attrs, label), label)
        if ident in categories:
            box.fill, box.ink = palette[categories[ident]], "#000000"
        elif categories and label in COMPONENT_LABELS:
            box.fill, box.ink = "#FFFFFF", "#000000"
        else:
            box.fill, box.ink = node_colour(label), text_colour(label)
        boxes[ident] = box
    return boxes


def _pack_rows(boxes: list[Box], x_of: dict[str, float], font: float, gap: float) -> list[int]:
    """Row of each box (in order), the first whose last label ends before this one starts."""
    row_ends: list[float] = []
    rows = []
    for box in boxes:
        left = x_of[box.ident] - box.width(font) / 2
        for i, end in enumerate(row_ends):
            if end + gap <= left:
                row_ends[i] = left + box.width(font)
                rows.append(i)
                break
        else:
            row_ends.append(left + box.width(font))
            rows.append(len(row_ends) - 1)
    return rows


@dataclass
class Layout:
    boxes: dict[str, Box]
    width: float
    height: float
    titles: list[tuple[str, float, float]]  # text, x, y
    notes: list[tuple[str, float, float, str]]  # small grey text, x, y, alignment
    circuit: bool = False


def band_layout(
    graph: nx.MultiDiGraph, boxes: dict[str, Box], style: FigureStyle, sizes: dict[str, float]
) -> Layout:
    """One band per model, smallest first; shared nodes in a column on the right."""
    font, width = style.font_size, style.width
    row = font * 2.1 / 72
    margin = 0.08
    components = [b for b in boxes.values() if b.label in COMPONENT_LABELS]
    shared = [b for b in boxes.values() if b.label not in COMPONENT_LABELS]
    shared_width = min(max((b.width(font) for b in shared), default=0.0), width * 0.35)
    area = (margin, width - margin - (shared_width + 0.25 if shared else 0.0))
    titles, notes = [], []
    y = margin + row * 0.5
    notes.append(("relative depth 0", area[0], y, "left"))
    notes.append(("1", area[1], y, "right"))
    y += row * 0.6
    by_model: dict[str, list[Box]] = defaultdict(list)
    for box in components:
        by_model[graph.nodes[box.ident]["model"]].append(box)
    for model in sorted(by_model, key=lambda m: (sizes.get(m, model_size(m)), m)):
        members = sorted(
            by_model[model],
            key=lambda b: (
                graph.nodes[b.ident].get("relative_depth", 0.0),
                graph.nodes[b.ident].get("index") or 0,
                b.text,
            ),
        )
        x_of = {}
        for box in members:
            half = box.width(font) / 2
            depth = float(graph.nodes[box.ident].get("relative_depth", 0.0))
            x_of[box.ident] = area[0] + half + depth * max(0.0, area[1] - area[0] - 2 * half)
        rows = _pack_rows(members, x_of, font, 0.04)
        titles.append((model, area[0], y + row * 0.5))
        y += row
        for box, r in zip(members, rows):
            box.x, box.y = x_of[box.ident], y + row * (r + 0.5)
        y += row * (max(rows, default=0) + 1) + row * 0.4
    if shared:
        # each shared node beside the components it links, in order; then spaced apart
        def anchor(box: Box) -> float:
            ys = [
                boxes[n].y
                for n in nx.all_neighbors(graph, box.ident)
                if n in boxes and boxes[n].label in COMPONENT_LABELS
            ]
            return sum(ys) / len(ys) if ys else math.inf

        column = sorted(shared, key=lambda b: (anchor(b), b.label.value, b.text))
        x = width - margin - shared_width / 2
        notes.append(("shared", x, margin + row * 0.5, "center"))
        last = margin + row * 0.6
        for box in column:
            wanted = anchor(box) if math.isfinite(anchor(box)) else last + row
            box.x, box.y = x, max(wanted, last + row)
            last = box.y
        y = max(y, last + row)
    return Layout(boxes, width, y + margin, titles, notes)


def circuit_layout(graph: nx.MultiDiGraph, boxes: dict[str, Box], style: FigureStyle) -> Layout:
    """Layers from the bottom (input) to the top (output), named on an axis at the left;
    within a layer heads by index, then the MLP; input tokens below layer 0, output tokens
    above the last layer; other shared nodes (tasks, concepts) in a last row."""
    font, width = style.font_size, style.width
    margin = 0.08
    row = font * 3.2 / 72
    levels: dict[float, list[Box]] = defaultdict(list)
    top = max(
        (
            float(graph.nodes[b.ident].get("layer", 0))
            for b in boxes.values()
            if b.label in COMPONENT_LABELS
        ),
        default=0.0,
    )
    for box in boxes.values():
        attrs = graph.nodes[box.ident]
        if box.label in COMPONENT_LABELS:
            level = float(attrs.get("layer", 0))
        elif box.label is NodeLabel.TOKEN:
            feeds = any(
                b in boxes and boxes[b].label in COMPONENT_LABELS
                for b in graph.successors(box.ident)
            )
            level = -1.0 if feeds else top + 1.5
        else:
            level = top + 2.5
        levels[level].append(box)
    rows: list[list[Box]] = []
    row_levels: list[float] = []
    gutter = font * 3.0 / 72  # room for the layer axis
    for level in sorted(levels):
        # heads by index, then the layer's MLP, neurons and features
        members = sorted(
            levels[level],
            key=lambda b: (
                b.label is not NodeLabel.HEAD,
                graph.nodes[b.ident].get("index") or 0,
                b.text,
            ),
        )
        current: list[Box] = []
        used = 0.0
        for box in members:  # wrap a layer that does not fit the width
            if current and used + box.width(font) + 0.06 > width - 2 * margin - gutter:
                rows.append(current)
                row_levels.append(level)
                current, used = [], 0.0
            current.append(box)
            used += box.width(font) + 0.06
        rows.append(current)
        row_levels.append(level)
    height = margin * 2 + row * len(rows)
    notes = [
        ("input", margin, height - margin * 0.3, "left"),
        ("output", margin, margin * 0.9, "left"),
    ]
    axis = ""
    for i, (level, members) in enumerate(zip(row_levels, rows)):
        y = height - margin - row * (i + 0.5)  # first row at the bottom
        if level.is_integer() and 0 <= level <= top and f"L{int(level)}" != axis:
            axis = f"L{int(level)}"  # the layer axis, left of the drawing
            notes.append((axis, margin * 0.5, y, "left"))
        total = sum(b.width(font) for b in members)
        spare = (width - 2 * margin - gutter - total) / (len(members) + 1)
        # rows alternate left and right of the middle, so that an edge between rows
        # slants instead of running through the labels of the rows between
        x = margin + gutter + (spare * (0.5 if i % 2 else 1.5) if len(members) < 4 else spare)
        for box in members:
            box.x, box.y = x + box.width(font) / 2, y
            x += box.width(font) + spare
    return Layout(boxes, width, height, [], notes, circuit=True)


def draw(
    graph: nx.MultiDiGraph,
    title: str | None = None,
    style: FigureStyle | None = None,
    sizes: dict[str, float] | None = None,
):
    """A matplotlib Figure of the subgraph (`sizes`: model -> parameters, for the order of
    the bands; models in the graph and names like `pythia-410m` are read without it)."""
    style = style or FigureStyle()
    circuit = any(t == RelType.CIRCUIT_EDGE.value for _, _, t in graph.edges(data="type"))
    if (
        circuit
        and style.colour_by == "kind"
        and any(t == RelType.HAS_ROLE.value for _, _, t in graph.edges(data="type"))
    ):
        style = replace(style, colour_by="role")  # a circuit's heads are told apart by role
    if style.min_weight > 0:
        graph = _strong_edges(graph, style.min_weight)
    drawn, categories = _drawable(graph, style)
    if drawn.number_of_nodes() > MAX_FIGURE_NODES:
        raise RecordError(
            f"{drawn.number_of_nodes()} nodes is too many for a legible figure "
            f"(at most {MAX_FIGURE_NODES}); narrow the export with --hops, --label "
            "or --rel-type"
        )
    sizes = dict(sizes or {})
    for _, attrs in graph.nodes(data=True):
        if primary_label(attrs["labels"]) is NodeLabel.MODEL:
            sizes.setdefault(attrs["uid"], model_size(attrs["uid"], attrs))
    order = (
        (lambda m: (sizes.get(m, model_size(m)), m))
        if style.colour_by == "model"
        else (lambda n: n)
    )
    palette = category_colours(categories.values(), order)
    boxes = _boxes(drawn, categories, palette)
    layout = (
        circuit_layout(drawn, boxes, style) if circuit else band_layout(drawn, boxes, style, sizes)
    )
    return _render(drawn, layout, style, title, palette)


def _strong_edges(graph: nx.MultiDiGraph, min_weight: float) -> nx.MultiDiGraph:
    """The graph without circuit edges weaker than `min_weight` (by size), and without the
    components only those edges connected."""
    kept = graph.copy()
    weak = [
        (a, b, k)
        for a, b, k, attrs in graph.edges(keys=True, data=True)
        if attrs.get("type") == RelType.CIRCUIT_EDGE.value
        and abs(score_of(attrs) or 0.0) < min_weight
    ]
    kept.remove_edges_from(weak)
    touched = {n for a, b, _ in weak for n in (a, b)}
    kept.remove_nodes_from(
        [
            n
            for n in touched
            if not any(t == RelType.CIRCUIT_EDGE.value for _, _, t in kept.edges(n, data="type"))
            and not any(
                t == RelType.CIRCUIT_EDGE.value for _, _, t in kept.in_edges(n, data="type")
            )
            and primary_label(kept.nodes[n]["labels"]) in COMPONENT_LABELS
        ]
    )
    return kept


def _render(
    graph: nx.MultiDiGraph,
    layout: Layout,
    style: FigureStyle,
    title: str | None,
    palette: dict[str, str],
):
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    font = style.font_size
    # not pyplot's: a figure nothing else holds, freed with the last reference to it
    with matplotlib.rc_context({**TEXT_AS_TEXT, "font.size": font}):
        handles = _legend(graph, layout, palette, Patch, Line2D)
        columns = max(1, min(len(handles), int(layout.width / 1.1)))
        legend_rows = math.ceil(len(handles) / columns)
        legend_height = legend_rows * font * 1.9 / 72 + (font * 2 / 72 if title else 0.0)
        total = layout.height + legend_height
        figure = Figure(figsize=(layout.width, total))
        FigureCanvasAgg(figure)
        # the drawing on top, the legend in the strip below it, the title above
        title_room = font * 2 / 72 if title else 0.0
        bottom = (legend_height - title_room) / total
        axes = figure.add_axes((0.0, bottom, 1.0, layout.height / total))
        axes.set_xlim(0.0, layout.width)
        axes.set_ylim(layout.height, 0.0)
        axes.axis("off")
        texts = {}
        for ident, box in sorted(layout.boxes.items()):
            texts[ident] = axes.text(
                box.x,
                box.y,
                box.text,
                ha="center",
                va="center",
                zorder=3,
                color=box.ink,
                gid=f"node-{box.label.value}",
                bbox=dict(boxstyle=f"round,pad={LABEL_PAD}", fc=box.fill, ec="#333333", lw=0.4),
            )
        scales: dict[str, float] = defaultdict(float)
        for _, _, attrs in graph.edges(data=True):
            scales[attrs["type"]] = max(scales[attrs["type"]], abs(score_of(attrs) or 0.0))
        for i, (a, b, attrs) in enumerate(
            sorted(graph.edges(data=True), key=lambda e: (e[2]["type"], e[0], e[1]))
        ):
            type_ = attrs["type"]
            score = score_of(attrs)
            scale = scales[type_] or 1.0
            width = 0.3 + 1.7 * abs(score) / scale if score is not None else 0.6
            # in a circuit, an edge that skips layers bends, to pass beside the layers between
            # (and one within a row arcs over the labels beside it)
            rise = abs(layout.boxes[a].y - layout.boxes[b].y)
            rad = (
                (0.3 if rise < font / 72 else 0.12)
                if layout.circuit and (rise > 4 * font / 72 or rise < font / 72)
                else 0.0
            )
            arrow = axes.annotate(
                "",
                xy=(layout.boxes[b].x, layout.boxes[b].y),
                xytext=(layout.boxes[a].x, layout.boxes[a].y),
                zorder=2,
                arrowprops=dict(
                    arrowstyle="-|>,head_length=0.5,head_width=0.25",
                    color=edge_colour(type_),
                    lw=width,
                    linestyle=edge_style(type_),
                    shrinkA=_to_edge(layout.boxes[a], layout.boxes[b], font, rad, True),
                    shrinkB=_to_edge(layout.boxes[b], layout.boxes[a], font, rad, False),
                    mutation_scale=font * 1.2,
                    connectionstyle=f"arc3,rad={rad}",
                ),
            )
            arrow.set_gid(f"edge-{type_}-{i}")
            if arrow.arrow_patch is not None:  # the group the SVG gives the arrow
                arrow.arrow_patch.set_gid(f"edge-{type_}-{i}")
            if style.edge_labels and score is not None:
                axes.text(
                    (layout.boxes[a].x + layout.boxes[b].x) / 2,
                    (layout.boxes[a].y + layout.boxes[b].y) / 2,
                    f"{score:.2f}",
                    fontsize=font * 0.8,
                    color=edge_colour(type_),
                    ha="center",
                    va="center",
                    zorder=4,
                    bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none"),
                )
        for text, x, y in layout.titles:
            axes.text(x, y, text, ha="left", va="center", fontweight="bold", zorder=3)
        for text, x, y, align in layout.notes:
            axes.text(x, y, text, ha=align, va="center", color="#555555", fontsize=font * 0.85)
        if handles:
            figure.legend(
                handles=handles,
                loc="lower center",
                ncol=columns,
                fontsize=font * 0.9,
                frameon=False,
                handlelength=1.6,
                columnspacing=1.0,
                borderaxespad=0.2,
            )
        if title:
            figure.suptitle(title, fontsize=font * 1.2, y=1.0 - 0.25 * title_room / total, va="top")
    return figure


def _to_edge(box: Box, other: Box, font: float, rad: float, start: bool) -> float:
    """Points from the middle of `box` to its edge, along the arrow between it and `other`
    (`start`: the arrow leaves `box`), bent by matplotlib's arc3 `rad`: an arrow cut
    there ends at the label, so its head shows, at any dpi (points, not pixels)."""
    a, b = (box, other) if start else (other, box)
    ax, ay, bx, by = a.x, -a.y, b.x, -b.y  # y upwards, as on the page
    dx, dy = bx - ax, by - ay
    cx, cy = (ax + bx) / 2 + rad * dy, (ay + by) / 2 - rad * dx  # arc3's control point
    ux, uy = (cx - ax, cy - ay) if start else (cx - bx, cy - by)
    length = math.hypot(ux, uy) or 1.0
    half_w, half_h = box.width(font) / 2, font * (1.2 + 2 * LABEL_PAD) / 72 / 2
    reach = min(half_w / (abs(ux) / length or 1e-9), half_h / (abs(uy) / length or 1e-9))
    return reach * 72 + 2.0


def _legend(graph: nx.MultiDiGraph, layout: Layout, palette: dict[str, str], Patch, Line2D) -> list:
    handles = [
        Patch(fc=colour, ec="#333333", lw=0.4, label=name) for name, colour in palette.items()
    ]
    kinds = sorted(
        {
            box.label
            for box in layout.boxes.values()
            if not (palette and box.label in COMPONENT_LABELS)
        },
        key=lambda label: label.value,
    )
    handles += [Patch(fc=node_colour(k), ec="#333333", lw=0.4, label=k.value) for k in kinds]
    for type_ in sorted({t for _, _, t in graph.edges(data="type")}):
        handles.append(
            Line2D(
                [0], [0], color=edge_colour(type_), linestyle=edge_style(type_), lw=1.2, label=type_
            )
        )
    return handles


def write_figure(
    graph: nx.MultiDiGraph,
    path: Path,
    title: str | None = None,
    style: FigureStyle | None = None,
    sizes: dict[str, float] | None = None,
    fmt: str | None = None,
) -> Path:
    """Draw and save; the format is `fmt` or the file's suffix. Returns the path written."""
    import matplotlib

    style = style or FigureStyle()
    fmt = fmt or Path(path).suffix.lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise RecordError(f"a figure is one of {', '.join(FIGURE_FORMATS)}, not {fmt!r}")
    figure = draw(graph, title, style, sizes)
    with matplotlib.rc_context(TEXT_AS_TEXT):
        figure.savefig(path, format=fmt, dpi=style.dpi, metadata=figure_metadata(fmt))
    return Path(path)


def svg_text(figure: Any) -> str:
    """A figure as an `<svg>` element to put in a web page (text kept as text)."""
    import io

    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(TEXT_AS_TEXT):
        figure.savefig(buffer, format="svg", metadata=figure_metadata("svg"))
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def figure_metadata(fmt: str) -> dict[str, Any]:
    """No creation date in the file: the same graph draws the same bytes."""
    return {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}[fmt]


def graph_models(graph: nx.MultiDiGraph) -> Iterable[str]:
    return {a["model"] for _, a in graph.nodes(data=True) if a.get("model")}
