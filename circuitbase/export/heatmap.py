"""A model's attention heads at a glance: one layers x heads heatmap per measured metric
(Neuronpedia's head metrics, ...) and per role score (induction, previous-token, ...).

People read a model's heads from such a picture faster than from 5,000 rows: where the
induction heads sit, whether the previous-token heads are early. The model page of the web
explorer shows it, and `circuitbase export --heads MODEL` writes it for a paper.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..schema.records import RecordError
from ..store.base import GraphStore
from .figure import FIGURE_FORMATS, TEXT_AS_TEXT, FigureStyle, figure_metadata, svg_text

COLUMNS = 3  # heatmaps per row of the figure
COLOUR_MAP = "viridis"  # perceptually uniform and colour-blind safe


@dataclass
class Grid:
    """One heatmap: `values[layer][head]` (None: not measured), and where it comes from."""

    title: str
    values: list[list[float | None]]
    analyses: tuple[str, ...]


class HeadValue(NamedTuple):
    """One number drawn for a head: a metric's value (`title` its name) or a role's score
    (`title` "role: <role>"), by one analysis; `unmeasured`: a head of a layer the file
    did not measure (its zeros kept)."""

    title: str
    analysis: str
    layer: int
    head: int
    value: float
    unmeasured: bool = False


def head_shape(store: GraphStore, model: str) -> tuple[int, int]:
    """(layers, heads) of `model`; RecordError where they are not known."""
    found = store.models([model])
    if not found or not found[0].get("n_layers") or not found[0].get("n_heads"):
        raise RecordError(f"{model} has no attention heads with a known shape to draw")
    return found[0]["n_layers"], found[0]["n_heads"]


def head_values(
    store: GraphStore, model: str, *, metrics: bool = True, roles: bool = True
) -> Iterator[HeadValue]:
    """Every finite number stored of `model`'s heads: each metric an analysis ranks them
    by (unless not `metrics`), then each role score (unless not `roles`)."""
    for row in store.head_measurements_in(model) if metrics else ():
        for metric in row["metrics"] or ():
            value = row["measured"].get(metric)
            if isinstance(value, (int, float)) and math.isfinite(value):
                unmeasured = bool(row["measured"].get("unmeasured"))
                yield HeadValue(
                    metric, row["analysis"], row["layer"], row["head"], float(value), unmeasured
                )
    for row in store.head_role_scores_in(model) if roles else ():
        if isinstance(row["score"], (int, float)) and math.isfinite(row["score"]):
            title = f"role: {row['role']}"
            yield HeadValue(title, row["analysis"], row["layer"], row["head"], float(row["score"]))


def head_grids(store: GraphStore, model: str) -> list[Grid]:
    """The grids of `model`'s heads: each metric an analysis ranks heads by (in the
    analysis's order), then each role at its best score over the analyses that score it."""
    layers, heads = head_shape(store, model)
    grids: dict[str, Grid] = {}
    for found in head_values(store, model):
        grid = grids.setdefault(
            found.title, Grid(found.title, [[None] * heads for _ in range(layers)], ())
        )
        if found.analysis not in grid.analyses:
            grid.analyses += (found.analysis,)
        old = grid.values[found.layer][found.head]
        grid.values[found.layer][found.head] = found.value if old is None else max(old, found.value)
    return [grids[title] for title in sorted(grids, key=lambda t: (t.startswith("role: "), t))]


def draw_heatmaps(grids: list[Grid], model: str, style: FigureStyle | None = None):
    """A matplotlib Figure: the grids side by side, layer 0 at the top, heads left to right."""
    import matplotlib
    from matplotlib.figure import Figure

    style = style or FigureStyle()
    if not grids:
        raise RecordError(f"no measurement or role score of {model}'s heads is stored")
    rows = math.ceil(len(grids) / COLUMNS)
    columns = min(COLUMNS, len(grids))
    layers, heads = len(grids[0].values), len(grids[0].values[0])
    panel = style.width / columns
    height = rows * panel * min(2.0, max(0.6, layers / max(heads, 1))) + 0.3
    with matplotlib.rc_context({**TEXT_AS_TEXT, "font.size": style.font_size}):
        figure = Figure(figsize=(style.width, height), layout="constrained")
        figure.suptitle(f"{model}: {layers} layers x {heads} heads")
        for i, grid in enumerate(grids):
            axes = figure.add_subplot(rows, columns, i + 1)
            data = [[math.nan if v is None else v for v in layer] for layer in grid.values]
            lowest = min((v for layer in grid.values for v in layer if v is not None), default=0.0)
            image = axes.imshow(
                data, cmap=COLOUR_MAP, aspect="auto", interpolation="nearest", vmin=min(0.0, lowest)
            )  # scores from 0: a lone 1.0 is bright
            many = len(grid.analyses) > 1
            axes.set_title(
                grid.title + (f"\n(best of {len(grid.analyses)} analyses)" if many else "")
            )
            axes.set_xlabel("head")
            axes.set_ylabel("layer")
            figure.colorbar(image, ax=axes, shrink=0.8)
    return figure


def heatmap_svg(store: GraphStore, model: str, style: FigureStyle | None = None) -> str | None:
    """The figure as SVG text to put in a page (None: nothing to draw)."""
    try:
        grids = head_grids(store, model)
        figure = draw_heatmaps(grids, model, style) if grids else None
    except RecordError:
        return None
    return svg_text(figure) if figure is not None else None


def write_heatmaps(
    store: GraphStore, model: str, path: Path, fmt: str, style: FigureStyle | None = None
) -> tuple[Path, tuple[str, ...]]:
    """Draw and save; returns the path and the analyses the picture shows."""
    if fmt not in FIGURE_FORMATS:
        raise RecordError(f"--heads draws a figure: --format is one of {', '.join(FIGURE_FORMATS)}")
    grids = head_grids(store, model)
    import matplotlib

    figure = draw_heatmaps(grids, model, style)
    with matplotlib.rc_context(TEXT_AS_TEXT):
        figure.savefig(
            path, format=fmt, dpi=(style or FigureStyle()).dpi, metadata=figure_metadata(fmt)
        )
    return Path(path), tuple(sorted({a for grid in grids for a in grid.analyses}))
