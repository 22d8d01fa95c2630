"""Hostile input, round three (issue #41): one test per class of attack or fault, each
generating the variants its class allows, on both backends where a store is involved.

The classes: imports and source files cannot forge what the store derives or rewrite
what it holds; a read-only query reads the graph only; every failure is one line; no
silent guesses (a store path typed wrong, a role one letter off, a digit that is not
ASCII, an --out that is not a file); parsers bounded by their input; CSV never runs.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from conftest import DATA
from helpers import cli, count, graph_fingerprint, run_circuitbase

from circuitbase.schema.graph import (
    NODE_KEY,
    NODE_SPECS,
    NodeLabel,
    RelType,
    is_derived_property,
    label_clause,
)
from circuitbase.store.falkor_server import pid_alive

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "circuitbase" / "examples"
HEADS_GPT2 = EXAMPLES / "head-metrics" / "openai-community-gpt2-monology-pile-uncopyrighted.json"
CIRCUITS = EXAMPLES / "circuits" / "canonical_circuits_ioi_greaterthan.json"
TOUR_EXPORT = EXAMPLES / "tour" / "neuronpedia-export"
IOI = "acdc-canonical/gpt2-small/ioi"


def command(db: Path | str, *args: str) -> subprocess.CompletedProcess:
    """circuitbase in its own process, as a user runs it."""
    return run_circuitbase(db, *args, env={"CIRCUITBASE_SERVER_IDLE": "0"}, timeout=300)


def started(db: Path | str, *args: str, text: bool = False) -> subprocess.Popen:
    """circuitbase started in its own process, its output piped, not waited for."""
    return subprocess.Popen(
        [sys.executable, "-m", "circuitbase", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=text,
        env={**os.environ, "CIRCUITBASE_SERVER_IDLE": "0"},
    )


def one_line_error(code: int, out: str) -> None:
    assert code == 1 and "Traceback" not in out, out
    assert len([line for line in out.splitlines() if line.startswith("error:")]) == 1, out


# -- 1. Imports and feature files cannot forge what the store derives ------------------------


def _literal(value: object) -> str:
    return json.dumps(value)


def _node_line(label: NodeLabel, key: str, props: dict | None = None) -> str:
    body = ", ".join(f"{k}: {_literal(v)}" for k, v in (props or {}).items())
    return (
        f"MERGE (n{label_clause(label)} {{{NODE_KEY[label]}: {_literal(key)}}}) "
        f"SET n += {{{body}}};"
    )


def _rel_line(type_: str, a: tuple[NodeLabel, str], b: tuple[NodeLabel, str], props=None) -> str:
    body = ", ".join(f"{k}: {_literal(v)}" for k, v in (props or {}).items())
    identity = ", ".join(
        f"{k}: {_literal(v)}" for k, v in (props or {}).items() if k in RelType(type_).spec.identity
    )
    return (
        f"MATCH (a{label_clause(a[0])} {{{NODE_KEY[a[0]]}: {_literal(a[1])}}}), "
        f"(b{label_clause(b[0])} {{{NODE_KEY[b[0]]}: {_literal(b[1])}}}) "
        f"MERGE (a)-[r:{type_} {{{identity}}}]->(b) SET r += {{{body}}};"
    )


def _graphml_of(lines_nodes: list[tuple[NodeLabel, str, dict]], edges: list[tuple]) -> nx.Graph:
    graph = nx.MultiDiGraph()
    for label, key, props in lines_nodes:
        labels = (
            ["Component", label.value]
            if label.value in ("Neuron", "AttentionHead")
            else [label.value]
        )
        graph.add_node(key, labels=json.dumps(labels), **{NODE_KEY[label]: key}, **props)
    for a, b, type_ in edges:
        graph.add_edge(a, b, type=type_)
    graph.graph["circuitbase_json_attributes"] = "labels"
    return graph


DERIVED_LABELS = [label for label, spec in NODE_SPECS.items() if spec.made_by == "circuitbase"]
DERIVED_TYPES = [t.value for t in RelType if t.spec.made_by == "circuitbase"]


@pytest.mark.parametrize("fmt", ["cypher", "graphml"])
def test_an_import_never_creates_what_circuitbase_derives(store, store_uri, tmp_path, fmt) -> None:
    """Generated over the catalog: every label and relationship type circuitbase derives
    (similarity summaries, N2G tries) is refused in an import file, in both formats."""
    assert DERIVED_LABELS and DERIVED_TYPES  # the catalog says which
    cli(store_uri, "model", "add", "pythia-70m")
    before = graph_fingerprint(store)
    head = (NodeLabel.HEAD, "pythia-70m/L0/H0")
    cases: list[tuple[list, list]] = [([(label, "forged", {})], []) for label in DERIVED_LABELS]
    cases += [
        ([(NodeLabel.HEAD, head[1], {}), (NodeLabel.TOKEN, '" the"', {"text": " the"})], [t])
        for t in DERIVED_TYPES
    ]
    for nodes, types in cases:
        path = tmp_path / f"forged.{fmt}"
        if fmt == "cypher":
            lines = [_node_line(label, key, props) for label, key, props in nodes]
            lines += [_rel_line(t, head, (NodeLabel.TOKEN, '" the"')) for t in types]
            path.write_text("\n".join(lines) + "\n")
        else:
            nx.write_graphml(_graphml_of(nodes, [(head[1], '" the"', t) for t in types]), path)
        code, out = cli(store_uri, "import", fmt, str(path))
        one_line_error(code, out)
        assert "derived by circuitbase" in out, out
    assert graph_fingerprint(store) == before


def test_relationships_derived_from_names_must_be_what_the_names_say(
    store, store_uri, tmp_path
) -> None:
    """IN_MODEL, IN_DICTIONARY and FINE_TUNED_FROM follow from uids and model names: an
    import that says otherwise (a pythia head in gpt2) is refused; one that agrees is
    accepted and changes nothing."""
    for model in ("pythia-70m", "gpt2-small"):
        cli(store_uri, "model", "add", model, "--components", "heads")
    before = graph_fingerprint(store)
    head = (NodeLabel.HEAD, "pythia-70m/L0/H0")
    lies = [
        _rel_line("IN_MODEL", head, (NodeLabel.MODEL, "gpt2-small")),
        _rel_line(
            "FINE_TUNED_FROM", (NodeLabel.MODEL, "gpt2-small"), (NodeLabel.MODEL, "pythia-70m")
        ),
    ]
    for lie in lies:
        path = tmp_path / "lie.cypher"
        path.write_text(_node_line(*head) + "\n" + lie + "\n")
        code, out = cli(store_uri, "import", "cypher", str(path))
        one_line_error(code, out)
        assert "not what their names imply" in out
    truth = tmp_path / "truth.cypher"
    truth.write_text(
        _node_line(*head)
        + "\n"
        + _rel_line("IN_MODEL", head, (NodeLabel.MODEL, "pythia-70m"))
        + "\n"
    )
    assert cli(store_uri, "import", "cypher", str(truth))[0] == 0
    assert graph_fingerprint(store) == before


def test_an_import_never_changes_a_stored_node(store, store_uri, tmp_path) -> None:
    """Generated over every property of the stored models and analyses (and a dictionary):
    an import that gives another value is refused naming the property; the store's own
    export imports back changing nothing."""
    assert cli(store_uri, "ingest", "heads", str(HEADS_GPT2))[0] == 0
    assert cli(store_uri, "ingest", "circuit", str(CIRCUITS))[0] == 0
    assert cli(store_uri, "ingest", "saes", str(DATA / "sae-lens" / "pretrained_saes.yaml"))[0] == 0
    exported = tmp_path / "around.cypher"
    code, out = cli(
        store_uri,
        "export",
        "--around",
        "gpt2-small/L9/H9",
        "--format",
        "cypher",
        "--out",
        str(exported),
    )
    assert code == 0, out
    before = graph_fingerprint(store)
    assert cli(store_uri, "import", "cypher", str(exported))[0] == 0
    assert graph_fingerprint(store) == before
    stored = store.read(
        "MATCH (n) WHERE n:Model OR n:Analysis OR (n:Dictionary AND n.uid = 'gpt2-small/L0/res-jb') "
        "RETURN labels(n)[0] AS label, properties(n) AS props"
    )
    tried = 0
    for row in stored:
        label = NodeLabel(row["label"])
        key = row["props"][NODE_KEY[label]]
        # what a file may say of the node: all but its key and what circuitbase derives
        given = {
            k: v
            for k, v in row["props"].items()
            if k != NODE_KEY[label] and not is_derived_property(k)
        }
        for name, value in sorted(given.items()):
            forged = (
                "forged by a file"
                if isinstance(value, str)
                else (
                    []
                    if isinstance(value, list)
                    else (not value if isinstance(value, bool) else value + 1)
                )
            )
            path = tmp_path / "rewrite.cypher"
            path.write_text(_node_line(label, key, {**given, name: forged}) + "\n")
            code, out = cli(store_uri, "import", "cypher", str(path))
            if label is NodeLabel.MODEL and code == 1 and "stored" not in out:
                continue  # refused earlier: a model's shape is checked as a model's
            one_line_error(code, out)
            assert name in out, (name, out)
            tried += 1
    assert tried > 20
    assert graph_fingerprint(store) == before


def test_a_neuronpedia_name_always_resolves_to_its_own_dictionary(
    store, store_uri, tmp_path
) -> None:
    """An imported dictionary cannot claim another's Neuronpedia name; one written into the
    store behind circuitbase's back does not take the name over either."""
    assert cli(store_uri, "ingest", "features", str(TOUR_EXPORT))[0] == 0
    forged = tmp_path / "dictionary.cypher"
    forged.write_text(
        _node_line(
            NodeLabel.DICTIONARY,
            "gpt2-small/L0/aaa-evil",
            {
                "model": "gpt2-small",
                "layer": 0,
                "set": "aaa-evil",
                "neuronpedia": "gpt2-small/0-res-jb",
            },
        )
        + "\n"
    )
    code, out = cli(store_uri, "import", "cypher", str(forged))
    one_line_error(code, out)
    assert "neuronpedia" in out
    store._write(
        "CREATE (:Dictionary {uid: 'gpt2-small/L0/aaa-evil', model: 'gpt2-small', layer: 0, "
        "set: 'aaa-evil', neuronpedia: 'gpt2-small/0-res-jb'})"
    )
    code, out = cli(store_uri, "show", "gpt2-small/0-res-jb/0", "--format", "json")
    assert code == 0 and "gpt2-small/L0/res-jb/F0" in out and "aaa-evil" not in out, out


def _forged_export(tmp_path: Path, field: str, value: object) -> Path:
    """The tour's Neuronpedia export with `field` added to every row of every batch."""
    folder = tmp_path / "export"
    shutil.copytree(TOUR_EXPORT, folder)
    for batch in folder.rglob("*.jsonl.gz"):
        rows = [json.loads(line) for line in gzip.open(batch, "rt")]
        with gzip.open(batch, "wt") as handle:
            for row in rows:
                handle.write(json.dumps({**row, field: value}) + "\n")
    return folder


def test_a_feature_file_cannot_file_its_facts_under_another_analysis(
    store, store_uri, tmp_path
) -> None:
    """A row with an `analysis` field used to file HAS_EVIDENCE, HAS_EXAMPLE and
    EXPLAINED_BY facts under the IOI circuit, so removing IOI deleted them."""
    assert cli(store_uri, "ingest", "circuit", str(CIRCUITS))[0] == 0
    code, out = cli(store_uri, "ingest", "features", str(_forged_export(tmp_path, "analysis", IOI)))
    assert code == 0, out
    facts = "(:Feature)-[r:HAS_EVIDENCE|HAS_EXAMPLE|EXPLAINED_BY]->()"
    found = count(store, facts)
    assert (
        found > 0 and count(store, facts.replace("r:", "r:") + f" WHERE r.analysis = '{IOI}'") == 0
    )
    assert cli(store_uri, "analysis", "remove", IOI, "--yes")[0] == 0
    assert count(store, facts) == found


@pytest.mark.parametrize(
    "field, value, says",
    [("uid", "pythia-70m/L0/hijacked", None), ("_empty_lists", "nodes", "_empty_lists")],
)
def test_a_source_field_never_renames_a_node_or_speaks_for_circuitbase(
    store, store_uri, tmp_path, field, value, says
) -> None:
    """A field named like a node's key is kept beside it (`sae_uid`), never as the key; a
    field named like circuitbase's bookkeeping is refused naming it."""
    registry = tmp_path / "pretrained_saes.yaml"
    registry.write_text(
        "pythia-70m-res:\n  model: pythia-70m\n  repo_id: x/y\n  saes:\n"
        f"  - id: blocks.0.hook_resid_post\n    path: p\n    {field}: {value}\n"
    )
    code, out = cli(store_uri, "ingest", "saes", str(registry))
    if says is None:
        assert code == 0, out
        rows = store.read("MATCH (d:Dictionary) RETURN d.uid AS uid, d.sae_uid AS kept")
        assert rows == [
            {"uid": "pythia-70m/L0/pythia-70m-res.blocks.0.hook_resid_post", "kept": value}
        ]
    else:
        one_line_error(code, out)
        assert says in out and count(store, "(d:Dictionary)") == 0


# -- 2. Read-only means the graph only -------------------------------------------------------

OUTSIDE_THE_GRAPH = [
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "LOAD CSV WITH HEADERS FROM 'http://127.0.0.1:9/x.csv' AS line RETURN line",
]
NEO4J_SERVER_PROCEDURES = [
    "CALL db.stats.collect('QUERIES')",
    "CALL db.stats.retrieve('QUERIES')",
    "CALL db.resampleOutdatedIndexes()",
    "CALL db.prepareForReplanning()",
    "CALL db.awaitIndexes()",
]


def test_a_read_only_query_reads_the_graph_and_nothing_else(store, store_uri) -> None:
    """LOAD CSV (files of the server, URLs fetched in its name) on both backends; on Neo4j
    every procedure that is not one of the read procedures, generated from the server's
    own list."""
    statements = list(OUTSIDE_THE_GRAPH)
    if store.backend == "neo4j":
        statements += NEO4J_SERVER_PROCEDURES
        from circuitbase.store.neo4j_store import _READ_PROCEDURES

        listed = store.read("SHOW PROCEDURES YIELD name, mode RETURN name, mode")
        statements += [
            f"CALL {row['name']}()"
            for row in listed
            if row["name"].lower() not in _READ_PROCEDURES and row["mode"] in ("READ", "DBMS")
        ]
    for statement in statements:
        code, out = cli(store_uri, "query", "run", "--cypher", statement)
        one_line_error(code, out)
        assert "root:" not in out, out
    code, out = cli(
        store_uri, "query", "run", "--cypher", "CALL db.labels() YIELD label RETURN label"
    )
    assert code == 0, out


# -- 3. One line, always ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "escape", ["\\uZZZZ", "\\u12", "\\U0011FFFF", "\\q", "\\u00"], ids=lambda e: e[1:]
)
def test_a_bad_escape_in_an_imported_script_is_one_line(store, store_uri, tmp_path, escape) -> None:
    path = tmp_path / "bad.cypher"
    path.write_text(_node_line(NodeLabel.CONCEPT, "x").replace('"x"', f'"x{escape}"') + "\n")
    code, out = cli(store_uri, "import", "cypher", str(path))
    one_line_error(code, out)
    assert str(path) in out and count(store, "(c:Concept)") == 0


PROBE_COLUMNS = "model,layer,neuron,feature,category,k,rank,weight,f1,precision,recall,accuracy"
PROBE_ROW = "pythia-70m,2,7,is_python,code,2,0,1.5,0.91,0.90,0.92,0.95"


@pytest.mark.parametrize("column", ["layer", "neuron", "k", "rank"])
@pytest.mark.parametrize(
    "number", ["9223372036854775808", "99999999999999999999999", "-9223372036854775809"]
)
def test_a_whole_number_past_64_bits_in_a_probe_table_is_one_line(
    store, store_uri, tmp_path, column, number
) -> None:
    values = PROBE_ROW.split(",")
    values[PROBE_COLUMNS.split(",").index(column)] = number
    path = tmp_path / "probes.csv"
    path.write_text(f"{PROBE_COLUMNS}\n{','.join(values)}\n")
    code, out = cli(store_uri, "ingest", "probes", str(path))
    one_line_error(code, out)
    assert count(store, "(n)") == 0


@pytest.mark.parametrize(
    "value", ["9223372036854775808", "-9223372036854775809", "NaN", "Infinity", "[1, 1e999]"]
)
def test_a_parameter_no_store_takes_is_one_line(store, store_uri, value) -> None:
    code, out = cli(
        store_uri, "query", "run", "--cypher", "RETURN $n AS n", "--param", f"n={value}"
    )
    assert code == 2 and "Traceback" not in out and "64 bits" in out, out
    code, out = cli(
        store_uri, "query", "run", "--cypher", "RETURN $n AS n", "--param", "n=9223372036854775807"
    )
    assert code == 0 and "9223372036854775807" in out, out


def test_a_killed_server_during_a_write_is_one_line_and_lets_go(tmp_path) -> None:
    """The server is killed while `model add` writes: one error line (closing the store
    used to save again and raise a traceback), and the next command starts a new server."""
    import threading
    import time

    db = tmp_path / "kb"
    assert command(db, "init").returncode == 0
    process = started(db, "model", "add", "pythia-6.9b", "--components", "all", text=True)

    def kill_when_writing() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            pid_file = db / "falkordb.pid"
            if pid_file.exists() and (db / "graph.rdb").exists():
                time.sleep(1.0)
                try:
                    os.kill(int(pid_file.read_text()), 9)
                except (OSError, ValueError):
                    pass
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_writing)
    killer.start()
    out, err = process.communicate(timeout=300)
    killer.join()
    if process.returncode == 0:
        pytest.skip("the write finished before the server was killed")
    one_line_error(process.returncode, err)
    assert command(db, "stats").returncode == 0


def test_an_explanation_without_a_score_renders_and_downloads_name_any_text(store) -> None:
    """Three of the four tour features have explanations without a score: their pages were
    HTTP 500. A download of a node named with non-Latin-1 text dropped the connection."""
    from urllib.parse import urlencode

    from markupsafe import escape

    from circuitbase.ingest.pipeline import ingest
    from circuitbase.schema.records import node
    from circuitbase.sources.features import FORMAT
    from circuitbase.web.app import create_app

    code, out = cli(store.location, "ingest", "features", str(TOUR_EXPORT))
    assert code == 0, out
    ingest(store, [node(NodeLabel.CONCEPT, "日本語 — ✓")])
    client = create_app(store, "t0ken").test_client()
    features = [
        row["uid"] for row in store.read("MATCH (f:Feature) RETURN f.uid AS uid ORDER BY uid")
    ]
    assert len(features) == 4 and FORMAT.name == "features"
    for uid in features:
        page = client.get("/t0ken/node?" + urlencode({"kind": "Feature", "key": uid}))
        assert page.status_code == 200, (uid, page.status_code)
    unscored = store.read(
        "MATCH (f:Feature)-[r:EXPLAINED_BY]->(e:Explanation) WHERE r.score IS NULL RETURN f.uid AS uid, e.text AS text"
    )
    assert unscored
    url = "/t0ken/node?" + urlencode({"kind": "Feature", "key": unscored[0]["uid"]})
    page = client.get(url).get_data(as_text=True)
    assert str(escape(unscored[0]["text"])) in page  # as the page escapes it
    download = client.get(
        "/t0ken/export", query_string={"kind": "Concept", "key": "日本語 — ✓", "format": "graphml"}
    )
    assert download.status_code == 200, download.status_code
    disposition = download.headers["Content-Disposition"]
    disposition.encode("latin-1")  # a header is Latin-1
    assert "filename*=UTF-8''" in disposition


# -- 4. No silent guesses --------------------------------------------------------------------

READ_COMMANDS = [
    ["stats"],
    ["query", "run", "--cypher", "MATCH (n) RETURN count(n) AS n"],
    ["show", "pythia-70m/L0/N1"],
    ["check"],
    ["model", "list"],
    ["analysis", "list"],
    ["similarity", "fine-tuning", "gpt2-small"],
]


def test_a_read_command_on_a_store_that_does_not_exist_names_the_nearest(tmp_path) -> None:
    real = tmp_path / "kb"
    assert command(real, "init").returncode == 0
    for typo in (tmp_path / "kbb", tmp_path / "nonexistent" / "dir" / "x"):
        for args in READ_COMMANDS:
            done = command(typo, *args)
            one_line_error(done.returncode, done.stderr)
            assert f"no store at {typo}" in done.stderr, done.stderr
            assert not typo.exists(), args
    for args in (["server", "status"], ["server", "stop"]):  # the truth, and nothing made
        done = command(tmp_path / "kbb", *args)
        assert done.returncode == 0 and "no server running" in done.stdout, done.stderr
        assert not (tmp_path / "kbb").exists()
    done = command(tmp_path / "kbb", "stats")
    assert str(real) in done.stderr
    assert command(tmp_path / "kbb", "init").returncode == 0  # a writing command creates one


def test_a_head_role_one_edit_from_a_known_one_needs_new_role(store, store_uri, tmp_path) -> None:
    assert cli(store_uri, "ingest", "heads", str(HEADS_GPT2))[0] == 0  # induction, previous-token
    before = graph_fingerprint(store)
    for typo in ("inducton", "induction2", "Induction", "previous_token", "prevous-token"):
        path = tmp_path / "roles.csv"
        path.write_text(f"model,layer,head,role,score\ngpt2-small,1,1,{typo},0.5\n")
        code, out = cli(store_uri, "ingest", "heads", str(path))
        if typo == "Induction":
            assert code == 1 or count(store, "(r:HeadRole {name: 'Induction'})") == 0
            continue
        one_line_error(code, out)
        assert "--new-role" in out and str(path) in out, out
        assert graph_fingerprint(store) == before
    code, out = cli(store_uri, "ingest", "heads", str(path), "--new-role", "prevous-token")
    assert code == 0 and count(store, "(r:HeadRole {name: 'prevous-token'})") == 1, out
    # concepts are names of published tables, one character apart on purpose
    probes = tmp_path / "probes.csv"
    probes.write_text(
        f"{PROBE_COLUMNS}\npythia-70m,2,7,upos_ADV,upos,1,0,1.5,0.91,0.90,0.92,0.95\n"
        "pythia-70m,2,8,upos_ADJ,upos,1,0,1.5,0.91,0.90,0.92,0.95\n"
    )
    assert cli(store_uri, "ingest", "probes", str(probes))[0] == 0


@pytest.mark.parametrize("digit", ["٣", "३", "３"])
def test_only_ascii_digits_are_numbers(store, store_uri, tmp_path, digit) -> None:
    cli(store_uri, "model", "add", "pythia-70m")
    code, out = cli(
        store_uri, "query", "run", "single_neuron_concepts", "--param", f"min_models={digit}"
    )
    assert code != 0 and "Traceback" not in out, out
    code, out = cli(store_uri, "show", f"pythia-70m/L{digit}/N1")
    assert code == 1, out
    path = tmp_path / "probes.csv"
    path.write_text(f"{PROBE_COLUMNS}\npythia-70m,2,{digit},f,code,2,0,1.5,0.91,0.90,0.92,0.95\n")
    one_line_error(*cli(store_uri, "ingest", "probes", str(path)))


def test_export_out_is_a_regular_file_of_the_format(store, store_uri, tmp_path) -> None:
    """Never a link, a FIFO or a device (one of the test's own: never the machine's),
    and `--format` agrees with the suffix of `--out`."""
    cli(store_uri, "model", "add", "pythia-70m")
    args = ["export", "--around", "pythia-70m/L0/N1", "--format", "graphml", "--out"]
    target = tmp_path / "target.graphml"
    target.write_text("mine")
    (tmp_path / "link.graphml").symlink_to(target)
    os.mkfifo(tmp_path / "fifo.graphml")
    places = [tmp_path / "link.graphml", tmp_path / "fifo.graphml"]
    try:
        os.mknod(tmp_path / "device.graphml", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        places.append(tmp_path / "device.graphml")
    except PermissionError:
        pass  # not root: no device node of our own
    for place in places:
        mode = os.lstat(place).st_mode
        code, out = cli(store_uri, *args, str(place))
        one_line_error(code, out)
        assert os.lstat(place).st_mode == mode, place
    assert target.read_text() == "mine"
    for fmt, out_name in [("png", "x.pdf"), ("graphml", "x.json"), ("latex", "x.csv")]:
        code, out = cli(
            store_uri,
            "export",
            "--around",
            "pythia-70m/L0/N1",
            "--format",
            fmt,
            "--out",
            str(tmp_path / out_name),
        )
        one_line_error(code, out)
        assert not (tmp_path / out_name).exists()


def test_check_finds_a_component_past_its_models_shape(store, store_uri) -> None:
    cli(store_uri, "model", "add", "pythia-70m")  # 6 layers, 8 heads, 2048 neurons
    assert cli(store_uri, "check")[0] == 0
    for uid, layer, index, label in [
        ("pythia-70m/L6/N1", 6, 1, "Neuron"),
        ("pythia-70m/L0/H8", 0, 8, "AttentionHead"),
        ("pythia-70m/L0/N2048", 0, 2048, "Neuron"),
    ]:
        store._write(
            f"MATCH (m:Model {{uid: 'pythia-70m'}}) CREATE (c:Component:{label} {{uid: $uid, "
            "model: 'pythia-70m', layer: $layer, index: $index})-[:IN_MODEL]->(m)",
            {"uid": uid, "layer": layer, "index": index},
        )
        code, out = cli(store_uri, "check")
        assert code == 1 and "components-out-of-shape" in out, out
        store._write("MATCH (c:Component {uid: $uid}) DETACH DELETE c", {"uid": uid})


def test_collected_lists_come_in_one_order(store, store_uri) -> None:
    """`collect()` follows storage order: lists of models come from the smallest, other
    lists sorted, whatever order the files were ingested in."""
    from circuitbase.queries import get_template

    probes = sorted((EXAMPLES / "probes").glob("*.csv"))
    outputs = []
    for order in (probes, probes[::-1]):
        store.clear()
        store.ensure_schema()
        for path in order:
            assert cli(store_uri, "ingest", "probes", str(path))[0] == 0
        rows = get_template("single_neuron_concepts").run(store, min_score=0.95, min_models=2)
        outputs.append(json.dumps(rows, sort_keys=True))
    assert outputs[0] == outputs[1]
    rows = json.loads(outputs[0])
    assert rows and all(
        row["models"]
        == sorted(
            row["models"],
            key=lambda m: ["pythia-70m", "pythia-160m", "pythia-410m", "pythia-1b"].index(m),
        )
        for row in rows
    )


def test_a_closed_pipe_ends_quietly(tmp_path) -> None:
    db = tmp_path / "kb"
    assert command(db, "model", "add", "pythia-70m").returncode == 0
    process = started(
        db, "query", "run", "--cypher", "MATCH (n:Neuron) RETURN n.uid AS uid", "--format", "csv"
    )
    assert process.stdout is not None
    process.stdout.readline()
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert b"Broken pipe" not in err and b"Traceback" not in err, err


def test_csv_output_of_a_query_never_runs_in_a_spreadsheet(store, store_uri) -> None:
    for start in ("=", "+", "-", "@", "|", "\t"):
        code, out = cli(
            store_uri,
            "query",
            "run",
            "--cypher",
            "RETURN $v AS v, -0.5 AS n",
            "--param",
            f"v={start}cmd|' /C calc'!A0",
            "--format",
            "csv",
        )
        assert code == 0, out
        cell = out.splitlines()[1]
        assert cell.startswith(("'", '"\'')) and cell.endswith(",-0.5"), cell


# -- 5. Stopping never waits on a zombie -----------------------------------------------------


def test_a_zombie_is_not_alive() -> None:
    import time

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0]
        if state == "Z":
            break
        time.sleep(0.02)
    assert not pid_alive(child.pid)  # a zombie: exited, not yet reaped
    child.wait()
    assert not pid_alive(child.pid)
    assert pid_alive(os.getpid())


# -- 6. Neo4j offline import -----------------------------------------------------------------


@pytest.mark.parametrize(
    "home, database, says",
    [("neo4j", "system", "system"), ("neo4j", "Bad_Name", "name"), ("a,b", "neo4j", "','")],
)
def test_an_offline_import_refuses_what_neo4j_cannot_take(tmp_path, home, database, says) -> None:
    """Before anything runs, so nothing is left behind (a lock made every retry fail)."""
    for _ in range(2):
        done = command(
            tmp_path / "kb",
            "model",
            "add",
            "pythia-70m",
            "--neo4j-home",
            str(tmp_path / home),
            "--neo4j-database",
            database,
        )
        one_line_error(done.returncode, done.stderr)
        assert says in done.stderr and "Exception" not in done.stderr, done.stderr


# -- 7. Parsers bounded by their input -------------------------------------------------------

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    "text, says",
    [
        (LAUGHS, "aliases"),
        ("r: &r {model: gpt2, saes: []}\ns: *r\n", "aliases"),
        ("rel:\n  model: gpt2\n  model: x\n  saes: []\n", "'model' appears twice"),
        ("rel:\n  model: gpt2\n  saes:\n  - {id: a, path: p, id: b}\n", "'id' appears twice"),
    ],
)
def test_a_yaml_registry_is_bounded_by_its_size_and_says_each_key_once(
    store, store_uri, tmp_path, text, says
) -> None:
    path = tmp_path / "pretrained_saes.yaml"
    path.write_text(text)
    code, out = cli(store_uri, "ingest", "saes", str(path))
    one_line_error(code, out)
    assert says in out and count(store, "(n)") == 0


def test_a_table_column_named_analysis_files_nothing_under_another(
    store, store_uri, tmp_path
) -> None:
    """A universal-neurons table (every column kept) with an `analysis` column naming the
    IOI circuit: its facts are its own analysis's."""
    import csv

    assert cli(store_uri, "ingest", "circuit", str(CIRCUITS))[0] == 0
    rows = list(csv.reader(open(DATA / "universal-neurons" / "pythia-160m" / "universal.csv")))
    folder = tmp_path / "pythia-160m"
    folder.mkdir()
    with open(folder / "universal.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*rows[0], "analysis"])
        writer.writerows([*row, IOI] for row in rows[1:20])
    code, out = cli(store_uri, "ingest", "universal", str(folder / "universal.csv"))
    assert code == 0, out
    facts = count(store, "()-[r:IN_FAMILY]->()")
    assert facts > 0 and count(store, f"()-[r:IN_FAMILY]->() WHERE r.analysis = '{IOI}'") == 0
    assert cli(store_uri, "analysis", "remove", IOI, "--yes")[0] == 0
    assert count(store, "()-[r:IN_FAMILY]->()") == facts


def test_an_import_never_changes_a_stored_fact(store, store_uri, tmp_path) -> None:
    """The store's own export with one fact's score changed (a head's role in IOI, a
    measurement) is refused naming the property; the export as written adds nothing."""
    assert cli(store_uri, "ingest", "circuit", str(CIRCUITS))[0] == 0
    assert cli(store_uri, "ingest", "heads", str(HEADS_GPT2))[0] == 0
    exported = tmp_path / "around.cypher"
    args = ["export", "--around", "gpt2-small/L9/H9", "--format", "cypher", "--out", str(exported)]
    assert cli(store_uri, *args)[0] == 0
    before = graph_fingerprint(store)
    lines = exported.read_text().splitlines()
    facts = [i for i, line in enumerate(lines) if "HAS_ROLE" in line and "score: " in line]
    assert facts
    for i in facts:
        forged = lines.copy()
        head, _, tail = forged[i].rpartition("score: ")
        forged[i] = (
            head + "score: 0.999" + tail[tail.index(",") if "," in tail else tail.index("}") :]
        )
        path = tmp_path / "forged.cypher"
        path.write_text("\n".join(forged) + "\n")
        code, out = cli(store_uri, "import", "cypher", str(path))
        one_line_error(code, out)
        assert "score" in out and "never changes" in out, out
    assert cli(store_uri, "import", "cypher", str(exported))[0] == 0
    assert graph_fingerprint(store) == before


def test_an_import_adds_facts_only_with_their_analysis(store, store_uri, tmp_path) -> None:
    """A file cannot file facts under a stored analysis it does not hold (the IOI circuit):
    refused; a store's own export carries each fact's analysis and goes into a new store."""
    assert cli(store_uri, "ingest", "circuit", str(CIRCUITS))[0] == 0
    before = graph_fingerprint(store)
    forged = tmp_path / "forged.cypher"
    forged.write_text(
        _node_line(NodeLabel.HEAD, "gpt2-small/L0/H1")
        + "\n"
        + _node_line(NodeLabel.HEAD_ROLE, "name-mover")
        + "\n"
        + _rel_line(
            "HAS_ROLE",
            (NodeLabel.HEAD, "gpt2-small/L0/H1"),
            (NodeLabel.HEAD_ROLE, "name-mover"),
            {"analysis": IOI, "score": 1.0, "method": "circuit class"},
        )
        + "\n"
    )
    code, out = cli(store_uri, "import", "cypher", str(forged))
    one_line_error(code, out)
    assert "does not hold" in out and IOI in out, out
    assert graph_fingerprint(store) == before
    for fmt in ("cypher", "graphml"):
        exported = tmp_path / f"around.{fmt}"
        args = ["export", "--around", "gpt2-small/L9/H9", "--format", fmt, "--out", str(exported)]
        assert cli(store_uri, *args)[0] == 0
        done = command(tmp_path / f"new-{fmt}", "import", fmt, str(exported))
        assert done.returncode == 0, done.stderr


def test_a_bulk_load_on_a_full_disk_is_one_line(tmp_path) -> None:
    """The bulk loader into a new store whose files may not grow (RLIMIT_FSIZE, as on a
    full disk; the server the command starts inherits it): one line, exit 1 (closing the
    store used to save again and raise)."""
    import resource
    import signal

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "circuitbase",
            "--db",
            str(tmp_path / "kb"),
            "model",
            "add",
            "pythia-160m",
            "--components",
            "all",
            "--bulk",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limited,
        env={**os.environ, "CIRCUITBASE_SERVER_IDLE": "0"},
    )
    one_line_error(done.returncode, done.stderr)
