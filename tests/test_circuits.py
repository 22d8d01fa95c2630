"""Circuits: ACDC's canonical IOI and greater-than circuits, and the interchange JSON."""

import json

import pytest
from helpers import cli, graph_fingerprint

from circuitbase.cli.demo import examples_dir
from circuitbase.ingest.pipeline import ingest_files
from circuitbase.queries import run_template
from circuitbase.schema import RecordError
from circuitbase.sources.circuits import circuit_records


def acdc_file():
    return examples_dir() / "circuits" / "canonical_circuits_ioi_greaterthan.json"


def output_nodes(store, task: str) -> dict[str, list[str]]:
    rows = store.read(
        "MATCH (c:Component)-[o:OUTPUT_NODE]->(:Task {name: $task}) "
        "RETURN o.category AS category, c.uid AS uid ORDER BY o.rank, uid",
        {"task": task},
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["category"], []).append(row["uid"])
    return found


def test_acdc_canonical_circuits_become_output_nodes_roles_and_edges(store) -> None:
    ingest_files(store, [acdc_file()], circuit_records)
    ioi = output_nodes(store, "ioi")
    assert ioi["name-mover"] == ["gpt2-small/L9/H9", "gpt2-small/L10/H0", "gpt2-small/L9/H6"]
    assert ioi["negative-name-mover"] == ["gpt2-small/L10/H7", "gpt2-small/L11/H10"]
    assert sum(map(len, ioi.values())) == 3 + 8 + 2  # only the groups that write to OUTPUT
    greater_than = output_nodes(store, "greaterthan")
    assert len(greater_than["AMID"]) == 6
    assert greater_than["MLATE"] == [f"gpt2-small/L{layer}/MLP" for layer in (8, 9, 10, 11)]

    roles = run_template(store, "universal_head_roles", {"min_score": 0.5})
    by_role = {r["role"]: r["heads"] for r in roles}
    assert sorted(by_role["induction"]) == [
        "gpt2-small/L5/H5",
        "gpt2-small/L5/H8",
        "gpt2-small/L5/H9",
        "gpt2-small/L6/H9",
    ]
    assert sorted(by_role["previous-token"]) == ["gpt2-small/L2/H2", "gpt2-small/L4/H11"]

    # induction heads feed the S-inhibition heads' keys and values in IOI: 4 x 4 edges
    edges = store.read(
        "MATCH (a)-[e:CIRCUIT_EDGE]->(b) WHERE a.uid = 'gpt2-small/L5/H5' "
        "RETURN e.analysis AS analysis, b.uid AS b, e.qkv AS qkv ORDER BY b"
    )
    ioi_edges = [e for e in edges if e["analysis"] == "acdc-canonical/gpt2-small/ioi"]
    assert [e["b"] for e in ioi_edges] == [
        "gpt2-small/L7/H3",
        "gpt2-small/L7/H9",
        "gpt2-small/L8/H10",
        "gpt2-small/L8/H6",
    ]
    assert all(e["qkv"] == ["k", "v"] for e in ioi_edges)
    # 5.5 is also in greater-than's AMID group, which writes to the late MLPs
    assert [e["b"] for e in edges if e not in ioi_edges] == [
        f"gpt2-small/L{layer}/MLP" for layer in (10, 11, 8, 9)
    ]
    cited = store.read(
        "MATCH (a:Analysis {uid: 'acdc-canonical/gpt2-small/ioi'}) RETURN a.citation AS c"
    )[0]["c"]
    assert "arXiv:2211.00593" in cited and "arXiv:2304.14997" in cited


def test_ingesting_a_circuit_twice_changes_nothing(store) -> None:
    ingest_files(store, [acdc_file()], circuit_records)
    first = graph_fingerprint(store)
    ingest_files(store, [acdc_file()], circuit_records)
    assert graph_fingerprint(store) == first


def interchange(path, **changes) -> None:
    circuit = {
        "analysis": {"uid": "toy-mcq", "citation": "A toy circuit for the tests."},
        "model": "pythia-70m",
        "task": {"name": "mcq-letter", "description": "pick the letter"},
        "metric": "logit difference",
        "output_nodes": [
            {
                "component": "L5H3",
                "category": "correct letter",
                "direct_effect": 1.5,
                "total_effect": 2.0,
            },
            {"component": "blocks.4.mlp", "category": "amplification", "direct_effect": 0.4},
        ],
        "edges": [{"source": "L3H1", "target": "L5H3", "weight": 0.7, "qkv": ["q"]}],
    }
    circuit.update(changes)
    path.write_text(json.dumps(circuit))


def test_interchange_circuit_and_shared_output_nodes_across_models(store, tmp_path) -> None:
    interchange(tmp_path / "a.json")
    interchange(
        tmp_path / "b.json",
        model="pythia-160m",
        analysis={"uid": "toy-mcq-160m"},
        output_nodes=[{"component": "L11H0", "category": "correct letter", "direct_effect": 2.5}],
        edges=[],
    )
    ingest_files(store, [tmp_path / "a.json", tmp_path / "b.json"], circuit_records)
    assert output_nodes(store, "mcq-letter") == {
        "correct letter": ["pythia-160m/L11/H0", "pythia-70m/L5/H3"],
        "amplification": ["pythia-70m/L4/MLP"],
    }
    rows = run_template(
        store,
        "shared_output_nodes",
        {"task": "mcq-letter", "model_a": "pythia-70m", "model_b": "pythia-160m"},
    )
    assert [(r["category"], r["a"], r["b"], r["a_direct_effect"]) for r in rows] == [
        ("correct letter", "pythia-70m/L5/H3", "pythia-160m/L11/H0", 1.5)
    ]
    edge = store.read(
        "MATCH (:AttentionHead {uid: 'pythia-70m/L3/H1'})-[e:CIRCUIT_EDGE]->"
        "(:AttentionHead {uid: 'pythia-70m/L5/H3'}) RETURN e.weight AS w, "
        "e.qkv AS qkv, e.analysis AS analysis"
    )
    assert edge == [{"w": 0.7, "qkv": ["q"], "analysis": "toy-mcq"}]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"output_nodes": [{"component": "L6H0"}]}, "output_nodes[0].*layer 6 is out of range"),
        ({"output_nodes": [{"component": "L5H8"}]}, "output_nodes[0].*index 8 is out of range"),
        ({"edges": [{"source": "L0H0", "target": "L9"}]}, "edges[0].*component"),
        ({"output_nodes": [{"component": "L5H3", "direct_effect": float("nan")}]}, "finite number"),
        ({"model": "pythia-7b"}, "unknown model"),
        ({"task": {"name": ""}}, "task.name"),
    ],
)
def test_bad_circuits_are_rejected_and_nothing_is_written(
    store, tmp_path, changes, message
) -> None:
    interchange(tmp_path / "good.json")
    ingest_files(store, [tmp_path / "good.json"], circuit_records)
    before = graph_fingerprint(store)
    interchange(tmp_path / "bad.json", analysis={"uid": "bad"}, **changes)
    with pytest.raises(RecordError, match=r"bad\.json.*" + message.replace("[", r"\[")):
        ingest_files(store, [tmp_path / "bad.json"], circuit_records)
    assert graph_fingerprint(store) == before


def test_cli_ingests_circuits_and_refuses_a_bad_one(store_uri, tmp_path) -> None:
    code, out = cli(store_uri, "ingest", "circuit", str(acdc_file()))
    assert code == 0, out
    bad = tmp_path / "bad.json"
    interchange(bad, output_nodes=[{"component": "L5H3", "rank": -1}])
    code, out = cli(store_uri, "ingest", "circuit", str(bad))
    assert code != 0 and "bad.json" in out and "rank" in out


def test_the_circuit_format_is_exported_as_json_schema(store_uri) -> None:
    code, out = cli(store_uri, "schema", "export", "circuit-json")
    schema = json.loads(out)
    assert code == 0 and {"model", "task"} <= set(schema["required"])
    assert "output_nodes" in schema["properties"]
