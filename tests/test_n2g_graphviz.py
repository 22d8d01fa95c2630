"""N2G's graphviz form: the `graph` files the original script renders, read as far as
the picture allows, next to the JSON form of the same neuron."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import cli, graph_fingerprint
from n2g_fixtures import CONFIG, MODEL, write_fixtures

from circuitbase.ingest import ingest
from circuitbase.ingest.pipeline import ingest_files
from circuitbase.schema import ModelSpec, RecordError
from circuitbase.sources.models import model_records
from circuitbase.sources.n2g.records import n2g_records

# (depth, DOT id, token, fillcolor, fontcolor, penwidth) as N2G's graph_neuron draws them
DRAWN = {
    "1_42": (
        [
            (0, "0", " Paris", "#ff0000", "black", "3"),
            (0, "1", " London", "#ff1a1a", "black", "3"),
            (1, "2", " in", "#5b5bff", "white", "7"),
            (2, "3", " in", "#b6b6ff", "black", "3"),
            (3, "4", " flew", "#bfbfff", "black", "7"),
        ],
        [("0", "2"), ("1", "2"), ("3", "4")],
    ),
    "3_7": (
        [
            (0, "0", ")", "#ff0000", "black", "3"),
            (1, "1", "(", "#1919ff", "white", "7"),
            (1, "2", "\n", "#7f7fff", "white", "7"),
            (1, "3", "  ", "#e5e5ff", "black", "3"),
        ],
        [("0", "1"), ("0", "2"), ("0", "3")],
    ),
}


def n2g_dot_source(nodes, edges) -> str:
    """The DOT source NeuronModel.graph_neuron (alexjfoote/Neuron2Graph) writes, through
    the same graphviz calls: edges first, then one cluster per depth."""
    graphviz = pytest.importorskip("graphviz", reason="needs the graphviz package ([test] extra)")
    net = graphviz.Digraph(
        graph_attr={"rankdir": "RL", "splines": "spline", "ranksep": "3", "nodesep": "0.2"},
        node_attr={"fixedsize": "true", "width": "2", "height": "0.75"},
    )
    for parent, child in edges:
        net.edge(parent, child, penwidth="3", dir="back")
    deepest = max(depth for depth, *_ in nodes)
    clusters = {}
    for depth, node_id, token, colour, font, width in nodes:
        if depth not in clusters:
            clusters[depth] = graphviz.Digraph(name=f"cluster_{deepest - depth}")
            clusters[depth].attr(pencolor="white", penwidth="3")
        shown = json.dumps(token).strip('[]"')
        if set(shown) == {" "}:
            shown = f"'{shown}'"
        clusters[depth].node(
            node_id,
            f"{graphviz.escape(shown)}",
            fillcolor=colour,
            shape="box",
            style="filled,solid",
            fontcolor=font,
            fontsize="25",
            penwidth=width,
        )
    for cluster in clusters.values():
        net.subgraph(cluster)
    return net.source


@pytest.fixture
def graphs(store, data, tmp_path):
    """A copy of the shipped pictures, with their model in the store."""
    ingest(store, model_records(ModelSpec.from_tl_config(CONFIG)))
    folder = tmp_path / "neuron_graphs"
    shutil.copytree(data / "n2g-graphviz" / "neuron_graphs", folder)
    return folder / MODEL


def test_shipped_files_are_what_n2gs_drawing_code_writes(data) -> None:
    for name, (nodes, edges) in DRAWN.items():
        shipped = data / "n2g-graphviz" / "neuron_graphs" / MODEL / name / "graph"
        assert shipped.read_text() == n2g_dot_source(nodes, edges)


def test_the_picture_is_read_as_far_as_it_goes(store_uri, store, graphs) -> None:
    code, out = cli(store_uri, "ingest", "n2g", str(graphs), "--model", MODEL)
    assert code == 0 and "2 file(s)" in out, out
    rows = store.read(
        "MATCH (n:Neuron {uid: $n})-[a:ACTIVATES_ON]->(t:Token) "
        "RETURN t.text AS token, a.activation AS activation ORDER BY token",
        {"n": f"{MODEL}/L1/N42"},
    )
    assert [(r["token"], round(r["activation"], 3)) for r in rows] == [
        (" London", 0.898),
        (" Paris", 1.0),
    ]
    # equal tokens at one depth are one drawn node: " in" follows both activating tokens
    parents = store.read(
        "MATCH (p:PatternNode)-[:TRIE_CHILD]->(c:PatternNode {token: ' in', "
        "depth: 1}) RETURN p.token AS token ORDER BY token"
    )
    assert [r["token"] for r in parents] == [" London", " Paris"]
    tokens = store.read(
        "MATCH (:Neuron {uid: $n})-[:HAS_PATTERN]->(:Pattern)-[:TRIE_ROOT]->()"
        "-[:TRIE_CHILD]->(x)-[:MATCHES_TOKEN]->(t) RETURN t.text AS t, x.end AS end",
        {"n": f"{MODEL}/L3/N7"},
    )
    assert sorted((r["t"], r["end"]) for r in tokens) == [("\n", True), ("  ", False), ("(", True)]
    code, out = cli(store_uri, "n2g", "predict", f"{MODEL}/L1/N42", "--tokens", '[" Paris"]')
    assert code == 1 and "graphviz picture" in out


def test_both_forms_of_one_neuron_agree_on_its_activating_tokens(store, tmp_path, graphs) -> None:
    files = write_fixtures(tmp_path / "json")
    vocab = json.loads(files["vocab"].read_text())
    ingest_files(
        store,
        [files["graphs"] / "1_42.json", graphs / "1_42" / "graph"],
        lambda p: n2g_records(p, vocab=vocab, model=MODEL),
    )
    by_analysis = {}
    for row in store.read(
        "MATCH (:Neuron)-[a:ACTIVATES_ON]->(t:Token) RETURN a.analysis AS analysis, t.text AS token"
    ):
        by_analysis.setdefault(row["analysis"], set()).add(row["token"])
    assert by_analysis == {
        f"n2g/{MODEL}": {" Paris", " London"},
        f"n2g-graphviz/{MODEL}": {" Paris", " London"},
    }


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda text: text[:120], "malformed DOT"),
        (
            lambda text: text.replace(' fillcolor="#ff0000"', ""),
            "node 0 needs a label and a #rrggbb",
        ),
        (lambda text: text.replace("subgraph cluster_1", "subgraph depth_1"), "cluster_<depth>"),
        (lambda text: text.replace("0 -> 3", "0 -> 9"), "edge 0 -> 9"),
        (lambda text: "graph {}", "not a graphviz digraph"),
        (lambda text: text.replace('label=")"', 'label="café"').encode("latin-1"), "not UTF-8"),
    ],
)
def test_bad_pictures_are_refused_and_nothing_is_written(store, graphs, change, message) -> None:
    ingest_files(
        store, [graphs / "1_42" / "graph"], lambda p: n2g_records(p, vocab=None, model=MODEL)
    )
    before = graph_fingerprint(store)
    bad = graphs / "3_7" / "graph"
    changed = change(bad.read_text())
    bad.write_bytes(changed if isinstance(changed, bytes) else changed.encode())
    with pytest.raises(RecordError, match="3_7/graph.*" + message):
        ingest_files(store, [bad], lambda p: n2g_records(p, vocab=None, model=MODEL))
    assert graph_fingerprint(store) == before
    ingest_files(
        store, [graphs / "1_42" / "graph"], lambda p: n2g_records(p, vocab=None, model=MODEL)
    )
    assert graph_fingerprint(store) == before  # and a re-ingest changes nothing
