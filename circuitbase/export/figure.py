"""Draw a subgraph for a paper: components grouped by model (one band each) and placed
left to right by relative depth, shared nodes (concepts, roles, tasks, tokens) in
a column on the right, colours by label and edge type, and a legend.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import networkx as nx

from ..schema.graph import COMPONENT_LABELS, NodeLabel
from ..schema.records import RecordError
from .subgraph import primary_label

MAX_FIGURE_NODES = 400
ROW_HEIGHT = 0.5  # inches per stacked label
NODE_COLOURS = {
    NodeLabel.NEURON: "#4c72b0", NodeLabel.HEAD: "#dd8452", NodeLabel.MLP: "#55a868",
    NodeLabel.ATTENTION: "#c44e52", NodeLabel.FEATURE: "#8172b3", NodeLabel.MODEL: "#937860",
    NodeLabel.CONCEPT: "#da8bc3", NodeLabel.HEAD_ROLE: "#8c8c8c", NodeLabel.TASK: "#ccb974",
    NodeLabel.TOKEN: "#64b5cd", NodeLabel.ANALYSIS: "#b0b0b0", NodeLabel.PATTERN: "#a0a0a0",
    NodeLabel.PATTERN_NODE: "#d0d0d0",
}
EDGE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf"]


def _text(attrs: dict) -> str:
    label = primary_label(attrs["labels"])
    text = attrs.get("name") if label in COMPONENT_LABELS else None
    text = text or str(attrs.get("name") or attrs.get("text") or attrs.get("uid"))
    return text if len(text) <= 28 else text[:27] + "…"


def layout(graph: nx.MultiDiGraph) -> tuple[dict[str, tuple[float, float]], list[tuple[str, float]]]:
    """Positions in inches, and (model, y) of each band's title."""
    bands: dict[str, dict[float, list[str]]] = defaultdict(lambda: defaultdict(list))
    shared: list[str] = []
    for ident, attrs in graph.nodes(data=True):
        label = primary_label(attrs["labels"])
        if label in COMPONENT_LABELS:
            bands[attrs["model"]][round(float(attrs.get("relative_depth", 0.0)), 4)].append(ident)
        elif label is not NodeLabel.MODEL:
            shared.append(ident)
    positions: dict[str, tuple[float, float]] = {}
    titles: list[tuple[str, float]] = []
    y = 0.0
    def size(model: str) -> tuple[float, str]:
        """Bands run from the smallest model down, where the graph knows the sizes."""
        params = graph.nodes.get(f"Model:{model}", {}).get("n_params")
        return (params if params is not None else float("inf"), model)

    for model in sorted(bands, key=size):
        columns = bands[model]
        height = max(len(members) for members in columns.values()) * ROW_HEIGHT
        titles.append((model, y))
        for depth, members in columns.items():
            for i, ident in enumerate(sorted(members, key=lambda n: graph.nodes[n].get("index") or 0)):
                positions[ident] = (1.0 + depth * 8.0, y - ROW_HEIGHT * (i + 1))
        if f"Model:{model}" in graph:
            positions[f"Model:{model}"] = (0.0, y - height / 2)
        y -= height + 2 * ROW_HEIGHT
    total = max(-y, len(shared) * ROW_HEIGHT)
    step = total / max(1, len(shared))
    for i, ident in enumerate(sorted(shared)):
        positions[ident] = (11.5, -step * (i + 0.5))
    for ident in graph:  # models without components, and anything left
        positions.setdefault(ident, (0.0, y - ROW_HEIGHT))
    return positions, titles


def draw(graph: nx.MultiDiGraph, title: str | None = None):
    """A matplotlib Figure of the subgraph."""
    if graph.number_of_nodes() > MAX_FIGURE_NODES:
        raise RecordError(f"{graph.number_of_nodes()} nodes is too many for a legible figure "
                          f"(at most {MAX_FIGURE_NODES}); narrow the export with --hops, --label "
                          "or --rel-type")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    positions, titles = layout(graph)
    ys = [p[1] for p in positions.values()] or [0.0]
    height = max(3.0, max(ys) - min(ys) + 2.0)
    figure, axes = plt.subplots(figsize=(16, height))
    edge_types = sorted({t for _, _, t in graph.edges(data="type")})
    edge_colour = {t: EDGE_COLOURS[i % len(EDGE_COLOURS)] for i, t in enumerate(edge_types)}
    for a, b, type_ in graph.edges(data="type"):
        (x1, y1), (x2, y2) = positions[a], positions[b]
        axes.annotate("", xy=(x2, y2), xytext=(x1, y1), zorder=1,
                      arrowprops=dict(arrowstyle="-|>", color=edge_colour[type_], lw=0.8,
                                      alpha=0.6, shrinkA=8, shrinkB=8))
    labels_used = set()
    for ident, attrs in graph.nodes(data=True):
        label = primary_label(attrs["labels"])
        labels_used.add(label)
        x, y = positions[ident]
        axes.text(x, y, _text(attrs), ha="center", va="center", fontsize=8, zorder=2,
                  bbox=dict(boxstyle="round,pad=0.25", fc=NODE_COLOURS[label], ec="none",
                            alpha=0.9), color="white" if label in COMPONENT_LABELS else "black")
    for model, y in titles:
        axes.text(0.0, y, model, ha="left", va="bottom", fontsize=10, fontweight="bold")
    axes.text(1.0, max(ys) + 0.9, "relative depth 0", fontsize=8, color="#555555")
    axes.text(9.0, max(ys) + 0.9, "relative depth 1", fontsize=8, color="#555555", ha="right")
    handles = [Patch(color=NODE_COLOURS[label], label=label.value)
               for label in NodeLabel if label in labels_used]
    handles += [Line2D([0], [0], color=edge_colour[t], label=t) for t in edge_types]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                title="legend", frameon=False)
    axes.set_xlim(-1.5, 13.5)
    axes.set_ylim(min(ys) - 1.0, max(ys) + 1.5)
    axes.axis("off")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return figure


def write_figure(graph: nx.MultiDiGraph, path: Path, title: str | None = None) -> None:
    import matplotlib.pyplot as plt

    figure = draw(graph, title)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
