"""The knowledge base's exports: a subgraph (a template's results, a neighbourhood, an
analysis's findings) as a graph, written in the command line's formats or drawn for a
paper, a model's heads as heatmaps, a model's heads over training, a template as a
LaTeX table."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import RecordError
from ..queries.names import checked_metric, checked_model, checked_value
from ..schema.graph import NodeLabel, RelType
from .results import Graph, Rows
from .session import Session


class Exports(Session):
    """Each method mirrors `circuitbase export`'s selections."""

    def subgraph(
        self,
        *,
        template: str | None = None,
        params: dict[str, Any] | None = None,
        around: str | None = None,
        hops: int = 1,
        labels: Iterable[str] = (),
        rel_types: Iterable[str] = (),
        analysis: str | None = None,
        model: str | None = None,
        expand_structural: bool = False,
    ) -> Graph:
        """A template's results, a node's neighbourhood (`around`, `hops`) or an
        analysis's findings as a graph (`to_networkx()`); `labels`, `rel_types`, `model`
        and `analysis` keep part of it."""
        from ..export import subgraph

        checked_model(self._store, model)  # a filter naming nothing stored is a typo, not "0 nodes"
        if analysis is not None and around is not None:
            checked_value(self._store, NodeLabel.ANALYSIS, None, analysis, "analysis")
        return Graph(
            subgraph(
                self._store,
                template=template,
                params=params,
                around=around,
                hops=hops,
                labels=[NodeLabel(label) for label in labels],
                rel_types=[RelType(t) for t in rel_types],
                model=model,
                analysis=analysis,
                expand_structural=expand_structural,
            )
        )

    def export(
        self,
        out: str | os.PathLike[str],
        fmt: str | None = None,
        *,
        graph: Graph | None = None,
        heads: str | None = None,
        trajectory: str | None = None,
        metric: str | None = None,
        role: str | None = None,
        source: str | None = None,
        min_score: float = 0.3,
        title: str | None = None,
        **selection: Any,
    ) -> Rows:
        """Write to `out` in `fmt` (else its suffix: graphml, json, csv, cypher, svg, pdf,
        png, latex), with a BibTeX file of its analyses beside it: `graph`, else the
        subgraph `selection` names (`subgraph()`'s keywords), or `heads=MODEL` (a heatmap
        per metric), `trajectory=MODEL` (its heads over training: `metric` or `role`,
        `source`, `min_score`), `template=` with fmt latex (a table). Figure keywords
        (width, dpi, font_size, colour_by, edge_labels, min_weight) style a figure. The
        rows: each path written; `note`: the graph's size."""
        from ..export import FORMATS, check_destination, write, write_table

        out = Path(out)
        fmt = fmt or _SUFFIXES.get(out.suffix.lower(), out.suffix.lstrip(".").lower())
        if fmt not in FORMATS:
            raise RecordError(f"fmt is one of {', '.join(FORMATS)} (got {fmt!r})")
        check_destination(fmt, out)
        style = _style({k: selection.pop(k) for k in list(selection) if k in _STYLE})
        note = None
        if trajectory is not None:
            written = self._trajectory(trajectory, fmt, out, metric, role, source, min_score, style)
        elif heads is not None:
            from ..export import write_heads

            checked_model(self._store, heads)
            written = write_heads(self._store, heads, fmt, out, style)
        elif fmt == "latex":
            template = selection.get("template")
            if template is None:
                raise RecordError("a LaTeX table needs a query template (TEMPLATE, template=)")
            written = write_table(self._store, template, selection.get("params") or {}, out, title)
        else:
            drawn = (graph or self.subgraph(**selection)).to_networkx()
            note = f"{drawn.number_of_nodes()} nodes, {drawn.number_of_edges()} relationships"
            written = write(self._store, drawn, fmt, out, title, style)
        return Rows([{"wrote": str(path)} for path in written], note=note)

    def _trajectory(
        self,
        model: str,
        fmt: str,
        out: Path,
        metric: str | None,
        role: str | None,
        source: str | None,
        min_score: float,
        style: Any,
    ) -> list[Path]:
        from ..export import write_trajectory_figure

        checked_model(self._store, model)
        if metric is not None:
            checked_metric(self._store, metric)
        if role is not None:
            checked_value(self._store, NodeLabel.HEAD_ROLE, None, role, "head role")
        if source is not None:
            checked_value(self._store, NodeLabel.ANALYSIS, None, source, "analysis", prefix=True)
        return write_trajectory_figure(
            self._store,
            model,
            fmt,
            out,
            metric=metric,
            role=role,
            source=source,
            min_score=min_score,
            style=style,
        )

    def figure(self, graph: Graph, title: str | None = None, **style: Any) -> Any:
        """`graph` drawn for a paper, as a matplotlib Figure."""
        from ..export import figure

        return figure(self._store, graph.to_networkx(), title, _style(style))


# file suffixes that are not their format's name
_SUFFIXES = {".tex": "latex"}

# the keywords of a figure's style (export.figure.FigureStyle)
_STYLE = ("width", "dpi", "font_size", "colour_by", "edge_labels", "min_weight")


def _style(given: dict[str, Any]) -> Any:
    """A FigureStyle from keywords; `width` as the command line takes it (single,
    double, or inches)."""
    from ..export.figure import FigureStyle, parse_width

    if isinstance(given.get("width"), str):
        given = {**given, "width": parse_width(given["width"])}
    unknown = sorted(set(given) - set(_STYLE))
    if unknown:
        raise RecordError(f"a figure's style is {', '.join(_STYLE)}, not {', '.join(unknown)}")
    return FigureStyle(**given)
