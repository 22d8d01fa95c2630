"""BibTeX for the analyses behind an export, and LaTeX tables of query results.

An analysis's citation is free text stored with it. Where that text names a work of
`works.bib` (the papers and tools whose data circuitbase reads, recognised by arXiv id
or name), the export writes that work's real entry, under one key however many analyses
cite it. A citation that is itself a BibTeX entry is written anew from its parsed fields
(`schema.bibtex`), under its own key even where it reused a shipped one; a DOI or an arXiv id
becomes an entry with that identifier; other text becomes a `@misc` whose title is the
text. Everything taken from the store is escaped for LaTeX.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from ..schema.bibtex import SAFE_KEY, format_entry, parse_entry
from ..schema.graph import NodeLabel
from ..schema.records import RecordError
from ..store.base import GraphStore, Row

_ARXIV = re.compile(r"(?:arXiv[:\s]*|arxiv\.org/abs/)(\d{4}\.\d{4,5})", re.IGNORECASE)
_BARE_ARXIV = re.compile(r"^\s*(\d{4}\.\d{4,5})(?:v\d+)?\s*$")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)")
_BIBTEX_ENTRY = re.compile(r"^\s*@(\w+)\s*\{\s*([^,\s{}]+)\s*,", re.S)
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_LATEX_SPECIAL = {
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}


@dataclass(frozen=True)
class Work:
    key: str
    entry: str  # as exported
    markers: tuple[str, ...]  # arXiv ids or names that identify it in a citation's text


def _load_works() -> tuple[Work, ...]:
    """The entries of `works.bib`, each without its `markers` field."""
    text = (Path(__file__).parent / "works.bib").read_text()
    works = []
    for chunk in re.split(r"(?m)^(?=@)", text)[1:]:
        entry_start = _BIBTEX_ENTRY.match(chunk)
        markers = re.search(r"(?m)^\s*markers = \{(.*)\}\s*$", chunk)
        if entry_start is None or markers is None:
            raise ValueError(f"works.bib: an entry without a key or markers: {chunk[:60]!r}")
        key = entry_start.group(2)
        entry = chunk[: markers.start()].rstrip().rstrip(",") + "\n}\n"
        works.append(Work(key, entry, tuple(m.strip() for m in markers.group(1).split(";"))))
    return tuple(works)


WORKS: tuple[Work, ...] = _load_works()
SHIPPED_KEYS = frozenset(work.key for work in WORKS)


def latex_escape(value: Any) -> str:
    if isinstance(value, float):
        value = f"{value:.3g}"
    elif isinstance(value, list):
        value = ", ".join(map(str, value))
    text = "" if value is None else str(value)
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def _format(kind: str, key: str, fields: dict[str, str]) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@{kind}{{{key},\n{body}\n}}\n"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "analysis"


def entries_for(row: Row) -> list[tuple[str, str]]:
    """(key, entry) of every work an analysis's citation names; one of its own where the
    text names none it knows."""
    citation = (row.get("citation") or "").strip()
    known = [w for w in WORKS if any(m.lower() in citation.lower() for m in w.markers)]
    if known:
        return [(w.key, w.entry) for w in known]
    if citation.startswith("@"):
        try:  # written anew from its parsed fields, never as stored (see schema.bibtex)
            entry = parse_entry(citation)
        except ValueError:
            entry = None  # stored by an older version without these checks: cited as text
        if entry is not None:
            key = entry.key
            if key in SHIPPED_KEYS:  # the shipped work keeps its key; the user's entry its own
                key = f"{key}-{hashlib.sha256(citation.encode()).hexdigest()[:6]}"
            return [(key, format_entry(entry, key))]
    # the entry depends on the citation alone, so analyses citing one work share one entry
    fields: dict[str, str] = {}
    year = _YEAR.search(citation) if citation else _YEAR.search(row.get("created_at") or "")
    if (doi := _DOI.search(citation)) is not None:
        key = "doi-" + _slug(doi.group(1))
        fields |= {"doi": doi.group(1), "url": f"https://doi.org/{doi.group(1)}"}
    elif (arxiv := _ARXIV.search(citation) or _BARE_ARXIV.match(citation)) is not None:
        key = "arxiv-" + arxiv.group(1)
        fields |= {
            "eprint": arxiv.group(1),
            "archivePrefix": "arXiv",
            "url": f"https://arxiv.org/abs/{arxiv.group(1)}",
        }
    elif citation:
        key = "cite-" + hashlib.sha256(citation.encode()).hexdigest()[:10]
    else:
        key = "circuitbase-" + _slug(row["uid"])
    if _BARE_ARXIV.match(citation):
        title = f"arXiv:{citation.strip()}"
    else:
        title = (
            citation
            or f"circuitbase analysis {row['uid']} ({row.get('method') or 'no method given'})"
        )
    fields = {"title": latex_escape(title), **fields}
    if not citation:
        fields["note"] = latex_escape(f"circuitbase analysis {row['uid']}, no citation given")
    if year is not None:
        fields["year"] = year.group(0)
    return [(key, _format("misc", key, fields))]


def analyses_in(graph: nx.MultiDiGraph) -> set[str]:
    """Every analysis that contributed a node or an edge to the subgraph."""
    used = {attrs["analysis"] for _, _, attrs in graph.edges(data=True) if attrs.get("analysis")}
    used |= {
        attrs["uid"]
        for _, attrs in graph.nodes(data=True)
        if NodeLabel.ANALYSIS.value in attrs.get("labels", [])
    }
    return used | set(graph.graph.get("analyses", ()))  # behind a template's rows (from_rows)


def citation_keys(store: GraphStore, analysis_uids: Iterable[str]) -> dict[str, str]:
    """Key -> BibTeX entry of every work these analyses cite, one entry per work."""
    found: dict[str, str] = {}
    for row in store.analyses(set(analysis_uids)):
        for key, entry in entries_for(row):
            if found.get(key, entry) != entry:  # two users' entries under one key: two works
                key, entry = _rekeyed(key, entry)
            found.setdefault(key, entry)
    return dict(sorted(found.items()))


def _rekeyed(key: str, entry: str) -> tuple[str, str]:
    new = f"{key}-{hashlib.sha256(entry.encode()).hexdigest()[:6]}"
    return new, entry.replace(key, new, 1)


def bibtex(store: GraphStore, analysis_uids: Iterable[str]) -> str:
    return "\n".join(citation_keys(store, analysis_uids).values())


WRAP_AFTER = 24  # characters: a text column with longer cells wraps (tabularx X column)
# An article's text width and a \small character, to tell a table that cannot fit as it is.
TEXT_WIDTH_PT, CHAR_PT, COLUMN_SEP_PT = 345.0, 4.6, 6.0


def _header(column: str, numeric: bool) -> str:
    """A column's name; a number column's words stacked, so its width is its numbers'."""
    words = [latex_escape(w) for w in column.split("_")]
    if numeric and len(words) > 1:
        return r"\shortstack[r]{" + r"\\".join(words) + "}"
    return " ".join(words)


def _breakable(text: str) -> str:
    """A uid or a dataset name may break after `/`, `.` or `_` in a wrapped column (it has
    no spaces to break at)."""
    for mark in ("/", ".", r"\_"):
        text = text.replace(mark, mark + r"\allowbreak{}")
    return text


def _plain(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value or "")


def latex_table(
    rows: Sequence[Row],
    caption: str | None = None,
    cite: Sequence[str] = (),
    label: str | None = None,
) -> str:
    """A booktabs table of `rows` with its caption (which cites `cite`) above it, as wide
    as the text at most (long text columns wrap; the document loads booktabs and
    tabularx)."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = [r"\begin{table}[t]", r"\centering", r"\small"]
    if caption or cite:
        text = latex_escape(caption or "")
        if cite:
            unsafe = [key for key in cite if SAFE_KEY.fullmatch(key) is None]
            if unsafe:  # every key is made safe where it is made; this is the last guard
                raise RecordError(f"citation key {unsafe[0][:60]!r} cannot be written in \\cite")
            text += (" " if text else "") + r"Data: \cite{" + ",".join(cite) + "}."
        lines.append(r"\caption{" + text + "}")
    if label:
        lines.append(r"\label{" + re.sub(r"[^A-Za-z0-9:_-]", "-", label) + "}")
    numeric = {
        c
        for c in columns
        if rows
        and all(
            isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
            for r in rows
            if r.get(c) is not None
        )
    }
    # Text that may not fit (lists of models, uids, descriptions) wraps within the text
    # width: tabularx's X columns, ragged right; a table of short cells keeps its natural
    # width. A wide table wraps every text column, in a smaller font.
    longest = {c: max([len(c)] + [len(_plain(r.get(c))) for r in rows]) for c in columns}
    wide = sum(longest.values()) * CHAR_PT + 2 * COLUMN_SEP_PT * len(columns) > TEXT_WIDTH_PT
    wraps = {
        c
        for c in columns
        if c not in numeric and (longest[c] > WRAP_AFTER or (wide and longest[c] > len(c) + 2))
    }
    if wide:
        lines[2] = r"\footnotesize"
        lines.insert(3, r"\setlength{\tabcolsep}{3pt}")
    align = "".join(
        "r" if c in numeric else r">{\raggedright\arraybackslash}X" if c in wraps else "l"
        for c in columns
    )
    begin, end = (
        (r"\begin{tabularx}{\linewidth}{" + align + "}", r"\end{tabularx}")
        if wraps
        else (r"\begin{tabular}{" + align + "}", r"\end{tabular}")
    )
    lines += [
        begin,
        r"\toprule",
        " & ".join(_header(c, c in numeric) for c in columns) + r" \\",
        r"\midrule",
    ]
    lines += [
        " & ".join(
            _breakable(latex_escape(row.get(c))) if c in wraps else latex_escape(row.get(c))
            for c in columns
        )
        + r" \\"
        for row in rows
    ]
    lines += [r"\bottomrule", end, r"\end{table}"]
    return "\n".join(lines) + "\n"
