"""Integrity under hostile input (issue #15): each test is one attack, and checks that it is
refused with one line naming what is wrong, and that the graph is exactly as it was."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import networkx as nx
import pytest
from helpers import cli, count, graph_fingerprint, kill_server

from circuitbase.export.formats import write_graphml
from circuitbase.store import StoreError, open_store
from circuitbase.store.falkor_server import EmbeddedServer, private_dir, socket_path_for

SEEDED = ["model", "add", "gpt2-small", "--components", "heads"]


@pytest.fixture
def seeded(store, store_uri):
    """gpt2-small with its heads, and one probe fact: something that could be broken."""
    assert cli(store_uri, *SEEDED)[0] == 0
    return store


def refused(store_uri: str, store, *args: str) -> str:
    """Run a command that must fail cleanly; the graph must not change."""
    before = graph_fingerprint(store)
    code, out = cli(store_uri, *args)
    lines = out.strip().splitlines()
    assert code == 1 and lines and lines[-1].startswith("error: "), out
    assert "Traceback" not in out
    assert graph_fingerprint(store) == before
    return out


# 1. An import is an ingest: a Cypher script is parsed, never run.
@pytest.mark.parametrize(
    "hostile, reason",
    [
        ('MATCH (n:Model {uid: "gpt2-small"}) DETACH DELETE n;', "expected"),
        ("CREATE (:NotInSchema)-[:PWNED]->();", "only the MERGE and MATCH"),
        ("DROP INDEX ON :Neuron(uid);", "only the MERGE and MATCH"),
        ('MERGE (n:NotInSchema {uid: "x"}) SET n += {};', "not in circuitbase's schema"),
        (
            'MERGE (n:Concept {name: "x"}) SET n += {category: "c"}; MATCH (m) DETACH DELETE m;',
            "after the statement",
        ),
        ('MERGE (n:Concept {name: "x"}) SET n += {category: "c"', "ends early"),
    ],
)
def test_import_cypher_runs_nothing_and_refuses_what_export_does_not_write(
    seeded, store_uri, tmp_path, hostile, reason
) -> None:
    script = tmp_path / "hostile.cypher"
    script.write_text(
        'MERGE (n:Concept {name: "first"}) SET n += {category: "ok"};\n'
        'MERGE (n:Concept {name: "second"}) SET n += {category: "ok"};\n'
        f"{hostile}\n"
    )
    out = refused(store_uri, seeded, "import", "cypher", str(script))
    assert "hostile.cypher" in out and "line 3" in out and reason in out
    assert count(seeded, "(c:Concept)") == 0  # lines 1-2 were not written either


# 2. An imported GraphML file brings only what an ingest could have.
def graphml(tmp_path: Path, nodes: list[tuple[str, dict]], edges=()) -> Path:
    graph = nx.MultiDiGraph()
    for ident, attrs in nodes:
        graph.add_node(ident, **attrs)
    for a, b, attrs in edges:
        graph.add_edge(a, b, **attrs)
    path = tmp_path / "forged.graphml"
    write_graphml(graph, path)
    return path


ANALYSIS = ("Analysis:a", {"labels": ["Analysis"], "uid": "a", "kind": "probe", "method": "m"})


@pytest.mark.parametrize(
    "nodes, edges, says",
    [
        (
            [
                (
                    "Model:gpt2-small",
                    {
                        "labels": ["Model"],
                        "uid": "gpt2-small",
                        "n_layers": 1,
                        "d_model": 768,
                        "n_heads": 12,
                        "d_mlp": 3072,
                    },
                )
            ],
            [],
            "stored with another shape",
        ),
        (
            [("Analysis:a", {"labels": ["Analysis"], "uid": "a", "kind": "evil", "method": "m"})],
            [],
            "kind",
        ),
        (
            [
                ANALYSIS,
                ("Concept:c", {"labels": ["Concept"], "name": "c"}),
                (
                    "Neuron:gpt2-small/L1/N1",
                    {"labels": ["Component", "Neuron"], "uid": "gpt2-small/L1/N1"},
                ),
            ],
            [
                (
                    "Neuron:gpt2-small/L1/N1",
                    "Concept:c",
                    {"type": "ENCODES", "analysis": "a", "k": 1, "f1": 7.5, "rank": -3},
                )
            ],
            "f1",
        ),
        ([("Concept:long", {"labels": ["Concept"], "name": "x" * 5000})], [], "200 characters"),
        ([("Thing:x", {"labels": ["Thing"], "uid": "x"})], [], "labels"),
        ([("Concept:c", {"name": "c"})], [], "labels"),
    ],
)
def test_import_graphml_validates_like_an_ingest(
    seeded, store_uri, tmp_path, nodes, edges, says
) -> None:
    out = refused(store_uri, seeded, "import", "graphml", str(graphml(tmp_path, nodes, edges)))
    assert "forged.graphml" in out and says in out


def test_import_graphml_derives_what_the_graph_derives(seeded, store_uri, tmp_path) -> None:
    path = graphml(
        tmp_path,
        [
            ANALYSIS,
            (
                "Neuron:gpt2-small/L3/N7",
                {
                    "labels": ["Component", "Neuron"],
                    "uid": "gpt2-small/L3/N7",
                    "layer": 99,
                    "relative_depth": 42.0,
                    "model": "other",
                },
            ),
            (
                "Analysis:b",
                {
                    "labels": ["Analysis"],
                    "uid": "b",
                    "kind": "probe",
                    "method": "m",
                    "created_at": "1999-01-01T00:00:00",
                },
            ),
        ],
    )
    code, out = cli(store_uri, "import", "graphml", str(path))
    assert code == 0, out
    neuron = seeded.read("MATCH (n:Neuron {uid: 'gpt2-small/L3/N7'}) RETURN properties(n) AS p")[0][
        "p"
    ]
    assert (neuron["layer"], neuron["model"]) == (3, "gpt2-small")
    assert neuron["relative_depth"] == pytest.approx(3 / 11)
    created = seeded.read("MATCH (a:Analysis {uid: 'b'}) RETURN a.created_at AS c")[0]["c"]
    assert not created.startswith("1999")


# 3. A stored model's shape is never rewritten.
def test_model_add_with_another_shape_is_refused(seeded, store_uri) -> None:
    out = refused(
        store_uri,
        seeded,
        "model",
        "add",
        "gpt2-small",
        "--n-layers",
        "3",
        "--d-model",
        "10",
        "--n-heads",
        "1",
        "--d-mlp",
        "5",
    )
    assert "n_layers 12 -> 3" in out
    shape = ["--n-layers", "2", "--d-model", "16", "--n-heads", "2", "--d-mlp", "8"]
    code, out = cli(store_uri, "model", "add", "toy", *shape)
    assert code == 0, out
    code, out = cli(store_uri, "model", "add", "toy", *shape, "--d-vocab", "100")
    assert code == 0, out  # filling in what was unknown is not a change
    assert seeded.models(["toy"])[0]["d_vocab"] == 100


# 5. A NUL byte is refused before anything is written.
def test_a_nul_byte_is_refused_naming_file_line_and_field(store, store_uri, tmp_path) -> None:
    path = tmp_path / "n.csv"
    path.write_bytes(b"model,layer,neuron,feature,category,f1\npythia-70m,1,20,a\x00b,cat,0.9\n")
    out = refused(store_uri, store, "ingest", "probes", str(path))
    assert "n.csv" in out and "line 2" in out and "'feature'" in out and "NUL" in out
    assert count(store, "(n)") == 0


# 8. The store is private to its user.
def test_a_new_store_is_private(tmp_path) -> None:
    with open_store(tmp_path / "kb") as store:
        store._write("CREATE (:Model {uid: 'x'})")
        store.persist()
    assert stat.S_IMODE(os.stat(tmp_path / "kb").st_mode) == 0o700
    for name in ("graph.rdb", "falkordb.log", ".lock"):
        assert stat.S_IMODE(os.stat(tmp_path / "kb" / name).st_mode) == 0o600, name


# 9. The server on the socket must be this store's.
def test_a_server_that_keeps_another_directory_is_not_used(tmp_path) -> None:
    with open_store(tmp_path / "theirs"):
        impostor = EmbeddedServer(tmp_path / "mine")
        impostor.socket_path = socket_path_for(impostor.data_dir.parent / "theirs")
        with pytest.raises(StoreError, match="keeps its data in .*theirs"):
            impostor.connect()


def test_long_paths_put_the_socket_in_a_private_directory(tmp_path) -> None:
    deep = tmp_path / ("d" * 120)
    socket = socket_path_for(deep)
    assert socket.parent.name == f"circuitbase-{os.getuid()}"
    with open_store(deep) as store:
        store._write("CREATE (:Model {uid: 'x'})")
        assert stat.S_IMODE(os.stat(socket.parent).st_mode) == 0o700
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    with pytest.raises(StoreError, match="not a directory of this user's"):
        private_dir(link)


# 11. Ambiguous CSV headers are refused; a byte-order mark is not an ambiguity.
@pytest.mark.parametrize(
    "header, says",
    [
        ("model,layer,neuron,feature,f1,f1", "'f1' appear more than once"),
        ("model,layer,neuron,feature,f1,colour", "unknown column(s) 'colour'"),
    ],
)
def test_ambiguous_csv_headers_are_refused(store, store_uri, tmp_path, header, says) -> None:
    path = tmp_path / "t.csv"
    path.write_text(header + "\npythia-70m,1,2,fr,0.9,0.8\n")
    out = refused(store_uri, store, "ingest", "probes", str(path))
    assert says in out and "line 1" in out


def test_a_csv_with_a_byte_order_mark_reads(store, store_uri, tmp_path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfmodel,layer,neuron,feature,f1\npythia-70m,1,2,fr,0.9\n")
    code, out = cli(store_uri, "ingest", "probes", str(path))
    assert code == 0, out
    assert count(store, "(:Neuron)-[:ENCODES]->(:Concept {name: 'fr'})") == 1


# 14. Unicode digits and trailing newlines are not quietly accepted.
@pytest.mark.parametrize("uid", ["pythia-70m/L\uff13/N1", "pythia-70m/L\u0663/N\u0661"])
def test_unicode_digits_in_uids_are_refused(store, store_uri, uid) -> None:
    out = refused(store_uri, store, "similar", uid)
    assert "not a component uid" in out


def test_a_model_name_with_a_newline_is_refused(store, store_uri) -> None:
    out = refused(store_uri, store, "model", "add", "abc\n", "--n-layers", "1")
    assert "not valid" in out


# 15. A checkpoint cannot run code.
def test_a_checkpoint_that_would_run_code_is_refused(store, store_uri, tmp_path) -> None:
    torch = pytest.importorskip("torch", reason="needs the [analysis] extra")
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.pt"
    torch.save({"cfg": Payload(), "state_dict": {}}, evil)
    data = tmp_path / "digits.json"
    data.write_text('{"concept": "d", "sequences": [{"tokens": [1, 2], "labels": [0, 1]}]}')
    out = refused(
        store_uri,
        store,
        "analyze",
        "probe",
        "evil",
        "--checkpoint",
        str(evil),
        "--concept-data",
        str(data),
    )
    assert "could run code" in out and "evil.pt" in out
    assert not marker.exists()


# 6. A runaway query is stopped, and the store keeps answering.
def test_a_runaway_query_stops_at_its_timeout(store, store_uri) -> None:
    import time

    store._write("UNWIND range(1, 550) AS i CREATE (:Token {uid: toString(i)})")
    started = time.monotonic()
    out = refused(
        store_uri,
        store,
        "query",
        "run",
        "--timeout",
        "1",
        "--cypher",
        "MATCH (a), (b), (c), (d) WHERE a.uid + b.uid + c.uid + d.uid <> '' RETURN count(*) AS n",
    )
    assert "ran past its limit of 1 s" in out
    assert time.monotonic() - started < 30
    code, out = cli(store_uri, "stats")
    assert code == 0 and "Token" in out


def test_a_query_that_would_exhaust_memory_is_stopped(store, store_uri) -> None:
    out = refused(
        store_uri,
        store,
        "query",
        "run",
        "--timeout",
        "120",
        "--cypher",
        "UNWIND range(1, 300000000) AS x WITH collect(x) AS c RETURN size(c) AS n",
    )
    assert "memory" in out
    assert cli(store_uri, "stats")[0] == 0  # the server is still there


# 12. Exports round-trip whatever characters the values hold, and never half-replace a file.
AWKWARD = "form\x0cfeed, record\x1esep, line\u2028sep, quote\" back\\slash, nul-free"


@pytest.mark.parametrize("fmt", ["cypher", "graphml"])
def test_values_with_awkward_characters_round_trip(store, store_uri, tmp_path, fmt) -> None:
    from circuitbase.export import write
    from circuitbase.ingest import ingest
    from circuitbase.schema import Task
    from circuitbase.sources.exports import read_cypher, read_graphml

    ingest(store, [Task(name="awkward", description=AWKWARD).record()])
    graph = nx.MultiDiGraph()
    graph.add_node("Task:awkward", labels=["Task"], name="awkward", description=AWKWARD)
    path = tmp_path / f"out.{fmt}"
    write(store, graph, fmt, path)
    records = (read_cypher if fmt == "cypher" else read_graphml)(path)
    assert [r.props.get("description") for r in records] == [AWKWARD]
    store.clear()
    code, out = cli(store_uri, "import", fmt, str(path))
    assert code == 0, out
    assert store.read("MATCH (t:Task) RETURN t.description AS d") == [{"d": AWKWARD}]


def test_a_failed_export_leaves_the_previous_file_whole(seeded, tmp_path, monkeypatch) -> None:
    from circuitbase.export import formats, subgraph, write

    out = tmp_path / "heads.graphml"
    graph = subgraph(seeded, around="gpt2-small", hops=1)
    write(seeded, graph, "graphml", out)
    before = out.read_bytes()

    def dies(graph, path):
        path.write_text("<half")
        raise KeyboardInterrupt

    monkeypatch.setattr(formats, "write_graphml", dies)
    with pytest.raises(KeyboardInterrupt):
        write(seeded, graph, "graphml", out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["heads.graphml"]


# 13. Failures of the input or the machine are one line, not a traceback.
def test_json_nested_too_deep_is_one_line(store, store_uri, tmp_path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    out = refused(store_uri, store, "ingest", "probes", str(path))
    assert "deep.json" in out and "nested too deeply" in out


@pytest.mark.parametrize(
    "content, says",
    [
        (
            b"// name: t\n// description: d\n// param: x: int = abc\nRETURN $x AS x\n",
            "default 'abc' of parameter 'x' is not a int",
        ),
        (b"// name: t\n// description: caf\xe9\nRETURN 1 AS x\n", "cannot read the template"),
    ],
)
def test_a_broken_template_file_is_one_line(store, store_uri, tmp_path, content, says) -> None:
    (tmp_path / "t.cypher").write_bytes(content)
    out = refused(
        store_uri,
        store,
        "query",
        "run",
        "concept_neurons",
        "--param",
        "concept=fr",
        "--templates",
        str(tmp_path),
    )
    assert "t.cypher" in out and says in out


@pytest.mark.parametrize("in_the_way", ["falkordb.sock", ".lock"])
def test_a_directory_in_the_way_is_one_line(tmp_path, in_the_way) -> None:
    (tmp_path / "kb" / in_the_way).mkdir(parents=True)
    code, out = cli(str(tmp_path / "kb"), "init")
    assert code == 1 and out.startswith("error: ") and len(out.strip().splitlines()) == 1, out
    assert in_the_way in out


def test_a_truncated_snapshot_names_the_cause(tmp_path) -> None:
    with open_store(tmp_path / "kb") as store:
        store._write("UNWIND range(1, 2000) AS i CREATE (:Token {uid: toString(i), text: 'x'})")
    assert cli(str(tmp_path / "kb"), "server", "stop")[0] == 0  # it stays up between commands
    snapshot = tmp_path / "kb" / "graph.rdb"
    snapshot.write_bytes(snapshot.read_bytes()[: snapshot.stat().st_size // 2])
    code, out = cli(str(tmp_path / "kb"), "stats")
    assert code == 1 and out.startswith("error: FalkorDB exited at start"), out
    assert "short read" in out.lower() or "rdb" in out.lower(), out


def test_a_server_killed_under_a_command_is_one_line(tmp_path) -> None:
    store = open_store(tmp_path / "kb")
    kill_server(tmp_path / "kb")
    with pytest.raises(StoreError, match="lost the FalkorDB server .* run the command again"):
        store._write("CREATE (:Model {uid: 'x'})")
    store.connection.server.client = None


# 4. Keys too long for an index are hashed (the text kept), and no relationship is lost.
def test_a_token_whose_key_is_too_long_for_an_index_is_one_node(store) -> None:
    from circuitbase.ingest import ingest
    from circuitbase.schema import ActivatesOn, Analysis, NodeLabel, Token, ref
    from circuitbase.schema.graph import token_uid
    from circuitbase.schema.records import MAX_KEY_BYTES

    text = "\x01" * 1000  # within the 1000-character limit; 6002 bytes JSON-quoted
    assert len(token_uid(text).encode()) > MAX_KEY_BYTES
    facts = Analysis(uid="t/long", kind="n2g", method="hand", models=["pythia-70m"])
    records = [
        *facts.records(),
        Token(text=text).record(),
        ActivatesOn(analysis=facts.uid, activation=1.0).record(
            ref(NodeLabel.NEURON, "pythia-70m/L0/N1"), ref(NodeLabel.TOKEN, token_uid(text))
        ),
    ]
    ingest(store, records)
    assert not ingest(store, records).counts.changed_anything
    rows = store.read(
        "MATCH (:Neuron)-[:ACTIVATES_ON]->(t:Token) RETURN t.text AS text, "
        "t.full_key AS full, t.uid AS uid"
    )
    assert rows == [{"text": text, "full": token_uid(text), "uid": rows[0]["uid"]}]
    assert rows[0]["uid"].startswith("sha256:") and count(store, "(t:Token)") == 1


def test_a_deep_n2g_trie_is_stored_once_and_predicts_as_its_file(store, tmp_path) -> None:
    from n2g_fixtures import CONFIG, MODEL, VOCAB

    from circuitbase.ingest import ingest, ingest_files
    from circuitbase.schema import ModelSpec
    from circuitbase.sources.models import model_records
    from circuitbase.sources.n2g.feature_model_json import encode
    from circuitbase.sources.n2g.records import n2g_records
    from circuitbase.sources.n2g.stored import load_graph
    from circuitbase.sources.n2g.trie import NeuronGraph, TrieNode

    ingest(store, model_records(ModelSpec.from_tl_config(CONFIG)))
    ids = {token: i for i, token in enumerate(VOCAB)}
    chain = TrieNode(" a", 0.5, 0.9, ids[" a"])
    for depth in range(2500):  # uids of nodes this deep are past any index's key limit
        token = VOCAB[1 + depth % 20]
        chain = TrieNode(token, 0.5, None, ids[token], [chain])
    graph = NeuronGraph([TrieNode(" Paris", 1.0, 0.2, ids[" Paris"], [chain])])
    folder = tmp_path / "neuron_graphs" / MODEL
    folder.mkdir(parents=True)
    (folder / "1_5.json").write_text(encode(graph, ids))

    def read(path):
        return n2g_records(path, vocab=VOCAB)

    first = ingest_files(store, [folder / "1_5.json"], read)
    nodes = count(store, "(p:PatternNode)")
    assert nodes == 2502
    assert not ingest_files(store, [folder / "1_5.json"], read).counts.changed_anything
    assert count(store, "(p:PatternNode)") == nodes and first.counts.relationships_created
    stored = load_graph(store, f"{MODEL}/L1/N5")
    tokens = [VOCAB[1 + d % 20] for d in reversed(range(2500))]
    text = [" a", *tokens, " Paris"]
    assert stored.predict(text) == graph.predict(text) and max(graph.predict(text)) > 0


# 10. Work is bounded by the input, not by what a file claims.
def test_a_model_of_absurd_size_is_refused_before_any_work(store, store_uri) -> None:
    import time

    started = time.monotonic()
    out = refused(
        store_uri,
        store,
        "model",
        "add",
        "huge",
        "--n-layers",
        "10000",
        "--d-model",
        "1",
        "--n-heads",
        "1",
        "--d-mlp",
        "1000000000",
        "--components",
        "neurons",
    )
    assert "over the limit" in out and time.monotonic() - started < 20


def test_a_link_to_a_device_is_not_read(store, store_uri, tmp_path) -> None:
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    out = refused(store_uri, store, "ingest", "probes", str(zero))
    assert "zero.csv" in out and "not a regular file" in out


def test_an_n2g_trie_deeper_than_any_context_is_refused(store, store_uri, tmp_path) -> None:
    from n2g_fixtures import MODEL, VOCAB

    from circuitbase.sources.n2g.feature_model_json import encode
    from circuitbase.sources.n2g.trie import MAX_DEPTH, NeuronGraph, TrieNode

    ids = {token: i for i, token in enumerate(VOCAB)}
    chain = TrieNode(" a", 0.5, 0.9, ids[" a"])
    for _ in range(MAX_DEPTH + 10):
        chain = TrieNode(" the", 0.5, None, ids[" the"], [chain])
    folder = tmp_path / "neuron_graphs" / MODEL
    folder.mkdir(parents=True)
    (folder / "1_5.json").write_text(encode(NeuronGraph([chain]), ids))
    (tmp_path / "vocab.json").write_text(json.dumps(VOCAB))
    assert (
        cli(
            store_uri,
            "model",
            "add",
            MODEL,
            "--n-layers",
            "6",
            "--d-model",
            "64",
            "--n-heads",
            "4",
            "--d-mlp",
            "2048",
        )[0]
        == 0
    )
    out = refused(
        store_uri, store, "ingest", "n2g", str(folder), "--vocab", str(tmp_path / "vocab.json")
    )
    assert "1_5.json" in out and f"deeper than {MAX_DEPTH}" in out


@pytest.mark.parametrize("edge", ["1 -> 0", "0 -> 0", "1 -> 1"])
def test_a_graphviz_picture_that_is_not_a_trie_is_refused(store, store_uri, tmp_path, edge) -> None:
    from n2g_fixtures import MODEL

    shipped = (
        Path(__file__).parent / "data" / "n2g-graphviz" / "neuron_graphs" / MODEL / "3_7" / "graph"
    )
    folder = tmp_path / "neuron_graphs" / MODEL / "3_7"
    folder.mkdir(parents=True)
    text = shipped.read_text().replace(
        "\t0 -> 1 [dir=back penwidth=3]", f"\t{edge} [dir=back penwidth=3]"
    )
    (folder / "graph").write_text(text)
    assert (
        cli(
            store_uri,
            "model",
            "add",
            MODEL,
            "--n-layers",
            "6",
            "--d-model",
            "64",
            "--n-heads",
            "4",
            "--d-mlp",
            "2048",
        )[0]
        == 0
    )
    out = refused(store_uri, store, "ingest", "n2g", str(folder / "graph"))
    assert "one level deeper" in out


# 6. Ctrl-C ends a running query and releases the store.
def _running_on_neo4j(store, text: str) -> bool:
    rows = store.read("SHOW TRANSACTIONS YIELD currentQuery RETURN currentQuery")
    return any(text in (row["currentQuery"] or "") for row in rows)


def test_ctrl_c_ends_a_running_query_and_releases_the_store(store, tmp_path) -> None:
    """On FalkorDB the command owns a store of its own (so the server is its alone and
    stopping it ends the query); on Neo4j the server must drop the transaction."""
    import signal
    import subprocess
    import sys
    import time

    neo4j = store.backend == "neo4j"
    uri = store.location if neo4j else str(tmp_path / "kb")
    target = store if neo4j else open_store(uri)
    target._write("UNWIND range(1, 550) AS i CREATE (:Token {uid: toString(i)})")
    if not neo4j:
        target.close()  # the command is now the store's only client
    marker = "a.uid + b.uid + c.uid + d.uid <> 'ctrl-c'"
    command = [
        sys.executable,
        "-m",
        "circuitbase",
        "--db",
        uri,
        "query",
        "run",
        "--timeout",
        "60",
        "--cypher",
        f"MATCH (a), (b), (c), (d) WHERE {marker} RETURN count(*) AS n",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (
        _running_on_neo4j(store, marker) if neo4j else time.monotonic() > deadline - 25
    ):
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()[0]
    process.send_signal(signal.SIGINT)
    try:
        out = process.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:  # say what it was doing (seen once in a full run)
        process.kill()
        log = tmp_path / "kb" / "falkordb.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no server log)"
        pytest.fail(f"still running 20 s after Ctrl-C: {process.communicate()[0]!r}\n{tail}")
    assert process.returncode == 130 and out.strip().splitlines()[-1].startswith("interrupted")
    assert "Traceback" not in out
    if neo4j:
        deadline = time.monotonic() + 20
        while _running_on_neo4j(store, marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running_on_neo4j(store, marker), "the transaction outlived the command"
    else:
        assert not (tmp_path / "kb" / "falkordb.pid").exists()  # the server (and query) ended
    started = time.monotonic()
    code, out = cli(uri, "stats")
    assert code == 0 and "Token" in out
    assert time.monotonic() - started < 15


# 10. Work is bounded by the input: a file's rows stream through a first (checking) pass
#     into a scratch file and out of it in the second (writing) pass.
def _probe_table(path: Path, rows: int) -> Path:
    with open(path, "w") as handle:
        handle.write("model,dataset,feature,layer,neuron,test_f1_score\n")
        for i in range(rows):
            # 3,000 neurons whatever the length: what the models hold bounds memory, too
            handle.write(
                f"pythia-70m,ds{i % 7},feat{i // 50},{i % 6},{(i * 7919) % 500},"
                f"{(i * 37 % 1000) / 1000}\n"
            )
    return path


def test_memory_of_an_ingest_does_not_grow_with_the_file(tmp_path, monkeypatch) -> None:
    """Peak Python memory of reading, checking and writing a 10,000-row table is that of a
    4,000-row one (it was about 3 KB per row when every record was held at once: 18 MB
    more here, against a peak of about 6 MB). A write holds two batches at a time (one
    sent, the next made ready); batches of 2,000 rows here instead of 10,000, so that both
    tables fill at least two under tracemalloc's threefold slowdown."""
    import functools
    import tracemalloc

    from circuitbase.ingest import pipeline
    from circuitbase.ingest.writer import write_plan
    from circuitbase.sources.probes import probe_records

    monkeypatch.setattr(pipeline, "write_plan", functools.partial(write_plan, batch_size=2_000))
    peaks = {}
    for rows in (4_000, 10_000):
        store = open_store(tmp_path / f"kb{rows}")
        try:
            table = _probe_table(tmp_path / f"probes{rows}.csv", rows)
            tracemalloc.start()
            result = pipeline.ingest_files(store, [table], probe_records)
            peaks[rows] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert result.counts.relationships_created >= rows  # every row was written
            assert count(store, "()-[:ENCODES]->()") == rows
        finally:
            store.close()
    assert peaks[10_000] < 1.3 * peaks[4_000], peaks
