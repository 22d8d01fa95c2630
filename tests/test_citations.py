"""Citations a paper can use as they come out (issue #20): every exported .bib parsed by a
real BibTeX parser (pybtex), one key per work, everything escaped, LaTeX tables that
compile with their bibliography."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import cli
from pybtex.database import parse_file, parse_string

from circuitbase.export import bibtex, subgraph, write
from circuitbase.ingest.pipeline import ingest_files
from circuitbase.sources.circuits import circuit_records
from circuitbase.sources.probes import probe_records

EXAMPLES = Path(__file__).parent.parent / "circuitbase" / "examples"
PROBES = sorted((EXAMPLES / "probes").glob("*.csv"))
CIRCUITS = sorted((EXAMPLES / "circuits").glob("*.json"))
HEADS = EXAMPLES / "head-metrics" / "openai-community-gpt2-monology-pile-uncopyrighted.json"
SIZES = ["pythia-70m", "pythia-160m", "pythia-410m", "pythia-1b"]


@pytest.fixture
def shipped(store, store_uri):
    ingest_files(store, PROBES, probe_records)
    ingest_files(store, CIRCUITS, circuit_records)
    assert cli(store_uri, "ingest", "heads", str(HEADS))[0] == 0
    return store


def test_shipped_analyses_get_their_papers_real_entries_one_key_per_work(shipped, tmp_path) -> None:
    probes = subgraph(shipped, template="single_neuron_concepts", params={"min_models": 4})
    circuit = subgraph(shipped, analysis="acdc-canonical/gpt2-small/ioi")
    heads = subgraph(shipped, around="gpt2-small/L5/H5", hops=1)
    for name, graph in (("probes", probes), ("ioi", circuit), ("heads", heads)):
        write(shipped, graph, "graphml", tmp_path / f"{name}.graphml")
    bib = parse_file(str(tmp_path / "probes.bib"))
    assert list(bib.entries) == ["gurnee2023finding"]  # four analyses, one paper
    paper = bib.entries["gurnee2023finding"]
    assert paper.type == "article" and paper.fields["year"] == "2023"
    assert [p.last_names[0] for p in paper.persons["author"]][:2] == ["Gurnee", "Nanda"]
    assert paper.fields["eprint"] == "2305.01610" and "Haystack" in paper.fields["title"]
    ioi = parse_file(str(tmp_path / "ioi.bib"))
    assert set(ioi.entries) == {"wang2023interpretability", "conmy2023towards"}
    assert ioi.entries["conmy2023towards"].fields["eprint"] == "2304.14997"
    head = parse_file(str(tmp_path / "heads.bib"))
    # L5H5: an IOI induction head, and Neuronpedia's head metrics
    assert {"lin2023neuronpedia", "wang2023interpretability", "conmy2023towards"} <= set(
        head.entries
    )
    every = bibtex(
        shipped, [r["uid"] for r in shipped.read("MATCH (a:Analysis) RETURN a.uid AS uid")]
    )
    keys = re.findall(r"^@\w+\{([^,]+),", every, re.M)
    assert len(keys) == len(set(keys)) == len(parse_string(every, "bibtex").entries)


def probe_file(path: Path, uid: str, citation: str | None, concept: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "analysis": {
                    "uid": uid,
                    **({"citation": citation} if citation is not None else {}),
                },
                "probes": [
                    {
                        "model": "pythia-70m",
                        "layer": 1,
                        "feature": concept,
                        "k": 1,
                        "f1": 0.9,
                        "neurons": [{"neuron": 3}],
                    }
                ],
            }
        )
    )
    return path


OWN = {
    "lab/bibtex": "@inproceedings{smith2024probes,\n  title = {Probes for {GPT}},\n  "
    "author = {Smith, Jane and Doe, John},\n  year = {2024}\n}",
    "lab/doi": "Our journal paper, doi:10.1234/abc_def.5 (2021)",
    "lab/arxiv": "2401.00001",
    "lab/text": "Lab notes_v2 & 100% {draft} #3 by ~me^2 (2025)",
    "lab/text-again": "Lab notes_v2 & 100% {draft} #3 by ~me^2 (2025)",
    "lab/none": None,
}


def test_a_users_own_citation_as_bibtex_doi_arxiv_or_text(store, store_uri, tmp_path) -> None:
    for i, (uid, citation) in enumerate(OWN.items()):
        path = probe_file(tmp_path / f"p{i}.json", uid, citation, f"concept_{i}")
        code, out = cli(store_uri, "ingest", "probes", str(path))
        assert code == 0, out
    text = bibtex(store, OWN)
    bib = parse_string(text, "bibtex")
    assert len(bib.entries) == 5  # the same text twice is one work
    own = bib.entries["smith2024probes"]
    assert own.type == "inproceedings" and own.fields["title"] == "Probes for {GPT}"
    doi = next(e for e in bib.entries.values() if "doi" in e.fields)
    assert doi.fields["doi"] == "10.1234/abc_def.5" and doi.fields["year"] == "2021"
    arxiv = next(e for e in bib.entries.values() if e.fields.get("eprint") == "2401.00001")
    assert arxiv.fields["archivePrefix"] == "arXiv"
    notes = next(e for e in bib.entries.values() if "notes" in e.fields["title"])
    assert notes.fields["title"] == (
        r"Lab notes\_v2 \& 100\% \{draft\} \#3 by "
        r"\textasciitilde{}me\textasciicircum{}2 (2025)"
    )
    bare = next(e for e in bib.entries.values() if "lab/none" in e.fields.get("note", ""))
    assert "no citation given" in bare.fields["note"] and "lab/none" in bare.fields["title"]


def test_a_citation_that_is_broken_bibtex_is_refused_at_ingest(store, store_uri, tmp_path) -> None:
    path = probe_file(tmp_path / "bad.json", "lab/broken", "@article{x, title = {unclosed}", "c")
    code, out = cli(store_uri, "ingest", "probes", str(path))
    assert code == 1 and "citation" in out and "balanced braces" in out and str(path) in out
    assert store.read("MATCH (a:Analysis {uid: 'lab/broken'}) RETURN count(a) AS n")[0]["n"] == 0


def test_a_latex_table_has_a_human_caption_sorted_models_and_its_bib(
    shipped, store_uri, tmp_path
) -> None:
    out = tmp_path / "table.tex"
    code, text = cli(
        store_uri,
        "export",
        "single_neuron_concepts",
        "--param",
        "min_models=4",
        "--param",
        "min_score=0.95",
        "--format",
        "latex",
        "--out",
        str(out),
    )
    assert code == 0, text
    assert f"wrote {out}" in text and f"wrote {tmp_path / 'table.bib'}" in text
    table = out.read_text()
    caption = re.search(r"\\caption\{(.*)\}", table).group(1)
    assert "min_score" not in caption and "min_models" not in caption and "min\\_" not in caption
    assert "0.95" in caption and "at least 4 models" in caption
    assert r"\cite{gurnee2023finding}" in caption
    assert all(rule in table for rule in (r"\toprule", r"\midrule", r"\bottomrule"))
    for line in table.splitlines():
        if "pythia-70m" in line:
            models = re.findall(r"pythia-\w+", line)
            assert models == SIZES, line
    assert set(parse_file(str(tmp_path / "table.bib")).entries) == {"gurnee2023finding"}


def test_the_table_and_its_bibliography_compile(shipped, store_uri, tmp_path) -> None:
    tools = [shutil.which(t) for t in ("pdflatex", "bibtex")]
    if not all(tools):
        pytest.skip(
            "pdflatex and bibtex are not on this machine (Debian: texlive-latex-base, "
            "texlive-latex-recommended, texlive-binaries; .ci/run installs them)"
        )
    code, text = cli(
        store_uri,
        "export",
        "single_neuron_concepts",
        "--param",
        "min_models=4",
        "--format",
        "latex",
        "--out",
        str(tmp_path / "table.tex"),
    )
    assert code == 0, text
    code, text = cli(
        store_uri,
        "export",
        "concept_neurons",
        "--param",
        "concept=Gender_Fem",
        "--format",
        "latex",
        "--out",
        str(tmp_path / "wide.tex"),
    )  # uids, analyses
    assert code == 0, text
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs,tabularx}\n\\begin{document}\n"
        "\\input{table}\n\\input{wide}\n"
        "\\bibliographystyle{plain}\n\\bibliography{table}\n\\end{document}\n"
    )

    def run(*command: str) -> str:
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-3000:]
        return done.stdout

    run("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex")
    run("bibtex", "paper")
    run("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex")
    log = run("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex")
    assert "undefined" not in log.lower()
    assert "Overfull \\hbox" not in (tmp_path / "paper.log").read_text()  # within the text width
    assert (tmp_path / "paper.pdf").stat().st_size > 1000
    assert "Gurnee" in (tmp_path / "paper.bbl").read_text()


def test_every_known_work_is_a_whole_entry() -> None:
    from circuitbase.export.citations import WORKS

    parsed = parse_string("\n".join(w.entry for w in WORKS), "bibtex")
    assert list(parsed.entries) == [w.key for w in WORKS]
    for entry in parsed.entries.values():
        assert entry.persons["author"] and entry.fields["title"] and entry.fields["year"]
        assert "markers" not in entry.fields and entry.fields["url"].startswith("https://")
