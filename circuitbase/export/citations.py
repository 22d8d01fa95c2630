"""BibTeX for the analyses behind an export, and LaTeX tables of query results.

An analysis's citation is free text stored with it. Where that text names a work this
module knows (the papers and tools whose data circuitbase reads, recognised by arXiv id
or name), the export writes that work's real entry, under one key however many analyses
cite it. A citation that is itself a BibTeX entry is kept as given; a DOI or an arXiv id
becomes an entry with that identifier; other text becomes a `@misc` whose title is the
text. Everything taken from the store is escaped for LaTeX.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from ..schema.graph import NodeLabel
from ..schema.records import RecordError
from ..store.base import GraphStore, Row

_ARXIV = re.compile(r"(?:arXiv[:\s]*|arxiv\.org/abs/)(\d{4}\.\d{4,5})", re.IGNORECASE)
_BARE_ARXIV = re.compile(r"^\s*(\d{4}\.\d{4,5})(?:v\d+)?\s*$")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)")
_BIBTEX_ENTRY = re.compile(r"^\s*@(\w+)\s*\{\s*([^,\s{}]+)\s*,", re.S)
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                  "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "\\": r"\textbackslash{}"}
VERBATIM_FIELDS = {"url", "doi", "eprint"}  # identifiers: never escaped


@dataclass(frozen=True)
class Work:
    key: str
    kind: str
    fields: dict[str, str]
    markers: tuple[str, ...]  # arXiv ids or names that identify it in a citation's text

    def bibtex(self) -> str:
        return _format(self.kind, self.key, self.fields)


def _arxiv(key: str, eprint: str, **fields: str) -> Work:
    return Work(key, fields.pop("kind", "article"),
                {**fields, "eprint": eprint, "archivePrefix": "arXiv",
                 "url": f"https://arxiv.org/abs/{eprint}"}, (eprint,))


WORKS: tuple[Work, ...] = (
    _arxiv("gurnee2023finding", "2305.01610",
           author="Gurnee, Wes and Nanda, Neel and Pauly, Matthew and Harvey, Katherine and "
                  "Troitskii, Dmitrii and Bertsimas, Dimitris",
           title="Finding Neurons in a Haystack: Case Studies with Sparse Probing",
           journal="Transactions on Machine Learning Research", year="2023"),
    _arxiv("gurnee2024universal", "2401.12181",
           author="Gurnee, Wes and Horsley, Theo and Guo, Zifan Carl and Kheirkhah, Tara Rezaei "
                  "and Sun, Qinyi and Hathaway, Will and Nanda, Neel and Bertsimas, Dimitris",
           title="Universal Neurons in {GPT2} Language Models",
           journal="Transactions on Machine Learning Research", year="2024"),
    _arxiv("foote2023neuron", "2305.19911",
           author="Foote, Alex and Nanda, Neel and Kran, Esben and Konstas, Ioannis and "
                  "Cohen, Shay and Barez, Fazl",
           title="Neuron to Graph: Interpreting Language Model Neurons at Scale", year="2023",
           kind="misc"),
    _arxiv("foote2023n2g", "2304.12918",
           author="Foote, Alex and Nanda, Neel and Kran, Esben and Konstas, Ioannis and Barez, Fazl",
           title="{N2G}: A Scalable Approach for Quantifying Interpretable Neuron "
                 "Representations in Large Language Models", year="2023", kind="misc"),
    _arxiv("conmy2023towards", "2304.14997",
           author="Conmy, Arthur and Mavor-Parker, Augustine N. and Lynch, Aengus and "
                  "Heimersheim, Stefan and Garriga-Alonso, Adri{\\`a}",
           title="Towards Automated Circuit Discovery for Mechanistic Interpretability",
           booktitle="Advances in Neural Information Processing Systems", year="2023",
           kind="inproceedings"),
    _arxiv("wang2023interpretability", "2211.00593",
           author="Wang, Kevin and Variengien, Alexandre and Conmy, Arthur and Shlegeris, Buck "
                  "and Steinhardt, Jacob",
           title="Interpretability in the Wild: a Circuit for Indirect Object Identification "
                 "in {GPT-2} small",
           booktitle="International Conference on Learning Representations", year="2023",
           kind="inproceedings"),
    _arxiv("hanna2023how", "2305.00586",
           author="Hanna, Michael and Liu, Ollie and Variengien, Alexandre",
           title="How does {GPT-2} compute greater-than?: Interpreting mathematical abilities "
                 "in a pre-trained language model",
           booktitle="Advances in Neural Information Processing Systems", year="2023",
           kind="inproceedings"),
    _arxiv("olsson2022context", "2209.11895",
           author="Olsson, Catherine and Elhage, Nelson and Nanda, Neel and Joseph, Nicholas "
                  "and DasSarma, Nova and Henighan, Tom and Mann, Ben and Askell, Amanda and "
                  "Bai, Yuntao and Chen, Anna and others",
           title="In-context Learning and Induction Heads", journal="Transformer Circuits Thread",
           year="2022"),
    Work("nanda2022transformerlens", "misc",
         {"author": "Nanda, Neel and Bloom, Joseph", "title": "{TransformerLens}", "year": "2022",
          "url": "https://github.com/TransformerLensOrg/TransformerLens"}, ("TransformerLens",)),
    Work("ameisen2025circuit", "article",
         {"author": "Ameisen, Emmanuel and Lindsey, Jack and Pearce, Adam and Gurnee, Wes and "
                    "Turner, Nicholas L. and Chen, Brian and Citro, Craig and others",
          "title": "Circuit Tracing: Revealing Computational Graphs in Language Models",
          "journal": "Transformer Circuits Thread", "year": "2025",
          "url": "https://transformer-circuits.pub/2025/attribution-graphs/methods.html"},
         ("Circuit Tracing: Revealing",)),
    Work("hanna2025circuittracer", "misc",
         {"author": "Hanna, Michael and Piotrowski, Mateusz", "title": "circuit-tracer",
          "year": "2025", "url": "https://github.com/decoderesearch/circuit-tracer"},
         ("circuit-tracer",)),
    Work("lin2023neuronpedia", "misc",
         {"author": "Lin, Johnny", "title": "Neuronpedia: Interactive Reference and Tooling for "
                                            "Analyzing Neural Networks",
          "year": "2023", "url": "https://www.neuronpedia.org"}, ("Neuronpedia",)),
)


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


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "analysis"


def entries_for(row: Row) -> list[tuple[str, str]]:
    """(key, entry) of every work an analysis's citation names; one of its own where the
    text names none it knows."""
    citation = (row.get("citation") or "").strip()
    known = [w for w in WORKS if any(m.lower() in citation.lower() for m in w.markers)]
    if known:
        return [(w.key, w.bibtex()) for w in known]
    if (given := _BIBTEX_ENTRY.match(citation)) is not None:
        if not _balanced(citation):
            raise RecordError(f"analysis {row['uid']}: its BibTeX citation has unbalanced braces")
        return [(given.group(2), citation.rstrip() + "\n")]
    fields: dict[str, str] = {}
    year = _YEAR.search(citation) or _YEAR.search(row.get("created_at") or "")
    if (doi := _DOI.search(citation)) is not None:
        key = "doi-" + _slug(doi.group(1))
        fields |= {"doi": doi.group(1), "url": f"https://doi.org/{doi.group(1)}"}
    elif (arxiv := _ARXIV.search(citation) or _BARE_ARXIV.match(citation)) is not None:
        key = "arxiv-" + arxiv.group(1)
        fields |= {"eprint": arxiv.group(1), "archivePrefix": "arXiv",
                   "url": f"https://arxiv.org/abs/{arxiv.group(1)}"}
    elif citation:  # the same text under one key, whichever analyses cite it
        key = "cite-" + hashlib.sha256(citation.encode()).hexdigest()[:10]
    else:
        key = "circuitbase-" + _slug(row["uid"])
    title = citation or f"circuitbase analysis {row['uid']} ({row.get('method') or 'no method given'})"
    fields = {"title": latex_escape(title), **fields,
              "note": latex_escape(f"circuitbase analysis {row['uid']}")}
    if year is not None:
        fields["year"] = year.group(0)
    return [(key, _format("misc", key, fields))]


def analyses_in(graph: nx.MultiDiGraph) -> set[str]:
    """Every analysis that contributed a node or an edge to the subgraph."""
    used = {attrs["analysis"] for _, _, attrs in graph.edges(data=True) if attrs.get("analysis")}
    used |= {attrs["uid"] for _, attrs in graph.nodes(data=True)
             if NodeLabel.ANALYSIS.value in attrs.get("labels", [])}
    return used


def citation_keys(store: GraphStore, analysis_uids: Iterable[str]) -> dict[str, str]:
    """Key -> BibTeX entry of every work these analyses cite, one entry per work."""
    found: dict[str, str] = {}
    for row in store.analyses(set(analysis_uids)):
        for key, entry in entries_for(row):
            found.setdefault(key, entry)
    return dict(sorted(found.items()))


def bibtex(store: GraphStore, analysis_uids: Iterable[str]) -> str:
    return "\n".join(citation_keys(store, analysis_uids).values())


def latex_table(rows: Sequence[Row], caption: str | None = None, cite: Sequence[str] = (),
                label: str | None = None) -> str:
    """A booktabs table of `rows` with its caption (which cites `cite`) above it."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = [r"\begin{table}[t]", r"\centering", r"\small"]
    if caption or cite:
        text = latex_escape(caption or "")
        if cite:
            text += (" " if text else "") + r"Data: \cite{" + ",".join(cite) + "}."
        lines.append(r"\caption{" + text + "}")
    if label:
        lines.append(r"\label{" + re.sub(r"[^A-Za-z0-9:_-]", "-", label) + "}")
    align = "".join("r" if all(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
                               for r in rows if r.get(c) is not None) and rows else "l"
                    for c in columns)
    lines += [r"\begin{tabular}{" + align + "}", r"\toprule",
              " & ".join(latex_escape(c.replace("_", " ")) for c in columns) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(row.get(c)) for c in columns) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"
