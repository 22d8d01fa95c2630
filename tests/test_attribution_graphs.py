"""Attribution graphs (issue #17): circuit-tracer's graph JSON goes in whole, a feature
seen in two prompts' graphs is one node, and the attribution templates agree with a
direct computation over the JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import DATA
from helpers import cli, count, graph_fingerprint, refuses_file

from circuitbase.queries import run_template
from circuitbase.sources.attribution import cantor, dictionary_name

GRAPH = DATA / "circuit-tracer" / "123-gemma-3-1b-pt-gemmascope2-16k.json"
MODEL = "gemma-3-1b-pt"
ANALYSIS = "attribution-graph/gemma-3-1b-pt/nnsight-123-gemma-3-1b-gemmascope2-16k"


def close(stored, given) -> bool:
    """FalkorDB returns doubles to 15 significant digits."""
    return stored == given or (
        None not in (stored, given) and stored == pytest.approx(given, rel=1e-13)
    )


def load(path: Path = GRAPH) -> dict:
    return json.loads(path.read_text())


def feature_uid(data: dict, node: dict) -> str:
    layer, index, _ = node["node_id"].split("_")
    dictionary = dictionary_name(data["metadata"]["info"]["transcoder_set"])
    return f"{MODEL}/L{layer}/{dictionary}/F{index}"


@pytest.fixture
def gemma(store, store_uri):
    """The model, as its head metrics create it (Neuronpedia calls it gemma-3-1b)."""
    code, out = cli(store_uri, "model", "add", MODEL, "--n-layers", "26", "--n-heads", "4")
    assert code == 0, out
    return store


def second_graph(tmp_path: Path) -> Path:
    """Another prompt's graph, built from the format: half of the first graph's features
    (same layer and index, other positions and influences) and one of its own."""
    data = load()
    features = [n for n in data["nodes"] if n["feature_type"] == "cross layer transcoder"][::2]
    nodes = []
    for i, node in enumerate(features):
        layer, index, _ = node["node_id"].split("_")
        nodes.append(
            {
                **node,
                "node_id": f"{layer}_{index}_2",
                "ctx_idx": 2,
                "influence": round(0.01 * (i + 1), 4),
                "clerp": "",
            }
        )
    nodes.append(
        {
            **features[0],
            "node_id": "3_77_1",
            "feature": cantor(3, 77),
            "layer": "3",
            "ctx_idx": 1,
            "influence": 0.2,
            "clerp": "a feature of its own",
        }
    )
    nodes.append(
        {
            "node_id": "27_19_2",
            "feature": 19,
            "layer": "27",
            "ctx_idx": 2,
            "feature_type": "logit",
            "token_prob": 0.9,
            "is_target_logit": True,
            "jsNodeId": "L_19-2",
            "clerp": 'Output "5" (p=0.900)',
            "influence": None,
            "activation": None,
        }
    )
    links = [{"source": n["node_id"], "target": "27_19_2", "weight": 1.5} for n in nodes[:-1]]
    data.update(nodes=nodes, links=links)
    data["metadata"].update(
        slug="124-gemma-3-1b", prompt="<bos>124", prompt_tokens=["<bos>", "1", "2", "4"]
    )
    path = tmp_path / "124.json"
    path.write_text(json.dumps(data))
    return path


def test_every_node_and_link_of_a_real_graph_is_stored(gemma, store_uri) -> None:
    code, out = cli(store_uri, "ingest", "circuit", str(GRAPH))
    assert code == 0, out
    data = load()
    measured = {
        r["node"]: r
        for r in gemma.read(
            "MATCH (x)-[m:MEASURED_BY {analysis: $a}]->(:Analysis) RETURN m.node AS node, "
            "m.influence AS influence, m.activation AS activation, m.node_type AS type, "
            "coalesce(x.text, x.uid) AS what",
            {"a": ANALYSIS},
        )
    }
    assert set(measured) == {n["node_id"] for n in data["nodes"]}
    for node in data["nodes"]:
        row = measured[node["node_id"]]
        assert close(row["influence"], node["influence"]) and row["type"] == node["feature_type"]
        assert close(row["activation"], node["activation"])
        if node["feature_type"] == "cross layer transcoder":
            assert row["what"] == feature_uid(data, node)
        elif node["feature_type"] == "embedding":
            assert row["what"] == data["metadata"]["prompt_tokens"][node["ctx_idx"]]
        elif node["feature_type"] == "mlp reconstruction error":
            assert row["what"] == f"{MODEL}/L{node['layer']}/MLP"
    features = {
        feature_uid(data, n) for n in data["nodes"] if n["feature_type"] == "cross layer transcoder"
    }
    assert count(gemma, "(f:Feature {model: $m})", m=MODEL) == len(features)
    edges = {
        r["link"]: r["weight"]
        for r in gemma.read(
            "MATCH ()-[e:CIRCUIT_EDGE {analysis: $a}]->() RETURN e.link AS link, e.weight AS weight",
            {"a": ANALYSIS},
        )
    }
    links = {f"{link['source']} -> {link['target']}": link["weight"] for link in data["links"]}
    assert edges.keys() == links.keys() and all(close(edges[k], links[k]) for k in links)
    outputs = gemma.read(
        "MATCH (t:Token)-[o:OUTPUT_NODE {analysis: $a}]->(task:Task) RETURN t.text AS "
        "token, o.probability AS p, o.is_target AS target, task.name AS task",
        {"a": ANALYSIS},
    )
    logits = [n for n in data["nodes"] if n["feature_type"] == "logit"]
    assert sorted((o["token"], o["p"], o["target"]) for o in outputs) == sorted(
        (n["clerp"].split('"')[1], n["token_prob"], n["is_target_logit"]) for n in logits
    )
    assert {o["task"] for o in outputs} == {"<bos>123"}  # the prompt, unless --task names one
    params = json.loads(
        gemma.read("MATCH (a:Analysis {uid: $a}) RETURN a.params AS p", {"a": ANALYSIS})[0]["p"]
    )
    assert params["prompt_tokens"] == data["metadata"]["prompt_tokens"]
    assert params["info"]["transcoder_set"] == data["metadata"]["info"]["transcoder_set"]
    again = graph_fingerprint(gemma)
    assert cli(store_uri, "ingest", "circuit", str(GRAPH))[0] == 0
    assert graph_fingerprint(gemma) == again


def test_the_user_names_the_task(gemma, store_uri) -> None:
    assert cli(store_uri, "ingest", "circuit", str(GRAPH), "--task", "count up")[0] == 0
    assert count(gemma, "(:Token)-[:OUTPUT_NODE]->(:Task {name: 'count up'})") == 5


def move_to_layer(data: dict, layer: int) -> None:
    """The graph's first feature, said to be at `layer` consistently (id, layer, feature)."""
    node = data["nodes"][0]
    old, index = node["node_id"], node["node_id"].split("_")[1]
    node.update(
        node_id=f"{layer}_{index}_{node['ctx_idx']}",
        layer=str(layer),
        feature=cantor(layer, int(index)),
    )
    for link in data["links"]:
        link.update({end: node["node_id"] for end in ("source", "target") if link[end] == old})


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda d: d["nodes"][0].__setitem__("feature", 5), "node_id and feature disagree"),
        (lambda d: d["nodes"][0].__setitem__("layer", "3"), "node_id says layer 0"),
        (lambda d: d["nodes"][0].__setitem__("feature_type", "lorsa"), "unknown node type"),
        (
            lambda d: d["links"].append(
                {"source": "nowhere", "target": d["nodes"][0]["node_id"], "weight": 1.0}
            ),
            "'nowhere'",
        ),
        (lambda d: move_to_layer(d, 30), "layer 30 is out of range"),
    ],
)
def test_a_graph_that_does_not_add_up_is_refused(gemma, store_uri, tmp_path, change, says) -> None:
    data = load()
    change(data)
    refuses_file(gemma, store_uri, ["ingest", "circuit"], tmp_path / "bad.json", data, says)


def test_a_feature_in_two_graphs_is_one_node_and_recurs(gemma, store_uri, tmp_path) -> None:
    other = second_graph(tmp_path)
    assert cli(store_uri, "ingest", "circuit", str(GRAPH), str(other))[0] == 0
    graphs = defaultdict(set)
    for path, uid in ((GRAPH, ANALYSIS), (other, f"attribution-graph/{MODEL}/124-gemma-3-1b")):
        data = load(path)
        for node in data["nodes"]:
            if node["feature_type"] == "cross layer transcoder":
                graphs[feature_uid(data, node)].add(uid)
    rows = run_template(gemma, "recurring_features", {"model": MODEL})
    assert {r["feature"]: r["n_graphs"] for r in rows} == {
        uid: len(g) for uid, g in graphs.items() if len(g) >= 2
    }
    assert count(gemma, "(f:Feature {model: $m})", m=MODEL) == len(graphs)
    label = gemma.read(
        "MATCH (f:Feature {uid: $u}) RETURN f.label AS label",
        {"u": f"{MODEL}/L3/{dictionary_name(load()['metadata']['info']['transcoder_set'])}/F77"},
    )
    assert label == [{"label": "a feature of its own"}]


def test_features_into_the_target_logit_agree_with_the_graph(gemma, store_uri) -> None:
    assert cli(store_uri, "ingest", "circuit", str(GRAPH))[0] == 0
    data = load()
    target = next(n["node_id"] for n in data["nodes"] if n["is_target_logit"])
    into = defaultdict(set)
    for link in data["links"]:
        into[link["target"]].add(link["source"])
    hops, frontier = {}, {target}
    for hop in (1, 2, 3):  # the nodes with a path of at most 3 links into the target
        frontier = {s for node in frontier for s in into[node]}
        for node in frontier:
            hops.setdefault(node, hop)
    expected = [
        (feature_uid(data, n), n["node_id"], hops[n["node_id"]], n["influence"])
        for n in data["nodes"]
        if n["feature_type"] == "cross layer transcoder" and n["node_id"] in hops
    ]
    expected.sort(key=lambda e: (e[3], e[0], e[1]))
    rows = run_template(gemma, "features_into_logit", {"analysis": ANALYSIS})
    assert [(r["feature"], r["node"], r["hops"]) for r in rows] == [e[:3] for e in expected]
    assert all(close(r["influence"], e[3]) for r, e in zip(rows, expected))
    assert {r["target"] for r in rows} == {"4"}


def test_a_graph_whose_metadata_names_no_dictionary_goes_in_when_the_user_names_one(
    store, tmp_path
) -> None:
    """Issue #42: older Neuronpedia downloads carry no `info` (no transcoder set, no source
    set): refused saying --dictionary, then ingested under the dictionary named."""
    demo = DATA / "circuit-tracer" / "demos" / "3plus5-plt.json"
    data = json.loads(demo.read_text())
    data["metadata"].pop("info")
    path = tmp_path / "old-download.json"
    path.write_text(json.dumps(data))
    code, out = cli(store.location, "ingest", "circuit", str(path))
    assert code == 1 and "--dictionary" in out and str(path) in out, out
    assert count(store, "(f:Feature)") == 0
    code, out = cli(
        store.location, "ingest", "circuit", str(path), "--dictionary", "gemmascope-transcoder-16k"
    )
    assert code == 0, out
    first = data["nodes"][0]["node_id"].split("_")  # <layer>_<index>_<position>
    assert (
        count(
            store,
            f"(f:Feature {{uid: 'gemma-2-2b/L{first[0]}/gemmascope-transcoder-16k/F{first[1]}'}})",
        )
        == 1
    )
    code, out = cli(store.location, "ingest", "circuit", str(demo), "--dictionary", "other-set")
    assert code == 1 and "other-set" in out, out
