"""BibTeX for the analyses behind an export, and LaTeX tables of query results."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import networkx as nx

from ..schema.graph import NodeLabel
from ..store.base import GraphStore, Row

_ARXIV = re.compile(r"arXiv[:\s]*(\d{4}\.\d{4,5})", re.IGNORECASE)
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                  "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "\\": r"\textbackslash{}"}


def analyses_in(graph: nx.MultiDiGraph) -> set[str]:
    """Every analysis that contributed a node or an edge to the subgraph."""
    used = {attrs["analysis"] for _, _, attrs in graph.edges(data=True) if attrs.get("analysis")}
    used |= {attrs["uid"] for _, attrs in graph.nodes(data=True)
             if NodeLabel.ANALYSIS.value in attrs.get("labels", [])}
    return used


def bibtex(store: GraphStore, analysis_uids: set[str]) -> str:
    rows = store.analyses(analysis_uids)
    return "\n".join(_entry(row) for row in rows)


def _bib_escape(text: str) -> str:
    return text.replace("{", "(").replace("}", ")")


def _entry(row: Row) -> str:
    key = re.sub(r"[^A-Za-z0-9]+", "-", row["uid"]).strip("-")
    citation = row.get("citation") or ""
    fields = {"title": f"{row['uid']} ({row.get('method') or 'analysis'})",
              "note": citation or "circuitbase analysis without a citation",
              "keywords": ", ".join(sorted(row.get("models") or []))}
    if (arxiv := _ARXIV.search(citation)) is not None:
        fields |= {"eprint": arxiv.group(1), "archivePrefix": "arXiv",
                   "url": f"https://arxiv.org/abs/{arxiv.group(1)}"}
    if (year := _YEAR.search(citation) or _YEAR.search(row.get("created_at") or "")) is not None:
        fields["year"] = year.group(0)
    body = ",\n".join(f"  {name} = {{{_bib_escape(str(value))}}}" for name, value in fields.items())
    return f"@misc{{{key},\n{body}\n}}\n"


def latex_escape(value: Any) -> str:
    if isinstance(value, float):
        value = f"{value:.3g}"
    elif isinstance(value, list):
        value = ", ".join(map(str, value))
    text = "" if value is None else str(value)
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def latex_table(rows: Sequence[Row], caption: str | None = None) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{" + "l" * len(columns) + "}",
             r"\hline", " & ".join(latex_escape(c) for c in columns) + r" \\", r"\hline"]
    lines += [" & ".join(latex_escape(row.get(c)) for c in columns) + r" \\" for row in rows]
    lines += [r"\hline", r"\end{tabular}"]
    if caption:
        lines.append(r"\caption{" + latex_escape(caption) + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
