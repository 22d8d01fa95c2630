"""Subgraph export for papers and other tools.

    from circuitbase.export import subgraph
    graph = subgraph(store, around="gpt2-small/L5/H1", hops=2)   # a networkx.MultiDiGraph
    graph = subgraph(store, template="concept_neurons", params={"concept": "fr"})

`write(store, graph, fmt, path)` writes it as GraphML, GEXF, node-link JSON, CSV, a
Cypher script or a figure, plus a BibTeX file of the analyses behind it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx

from ..queries import get_template
from ..schema.graph import NodeLabel, RelType
from ..schema.records import RecordError
from ..store.base import GraphStore
from . import formats
from .cypher_script import write_cypher
from .citations import analyses_in, bibtex, latex_table
from .figure import write_figure
from .subgraph import around as _around
from .subgraph import from_rows

GRAPH_FORMATS = ("graphml", "gexf", "json", "csv", "cypher", "svg", "png")
FORMATS = (*GRAPH_FORMATS, "latex")


def subgraph(store: GraphStore, *, template: str | None = None,
             params: dict[str, Any] | None = None, around: str | None = None, hops: int = 1,
             labels: Sequence[NodeLabel] = (), rel_types: Sequence[RelType] = (),
             model: str | None = None, analysis: str | None = None) -> nx.MultiDiGraph:
    """The subgraph a template's results name, or the neighbourhood of `around`."""
    if (template is None) == (around is None):
        raise RecordError("export needs either a query template or --around UID, not both")
    if around is not None:
        return _around(store, around, hops, rel_types=rel_types, labels=labels, model=model,
                       analysis=analysis)
    found = get_template(template)
    bound = found.bind(params or {})
    return from_rows(store, found.run(store, **(params or {})), bound)


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A staging name for `path` in a private folder beside it: every file written there
    replaces its namesake beside `path` only when the block finishes, so an export that is
    killed or fails leaves the previous files whole."""
    path = Path(path)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".circuitbase-export-") as tmp:
        yield Path(tmp) / path.name
        for staged in sorted(Path(tmp).iterdir()):
            os.replace(staged, path.parent / staged.name)


def write(store: GraphStore, graph: nx.MultiDiGraph, fmt: str, path: Path,
          title: str | None = None) -> list[Path]:
    """Write `graph` as `fmt` to `path`, and the BibTeX of its analyses beside it; the
    files appear together when all are written (see `replacing`)."""
    path = Path(path)
    with replacing(path) as staged:
        written = _write(store, graph, fmt, staged, title)
    return [path.parent / p.name for p in written]


def _write(store: GraphStore, graph: nx.MultiDiGraph, fmt: str, path: Path,
           title: str | None) -> list[Path]:
    if fmt == "csv":
        written = list(formats.write_csv(graph, path))
    elif fmt in ("svg", "png"):
        write_figure(graph, path, title)
        written = [path]
    else:
        writer = {"graphml": formats.write_graphml, "gexf": formats.write_gexf,
                  "json": formats.write_json, "cypher": write_cypher}[fmt]
        writer(graph, path)
        written = [path]
    return written + write_bibtex(store, graph, path)


def write_bibtex(store: GraphStore, graph: nx.MultiDiGraph, path: Path) -> list[Path]:
    used = analyses_in(graph)
    if not used:
        return []
    bib = Path(path).with_suffix(".bib")
    bib.write_text(bibtex(store, used))
    return [bib]


__all__ = ["FORMATS", "GRAPH_FORMATS", "latex_table", "subgraph", "write", "write_bibtex"]
