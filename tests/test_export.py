"""Subgraph export: the Python graph, every file format, round trips, the figure."""

import csv
import json

import networkx as nx
import pytest
from helpers import cli

from circuitbase.export import subgraph, write
from circuitbase.ingest import ingest
from circuitbase.ingest.pipeline import ingest_files
from circuitbase.schema import NodeLabel, RelType
from circuitbase.sources.exports import read_cypher, read_graphml
from circuitbase.sources.probes import probe_records

PROBES = """model,layer,neuron,feature,category,k,rank,weight,f1,precision,recall,accuracy
pythia-70m,2,10,fr,natural_lang_id,1,,,0.95,0.9,1.0,
pythia-160m,5,12,fr,natural_lang_id,1,,,0.97,,,
pythia-410m,20,13,fr,natural_lang_id,1,,,0.99,,,
pythia-70m,2,10,de,natural_lang_id,1,,,0.5,,,
pythia-70m,3,11,"quote ""and"" back\\slash & 100%",weird_{cat},1,,,0.8,,,
"""


@pytest.fixture
def probes(store, tmp_path):
    path = tmp_path / "probes.csv"
    path.write_text(PROBES)
    ingest_files(store, [path], probe_records)
    return store


def as_sets(graph: nx.MultiDiGraph) -> tuple[set, set]:
    """Nodes and edges with every property but `created_at`, which an import sets anew."""

    def frozen(attrs):
        return tuple(
            sorted(
                (k, json.dumps(v, sort_keys=True)) for k, v in attrs.items() if k != "created_at"
            )
        )

    nodes = {(n, frozen(a)) for n, a in graph.nodes(data=True)}
    edges = {(a, b, frozen(d)) for a, b, d in graph.edges(data=True)}
    return nodes, edges


def test_the_python_api_returns_a_multidigraph_with_all_properties(probes) -> None:
    graph = subgraph(probes, template="concept_neurons", params={"concept": "fr"})
    assert isinstance(graph, nx.MultiDiGraph)
    neuron = graph.nodes["Neuron:pythia-70m/L2/N10"]
    assert neuron["layer"] == 2 and neuron["relative_depth"] == pytest.approx(0.4)
    assert set(neuron["labels"]) == {"Component", "Neuron"}
    edge = graph.get_edge_data("Neuron:pythia-70m/L2/N10", "Concept:fr")[0]
    assert edge["type"] == "ENCODES" and edge["f1"] == 0.95 and edge["precision"] == 0.9
    assert "Concept:de" not in graph  # not part of the question


def test_neighbourhood_filters(probes) -> None:
    everything = subgraph(probes, around="pythia-70m/L2/N10", hops=1)
    assert {"Concept:fr", "Concept:de", "Model:pythia-70m"} <= set(everything)
    only_encodes = subgraph(probes, around="pythia-70m/L2/N10", hops=1, rel_types=[RelType.ENCODES])
    assert set(only_encodes) == {"Neuron:pythia-70m/L2/N10", "Concept:fr", "Concept:de"}
    concepts = subgraph(probes, around="fr", hops=1, labels=[NodeLabel.NEURON], model="pythia-70m")
    assert set(concepts) == {"Concept:fr", "Neuron:pythia-70m/L2/N10"}


@pytest.mark.parametrize("fmt", ["cypher", "graphml"])
def test_export_then_import_into_an_empty_store_gives_the_same_subgraph(
    probes, tmp_path, fmt
) -> None:
    params = {"concept": "fr"}
    before = subgraph(probes, template="concept_neurons", params=params)
    weird = subgraph(probes, around="pythia-70m/L3/N11", hops=1)
    path = tmp_path / f"export.{fmt}"
    weird_path = tmp_path / f"weird.{fmt}"
    write(probes, before, fmt, path)
    write(probes, weird, fmt, weird_path)
    probes.clear()
    for exported in (path, weird_path):
        if fmt == "cypher":
            ingest(probes, read_cypher(exported))
        else:
            ingest(probes, read_graphml(exported))
    assert as_sets(subgraph(probes, template="concept_neurons", params=params)) == as_sets(before)
    assert as_sets(subgraph(probes, around="pythia-70m/L3/N11", hops=1)) == as_sets(weird)


def test_every_format_writes_and_bibtex_names_the_analyses(probes, tmp_path) -> None:
    graph = subgraph(probes, template="concept_neurons", params={"concept": "fr"})
    for fmt in ("graphml", "gexf", "json", "csv", "cypher", "svg", "png"):
        written = write(probes, graph, fmt, tmp_path / f"fr.{fmt}")
        assert all(p.exists() and p.stat().st_size > 0 for p in written), fmt
    assert nx.read_gexf(tmp_path / "fr.gexf").number_of_nodes() == graph.number_of_nodes()
    assert len(json.loads((tmp_path / "fr.json").read_text())["nodes"]) == graph.number_of_nodes()
    with open(tmp_path / "fr.edges.csv") as handle:
        assert len(list(csv.DictReader(handle))) == graph.number_of_edges()
    bib = (tmp_path / "fr.bib").read_text()
    assert (
        bib.count("@") == 1
        and "@article{gurnee2023finding," in bib
        and "eprint = {2305.01610}" in bib
    )


def test_latex_table_escapes_what_latex_would_choke_on(store_uri, probes, tmp_path) -> None:
    out = tmp_path / "table.tex"
    code, text = cli(
        store_uri,
        "export",
        "neuron_concepts",
        "--param",
        "uid=pythia-70m/L3/N11",
        "--format",
        "latex",
        "--out",
        str(out),
    )
    assert code == 0, text
    table = out.read_text()
    assert r"\begin{tabular" in table  # tabular, or tabularx when a column must wrap
    plain = table.replace(r"\allowbreak{}", "")  # where a long word may break
    assert r'quote "and" back\textbackslash{}slash \& 100\%' in plain
    assert r"weird\_\{cat\}" in plain and (tmp_path / "table.bib").exists()
