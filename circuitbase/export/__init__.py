"""Subgraph export for papers and other tools.

    from circuitbase.export import subgraph
    graph = subgraph(store, around="gpt2-small/L5/H1", hops=2)   # a networkx.MultiDiGraph
    graph = subgraph(store, template="concept_neurons", params={"concept": "fr"})

`write(store, graph, fmt, path)` writes it as GraphML, GEXF, node-link JSON, CSV, a
Cypher script or a figure, plus a BibTeX file of the analyses behind it. In a notebook:

    from circuitbase.export import FigureStyle, figure, SINGLE_COLUMN
    fig = figure(store, graph, style=FigureStyle(width=SINGLE_COLUMN, font_size=7))
    fig.savefig("n897.pdf")                        # a matplotlib Figure
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx

from ..queries import get_template
from ..schema.graph import NodeLabel, RelType
from ..schema.records import RecordError
from ..store.base import GraphStore
from . import formats
from .citations import analyses_in, bibtex, citation_keys, latex_table
from .cypher_script import write_cypher
from .figure import (
    DOUBLE_COLUMN,
    FIGURE_FORMATS,
    SINGLE_COLUMN,
    FigureStyle,
    draw,
    graph_models,
    model_size,
    write_figure,
)
from .subgraph import around as _around
from .subgraph import from_rows, of_analysis, with_their_analyses

GRAPH_FORMATS = ("graphml", "gexf", "json", "csv", "cypher", *FIGURE_FORMATS)
FORMATS = (*GRAPH_FORMATS, "latex")


def subgraph(
    store: GraphStore,
    *,
    template: str | None = None,
    params: dict[str, Any] | None = None,
    around: str | None = None,
    hops: int = 1,
    labels: Sequence[NodeLabel] = (),
    rel_types: Sequence[RelType] = (),
    model: str | None = None,
    analysis: str | None = None,
    expand_structural: bool = False,
) -> nx.MultiDiGraph:
    """The subgraph a template's results name, the neighbourhood of `around` (see
    `subgraph.around` for `expand_structural`), or, given only `analysis`, what that
    analysis found (a circuit: its nodes and edges)."""
    if template is not None and around is not None:
        raise RecordError("export needs either a query template or --around UID, not both")
    if template is None and around is None:
        if analysis is None:
            raise RecordError("export needs a query template, --around UID or --analysis UID")
        return of_analysis(store, analysis)
    if around is not None:
        return _around(
            store,
            around,
            hops,
            rel_types=rel_types,
            labels=labels,
            model=model,
            analysis=analysis,
            expand_structural=expand_structural,
        )
    assert template is not None  # neither `around` nor only `analysis`
    found = get_template(template)
    bound = found.bind(params or {})
    return from_rows(store, found.run(store, **(params or {})), bound)


BIB_MARK = "% written by circuitbase export"
# The first bytes of each kind of companion file circuitbase writes beside the file named.
_OWN_STARTS = {".bib": (BIB_MARK,), ".csv": ("id,", "id\r", "source,target")}


def written_by_circuitbase(path: Path) -> bool:
    """Whether an existing companion file (a `.bib` beside a figure, a CSV's node and edge
    tables) is one circuitbase wrote, and so one an export may write again."""
    starts = _OWN_STARTS.get(path.suffix.lower(), ())
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return any(head.startswith(start) for start in starts)


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A staging name for `path` in a private folder beside it: every file written there
    replaces its namesake beside `path` only when the block finishes, so an export that is
    killed or fails leaves the previous files whole. A companion file (any but `path`)
    never replaces a file circuitbase did not write (a paper's own `.bib`): then nothing
    is written."""
    path = Path(path)
    if not path.parent.is_dir():
        raise RecordError(f"cannot write {path}: {path.parent} is not a directory")
    _refuse_what_is_not_a_file(path)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".circuitbase-export-") as tmp:
        yield Path(tmp) / path.name
        staged_files = sorted(Path(tmp).iterdir())
        for staged in staged_files:
            target = path.parent / staged.name
            if (
                staged.name != path.name
                and os.path.lexists(target)
                and not written_by_circuitbase(target)
            ):
                raise RecordError(
                    f"{target} exists and was not written by circuitbase; the "
                    f"export would replace it: move it or choose another --out "
                    "(nothing written)"
                )
        for staged in staged_files:
            _refuse_what_is_not_a_file(path.parent / staged.name)
        for staged in staged_files:
            os.replace(staged, path.parent / staged.name)


_NOT_FILES = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISFIFO, "a FIFO"),
)


def _refuse_what_is_not_a_file(path: Path) -> None:
    """An export replaces a regular file, never what stands at the path otherwise: a
    symbolic link (replacing it would leave its target as it was, or follow it
    elsewhere), a device such as /dev/null (replacing it as root replaces the machine's
    device), a FIFO, a socket."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as err:
        raise RecordError(f"cannot write {path}: {err.strerror}") from None
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _NOT_FILES if test(mode)), "not a regular file")
        raise RecordError(
            f"{path} is {kind}; an export writes regular files only: choose another --out "
            "(nothing written)"
        )


# the suffix each format's file takes (csv writes <stem>.nodes.csv and <stem>.edges.csv)
SUFFIXES = {fmt: f".{fmt}" for fmt in FORMATS} | {"latex": ".tex"}


def check_destination(fmt: str, path: Path) -> None:
    """`--out`'s suffix must be the format's (`--format png --out x.pdf` would write a PNG
    named .pdf); a name without a suffix takes any format."""
    suffix = Path(path).suffix.lower()
    if suffix and suffix != SUFFIXES[fmt]:
        raise RecordError(
            f"--out {path} ends in {suffix}, but --format {fmt} writes a {SUFFIXES[fmt]} file: "
            f"make them agree (nothing written)"
        )


def model_sizes(store: GraphStore, names: Sequence[str]) -> dict[str, float]:
    """Parameters of each named model (stored, from its shape, or from its name)."""
    found = {row["uid"]: model_size(row["uid"], row) for row in store.models(sorted(names))}
    return {name: found.get(name, model_size(name)) for name in names}


def figure(
    store: GraphStore,
    graph: nx.MultiDiGraph,
    title: str | None = None,
    style: FigureStyle | None = None,
):
    """The figure of `graph` as a matplotlib Figure (models ordered by the store's sizes)."""
    return draw(graph, title, style, model_sizes(store, sorted(graph_models(graph))))


def write(
    store: GraphStore,
    graph: nx.MultiDiGraph,
    fmt: str,
    path: Path,
    title: str | None = None,
    style: FigureStyle | None = None,
) -> list[Path]:
    """Write `graph` as `fmt` to `path`, and the BibTeX of its analyses beside it; the
    files appear together when all are written (see `replacing`). Returns the paths
    written, as they are."""
    path = Path(path)
    with replacing(path) as staged:
        written = _write(store, graph, fmt, staged, title, style)
    return [path.parent / p.name for p in written]


def _write(
    store: GraphStore,
    graph: nx.MultiDiGraph,
    fmt: str,
    path: Path,
    title: str | None,
    style: FigureStyle | None,
) -> list[Path]:
    if fmt == "csv":
        written = list(formats.write_csv(graph, path))
    elif fmt in FIGURE_FORMATS:
        written = [
            write_figure(
                graph, path, title, style, model_sizes(store, sorted(graph_models(graph))), fmt=fmt
            )
        ]
    else:
        writer = {
            "graphml": formats.write_graphml,
            "gexf": formats.write_gexf,
            "json": formats.write_json,
            "cypher": write_cypher,
        }[fmt]
        if fmt in ("graphml", "cypher"):  # read back by `import`: each fact's analysis too
            graph = with_their_analyses(store, graph)
        writer(graph, path)
        written = [path]
    return written + write_bibtex(store, graph, path)


def table_caption(template: str, description: str, params: dict[str, Any]) -> str:
    """The template's description with each parameter's name replaced by its value, so a
    caption reads "F1 at or above 0.95 in at least 4 models", not "min_score"."""
    caption = description
    for name, value in sorted(params.items(), key=lambda item: -len(item[0])):
        shown = "any" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        caption = re.sub(rf"\b{re.escape(name)}\b", shown, caption)
    return caption


def write_table(
    store: GraphStore, template: str, params: dict[str, Any], path: Path, title: str | None = None
) -> list[Path]:
    """A template's rows as a booktabs LaTeX table whose caption cites the works behind
    them, and that BibTeX beside it. Lists of models are ordered by size."""
    found = get_template(template)
    bound = found.bind(params)
    rows = found.run(store, **params)
    known = {row["uid"] for row in store.models()}
    sizes = model_sizes(store, sorted(known))
    for row in rows:
        for column, value in row.items():
            if isinstance(value, list) and value and all(v in known for v in value):
                row[column] = sorted(value, key=lambda m: (sizes[m], m))
    graph = from_rows(store, rows, bound)
    keys = citation_keys(store, analyses_in(graph))
    path = Path(path)
    with replacing(path) as staged:
        staged.write_text(
            latex_table(
                rows,
                title or table_caption(template, found.description, bound),
                cite=list(keys),
                label=f"tab:{template}",
            )
        )
        written = [staged] + write_bibtex(store, graph, staged)
    return [path.parent / p.name for p in written]


def write_bibtex(store: GraphStore, graph: nx.MultiDiGraph, path: Path) -> list[Path]:
    return _write_bib(store, analyses_in(graph), path)


def write_heads(
    store: GraphStore, model: str, fmt: str, path: Path, style: FigureStyle | None = None
) -> list[Path]:
    """A model's heads as heatmaps (one per metric and role, `heatmap.py`), and the
    BibTeX of the analyses they show beside it."""
    from .heatmap import write_heatmaps

    path = Path(path)
    with replacing(path) as staged:
        figure, analyses = write_heatmaps(store, model, staged, fmt, style)
        written = [figure] + _write_bib(store, analyses, staged)
    return [path.parent / p.name for p in written]


def write_trajectory_figure(
    store: GraphStore,
    model: str,
    fmt: str,
    path: Path,
    *,
    metric: str | None = None,
    role: str | None = None,
    source: str | None = None,
    min_score: float = 0.3,
    style: FigureStyle | None = None,
) -> list[Path]:
    """A model's heads over its training checkpoints (`trajectory.py`), and the BibTeX
    of the analyses they show beside it."""
    from .trajectory import trajectory, write_trajectory

    found = trajectory(store, model, metric=metric, role=role, source=source)
    path = Path(path)
    with replacing(path) as staged:
        written = [write_trajectory(found, min_score, staged, fmt, style)]
        written += _write_bib(store, found.analyses, staged)
    return [path.parent / p.name for p in written]


def _write_bib(store: GraphStore, used: Iterable[str], path: Path) -> list[Path]:
    used = set(used)
    if not used:
        return []
    bib = Path(path).with_suffix(".bib")
    bib.write_text(
        f"{BIB_MARK} (replaced by the next export to this name)\n\n" + bibtex(store, used)
    )
    return [bib]


__all__ = [
    "DOUBLE_COLUMN",
    "FORMATS",
    "GRAPH_FORMATS",
    "SINGLE_COLUMN",
    "FigureStyle",
    "bibtex",
    "figure",
    "latex_table",
    "subgraph",
    "write",
    "write_bibtex",
    "write_heads",
    "write_table",
]
