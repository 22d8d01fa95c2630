"""A model's heads over training: each head's score against training tokens, and the
layers x heads map at every checkpoint.

The question two founding papers ask (Olsson et al. 2022: induction heads form in a
phase change early in training) is read from such a picture at once: the lines of the
heads that end with the role rise together at one checkpoint. The heads that end with
the role (score >= `min_score` in the final model) are drawn in colour and named; the
rest are thin grey lines. Training tokens run on a log axis; a checkpoint at step 0 (no
tokens, no place on a log axis) and the final model (its tokens are not in its name) are
drawn apart, at the left and the right. Below, one heatmap per checkpoint on one colour
scale. `circuitbase export --trajectory MODEL --metric M` writes it; the explorer's model
page shows it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..schema.checkpoints import split_checkpoint
from ..schema.records import RecordError
from ..store.base import GraphStore
from .figure import FIGURE_FORMATS, TEXT_AS_TEXT, FigureStyle, figure_metadata, svg_text
from .heatmap import COLOUR_MAP, head_shape, head_values

NAMED = 8  # heads named in the legend at most (the strongest at the end)
MAP_COLUMNS = 4  # checkpoint heatmaps per row
# Paul Tol's "bright" scheme, then "muted": the highlighted heads' lines
LINE_COLOURS = (
    "#4477AA",
    "#EE6677",
    "#228833",
    "#CCBB44",
    "#66CCEE",
    "#AA3377",
    "#332288",
    "#882255",
)


@dataclass
class Checkpoint:
    """One point of training: the model it is, its position, its heads' scores."""

    model: str
    step: int | None
    tokens: int | None
    scores: dict[tuple[int, int], float]  # (layer, head) -> score

    @property
    def label(self) -> str:
        if self.step is None:
            return "final"
        return _short_tokens(self.tokens) if self.tokens is not None else f"step {self.step:,}"


@dataclass
class Trajectory:
    """A model's checkpoints in training order (the final model last) and what they
    measured of one role or metric."""

    model: str
    measure: str
    layers: int
    heads: int
    points: list[Checkpoint]
    analyses: tuple[str, ...]

    def ending_with(self, min_score: float) -> list[tuple[int, int]]:
        """The heads at or above `min_score` in the final model, strongest first."""
        final = self.points[-1].scores
        return sorted(
            (head for head, score in final.items() if score >= min_score),
            key=lambda head: (-final[head], head),
        )


def _short_tokens(tokens: int) -> str:
    for unit, size in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if tokens >= size:
            return f"{tokens / size:g}{unit}"
    return str(tokens)


def trajectory(
    store: GraphStore,
    model: str,
    *,
    metric: str | None = None,
    role: str | None = None,
    source: str | None = None,
) -> Trajectory:
    """What `role_emergence` counts, head by head: each head's best score of `metric`
    (or `role`) at each checkpoint of `model`, among analyses whose uid starts with
    `source`."""
    if (metric is None) == (role is None):
        raise RecordError("a trajectory follows one --metric or one --role")
    final = split_checkpoint(model)[0]
    layers, heads = head_shape(store, final)
    measure = metric or f"role: {role}"  # as head_values titles it
    points = [
        Checkpoint(row["uid"], row["step"], row["tokens"], {})
        for row in store.checkpoints_of(final)
    ] + [Checkpoint(final, None, None, {})]
    if len(points) == 1:
        raise RecordError(
            f"{final} has no training checkpoints in the store (CHECKPOINT_OF): ingest "
            "a checkpoint's files with --revision, or name it MODEL@REVISION"
        )
    analyses: set[str] = set()
    for point in points:
        for found in head_values(store, point.model, metrics=role is None, roles=role is not None):
            if found.title != measure or found.unmeasured:
                continue  # another measure, or a head of a layer the file did not measure
            if source is not None and not found.analysis.startswith(source):
                continue
            analyses.add(found.analysis)
            old = point.scores.get((found.layer, found.head))
            point.scores[(found.layer, found.head)] = (
                found.value if old is None else max(old, found.value)
            )
    if not analyses:
        raise RecordError(
            f"no {metric or role} of {final}'s heads at any checkpoint"
            + (f" in analyses starting {source!r}" if source else "")
        )
    return Trajectory(final, measure, layers, heads, points, tuple(sorted(analyses)))


def draw_trajectory(path: Trajectory, min_score: float, style: FigureStyle | None = None) -> Any:
    """A matplotlib Figure: the scores over training above, a heatmap per checkpoint below."""
    import matplotlib
    from matplotlib.figure import Figure

    style = style or FigureStyle()
    checkpoints = path.points
    map_rows = math.ceil(len(checkpoints) / MAP_COLUMNS)
    width = style.width
    lines_height = width * 0.45
    map_height = map_rows * (width / MAP_COLUMNS) * min(1.2, path.layers / max(path.heads, 1))
    with matplotlib.rc_context({**TEXT_AS_TEXT, "font.size": style.font_size}):
        figure = Figure(figsize=(width, lines_height + map_height + 0.6), layout="constrained")
        panels: Any = figure.subfigures(2, 1, height_ratios=[lines_height, map_height + 0.3])
        top, bottom = panels
        _draw_lines(top, path, min_score)
        _draw_maps(bottom, path)
        figure.suptitle(
            f"{path.model}: {path.measure} over training"
            + (f" (best of {len(path.analyses)} analyses a checkpoint)" if _several(path) else "")
        )
    return figure


def _several(path: Trajectory) -> bool:
    return len(path.analyses) > len(path.points)


def _draw_lines(panel: Any, path: Trajectory, min_score: float) -> None:
    """Each head's score against training tokens (log axis, or steps where no tokens are
    known), the heads ending with the role named and coloured; step 0 and the final model
    in narrow panels of their own."""
    from matplotlib.collections import LineCollection

    trained = [p for p in path.points[:-1] if (p.tokens if p.tokens is not None else p.step)]
    at_zero = [p for p in path.points[:-1] if p not in trained]
    final = path.points[-1]
    by_tokens = all(p.tokens is not None for p in trained)
    parts = [bool(at_zero), True, True]
    ratios = [1, 8, 1]
    widths = [ratio for ratio, on in zip(ratios, parts, strict=True) if on]
    axes = list(panel.subplots(1, sum(parts), sharey=True, width_ratios=widths))
    zero_axes = axes.pop(0) if at_zero else None
    main, last = axes
    highlighted = path.ending_with(min_score)
    named = highlighted[:NAMED]
    others: dict[tuple[str, float, int], list[tuple[int, int]]] = defaultdict(list)
    for head in sorted({head for p in path.points for head in p.scores} - set(named)):
        others[("#555555", 0.8, 2) if head in highlighted else ("#BBBBBB", 0.4, 1)].append(head)
    x = [float((p.tokens if by_tokens else p.step) or 0) for p in trained]  # none is 0
    # the unnamed heads (a 7B model has a thousand) as one collection per style: a line
    # each took seconds to draw
    for (colour, width, order), heads in others.items():
        lines = [
            [(x[i], p.scores[h]) for i, p in enumerate(trained) if h in p.scores] for h in heads
        ]
        collection = LineCollection(lines, colors=colour, linewidths=width, zorder=order)
        main.add_collection(collection)
        _draw_ends(zero_axes, last, final, at_zero, heads, colour, order)
    main.autoscale_view()
    for i, head in enumerate(named):  # strongest first: on top, the legend in order
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        label = f"L{head[0]}H{head[1]} ({final.scores[head]:.2f})"
        xs = [x[j] for j, p in enumerate(trained) if head in p.scores]
        ys = [p.scores[head] for p in trained if head in p.scores]
        main.plot(xs, ys, color=colour, linewidth=1.4, zorder=3, label=label)
        _draw_ends(zero_axes, last, final, at_zero, [head], colour, 3)
    main.set_xscale("log")
    main.set_xlabel("training tokens (log)" if by_tokens else "training step (log)")
    main.axhline(min_score, color="#000000", linewidth=0.6, linestyle="dashed")
    main.set_xticks([p.tokens if by_tokens else p.step for p in trained])
    main.set_xticklabels([p.label for p in trained], rotation=0)
    main.minorticks_off()
    if zero_axes is not None:
        zero_axes.set_xticks([0])
        zero_axes.set_xticklabels(["step 0"])
        zero_axes.set_ylabel(path.measure)
    else:
        main.set_ylabel(path.measure)
    last.set_xticks([0])
    last.set_xticklabels(["final"])
    if named:
        main.legend(
            title=f"heads >= {min_score:g} at the end ({len(highlighted)})",
            loc="upper left",
            fontsize="small",
            title_fontsize="small",
            frameon=False,
        )


def _draw_ends(
    zero_axes: Any,
    last: Any,
    final: Checkpoint,
    at_zero: list[Checkpoint],
    heads: list[tuple[int, int]],
    colour: str,
    order: int,
) -> None:
    """The `heads`' scores at step 0 (`at_zero`) and in the `final` model, as dots in
    their panels."""
    if zero_axes is not None:
        zero = [p.scores[h] for h in heads for p in at_zero if h in p.scores]
        zero_axes.plot([0] * len(zero), zero, "o", color=colour, markersize=2, zorder=order)
    ends = [final.scores[h] for h in heads if h in final.scores]
    last.plot([0] * len(ends), ends, "o", color=colour, markersize=2, zorder=order)


def _draw_maps(panel: Any, path: Trajectory) -> None:
    """One layers x heads heatmap per checkpoint, on one colour scale."""
    rows = math.ceil(len(path.points) / MAP_COLUMNS)
    axes = panel.subplots(rows, MAP_COLUMNS, squeeze=False)
    highest = max((v for p in path.points for v in p.scores.values()), default=1.0)
    lowest = min(0.0, min((v for p in path.points for v in p.scores.values()), default=0.0))
    image = None
    for i, ax in enumerate(axes.flat):
        if i >= len(path.points):
            ax.axis("off")
            continue
        point = path.points[i]
        data = [
            [point.scores.get((layer, head), math.nan) for head in range(path.heads)]
            for layer in range(path.layers)
        ]
        image = ax.imshow(
            data, cmap=COLOUR_MAP, aspect="auto", interpolation="nearest", vmin=lowest, vmax=highest
        )
        ax.set_title(point.label, fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
        if i % MAP_COLUMNS == 0:
            ax.set_ylabel("layer")
    if image is not None:
        panel.colorbar(image, ax=axes, shrink=0.8, label=path.measure)


PAGE_MIN_SCORE = 0.3  # the heads a page names: at or above it at the end


def page_trajectories(store: GraphStore, model: str) -> list[tuple[str, str, str]]:
    """For a model page: (metric, source, SVG) of each metric of the first measurement
    (an analysis uid's start before the model's name, `head-scores/<file>/`) that the
    final model's heads have, if the model has checkpoints; else nothing."""
    final = split_checkpoint(model)[0]
    if not store.checkpoints_of(final):
        return []
    measured: dict[str, set[str]] = {}
    for row in store.head_measurements_in(final):
        parts = str(row["analysis"]).split("/")
        if final in parts and row["metrics"]:
            source = "/".join(parts[: parts.index(final)]) + "/"
            measured.setdefault(source, set()).update(row["metrics"])
    if not measured:
        return []
    source = min(measured)
    drawn = []
    for metric in sorted(measured[source]):
        try:
            found = trajectory(store, final, metric=metric, source=source)
        except RecordError:
            continue
        drawn.append((metric, source, svg_text(draw_trajectory(found, PAGE_MIN_SCORE))))
    return drawn


def write_trajectory(
    found: Trajectory, min_score: float, path: Path, fmt: str, style: FigureStyle | None = None
) -> Path:
    """Draw and save in `fmt` (svg, png, pdf)."""
    if fmt not in FIGURE_FORMATS:
        raise RecordError(
            f"--trajectory draws a figure: --format is one of {', '.join(FIGURE_FORMATS)}"
        )
    import matplotlib

    figure = draw_trajectory(found, min_score, style)
    with matplotlib.rc_context(TEXT_AS_TEXT):
        figure.savefig(
            path, format=fmt, dpi=(style or FigureStyle()).dpi, metadata=figure_metadata(fmt)
        )
    return Path(path)
