"""Hostile input, round two (issue #26): one test per class of attack, each generating
variants of its class, on both backends where a store is involved.

The classes: one store has one server whatever its path; names and numbers are checked
where they enter; identity cannot be forged; every export is safe for its format and
writes only what it names; output and services neither obey nor leak; `check` repairs
what earlier versions left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import DATA
from helpers import cli, count, graph_fingerprint, run_circuitbase

from circuitbase.ingest.pipeline import ingest, ingest_files
from circuitbase.schema.graph import NodeLabel, RelType
from circuitbase.schema.records import NodeRecord, RecordError, RelRecord, ref
from circuitbase.sources.files import parse_json
from circuitbase.sources.probes import probe_records
from circuitbase.store.falkor_server import pid_alive

C0 = [chr(c) for c in range(0x01, 0x20)]
C1 = [chr(c) for c in range(0x7F, 0xA0)]  # DEL and the C1 controls
PROBE_HEADER = "model,layer,neuron,feature,category,k,rank,weight,f1,precision,recall,accuracy\n"


def probe_csv(path: Path, feature: str, category: str = "code") -> Path:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(PROBE_HEADER)
        csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC).writerow(
            ["pythia-70m", 2, 7, feature, category, 2, 0, 1.5, 0.91, 0.90, 0.92, 0.95]
        )
    return path


def command(
    db: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """circuitbase in its own process, as a user runs it."""
    return run_circuitbase(
        db, *args, env={"CIRCUITBASE_SERVER_IDLE": "60", **(env or {})}, timeout=timeout
    )


def wait_until(condition, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


# -- 1. One store, one server, whatever the path --------------------------------------------


@pytest.mark.parametrize("long_path", [True, False], ids=["socket-in-tmp", "socket-in-store"])
def test_a_renamed_store_keeps_one_server_and_loses_no_write(tmp_path, long_path) -> None:
    """The reproduction: A renamed to B, written through B, stopped, renamed back to A and
    written again: both writes are there (the old server of A used to overwrite B's)."""
    parent = tmp_path / ("p" * 90 if long_path else "p")
    parent.mkdir()
    a, b = parent / "A", parent / "B"
    assert command(a, "model", "add", "pythia-70m").returncode == 0
    pid = int((a / "falkordb.pid").read_text())
    a.rename(b)
    through_b = command(b, "model", "add", "gpt2-small")
    assert through_b.returncode == 0, through_b.stderr
    assert int((b / "falkordb.pid").read_text()) == pid  # the same server, found by identity
    assert command(b, "server", "stop").returncode == 0
    assert wait_until(lambda: not pid_alive(pid), 10)
    b.rename(a)
    assert command(a, "model", "add", "toy", "--n-layers", "1", "--n-heads", "1").returncode == 0
    listed = command(
        a,
        "query",
        "run",
        "--format",
        "json",
        "--cypher",
        "MATCH (m:Model) RETURN m.uid AS m ORDER BY m",
    )
    assert [row["m"] for row in json.loads(listed.stdout)] == ["gpt2-small", "pythia-70m", "toy"]
    command(a, "server", "stop")


def test_a_live_server_holding_the_files_elsewhere_is_used_not_doubled(tmp_path) -> None:
    """Its socket gone (removed by hand), the server that keeps the store's files is still
    found (by the files' identity) and no second server loads the same files."""
    db = tmp_path / "kb"
    assert command(db, "model", "add", "pythia-70m").returncode == 0
    pid = int((db / "falkordb.pid").read_text())
    os.unlink(db / "falkordb.sock")
    again = command(db, "stats")
    assert again.returncode == 1 and f"pid {pid}" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and "Traceback" not in again.stderr
    os.kill(pid, 15)
    assert wait_until(lambda: not pid_alive(pid), 10)
    assert command(db, "stats").returncode == 0  # it had saved: a new server loads it


@pytest.mark.parametrize(
    "fault", ["watchdog-killed", "pid-file-names-another-process", "store-deleted"]
)
def test_the_watchdog_and_pid_file_are_never_trusted_blindly(tmp_path, fault) -> None:
    db = tmp_path / "kb"
    env = {"CIRCUITBASE_SERVER_IDLE": "2"}
    assert command(db, "model", "add", "pythia-70m", env=env).returncode == 0
    pid = int((db / "falkordb.pid").read_text())
    if fault == "watchdog-killed":
        watchdog = int((db / "watchdog.pid").read_text())
        os.kill(watchdog, 9)
        assert wait_until(lambda: not pid_alive(watchdog), 5)
        assert command(db, "stats", env=env).returncode == 0  # reused: a new watchdog
        assert int((db / "watchdog.pid").read_text()) != watchdog
        assert wait_until(lambda: not pid_alive(pid), 30), "the idle server never stopped"
    elif fault == "pid-file-names-another-process":
        bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            (db / "falkordb.pid").write_text(str(bystander.pid))
            status = command(db, "server", "status", "--format", "json", env=env)
            assert json.loads(status.stdout)[0]["pid"] == pid
            started = time.monotonic()
            assert command(db, "server", "stop", env=env).returncode == 0
            assert time.monotonic() - started < 20 and not pid_alive(pid)
            assert bystander.poll() is None  # never waited on, never signalled
        finally:
            bystander.kill()
    else:
        import shutil

        shutil.rmtree(db)
        assert wait_until(lambda: not pid_alive(pid), 30), "a server whose store is gone still runs"


# -- 2. Names and numbers checked where they enter -------------------------------------------


@pytest.mark.parametrize("chars", [C0, C1], ids=["C0", "DEL+C1"])
def test_control_characters_are_refused_in_every_kind_of_name(store, tmp_path, chars) -> None:
    """Every C0/C1 character, in a concept, a category, a model's name and a property key
    (through the probe table, the library's records and head metrics), is refused with
    file, record and field, and nothing is written. The reproduction: `\\x01` in a concept
    used to write an analysis, neuron and concept, and one more concept each rerun."""
    before = graph_fingerprint(store)
    for char in chars:
        for column in ("feature", "category"):
            path = probe_csv(
                tmp_path / "p.csv",
                f"con{char}cept" if column == "feature" else "fr",
                f"cat{char}" if column == "category" else "code",
            )
            with pytest.raises(RecordError) as caught:
                ingest_files(store, [path], probe_records)
            text = str(caught.value)
            assert str(path) in text and "record line" in text and "control character" in text, text
            assert f"U+{ord(char):04X}" in text
        for bad in (NodeRecord(NodeLabel.CONCEPT, "x") for _ in [0]):
            with pytest.raises(RecordError, match="control character"):
                ingest(store, [NodeRecord(NodeLabel.MODEL, f"m{char}", {})])
            with pytest.raises(RecordError, match="control character"):
                ingest(store, [NodeRecord(NodeLabel.CONCEPT, "x", {"colour": f"re{char}d"})])
            del bad
    assert graph_fingerprint(store) == before


def test_token_text_may_hold_any_control_and_round_trips(store) -> None:
    """Token texts are text as found: every C0/C1 character is stored as it is, on both
    backends, and its relationship finds it (no orphan, no partial write)."""
    texts = [f"t{char}x" for char in C0 + C1] + ["\u202e evil", " Paris"]
    records = [NodeRecord(NodeLabel.MODEL, "toy", {"n_layers": 1, "n_heads": 1, "d_mlp": 2})]
    for i, text in enumerate(texts):
        token = NodeRecord(NodeLabel.TOKEN, json.dumps(text, ensure_ascii=False), {"text": text})
        records += [
            token,
            RelRecord(
                RelType.ACTIVATES_ON,
                ref(NodeLabel.NEURON, f"toy/L0/N{i % 2}"),
                token.ref,
                {"analysis": "a", "activation": 1.0},
            ),
        ]
    records.append(NodeRecord(NodeLabel.ANALYSIS, "a", {"kind": "n2g", "method": "m"}))
    ingest(store, records)
    stored = {
        row["t"]
        for row in store.read("MATCH (:Neuron)-[:ACTIVATES_ON]->(t:Token) RETURN t.text AS t")
    }
    assert stored == set(texts)
    assert count(store, "(t:Token)") == len(texts)


def test_a_name_too_long_for_a_property_key_is_refused(store, store_uri, tmp_path) -> None:
    data = json.loads(
        (
            Path(__file__).parents[1] / "circuitbase/examples/head-metrics/"
            "openai-community-gpt2-monology-pile-uncopyrighted.json"
        ).read_text()
    )
    matrix = next(v for k, v in data["metrics"].items() if k != "counts")
    for name in ("m" * 100_000, "m" * 201):
        data["metrics"] = {name: matrix}
        path = tmp_path / "heads.json"
        path.write_text(json.dumps(data))
        before = graph_fingerprint(store)
        code, out = cli(store_uri, "ingest", "heads", str(path))
        assert (
            code == 1 and "at most 200 characters" in out and len(out.strip().splitlines()) == 1
        ), out[:300]
        assert graph_fingerprint(store) == before


@pytest.mark.parametrize(
    "number", ["1e999", "-1e999", "1" * 30, "-9223372036854775809", "9223372036854775808"]
)
def test_every_number_in_a_file_is_finite_and_within_64_bits(number) -> None:
    """In metadata and parameters too: a JSON reader turns 1e999 into infinity silently."""
    for text in (f'{{"config": {{"n_sequences": {number}}}}}', f"[{number}]"):
        with pytest.raises(RecordError, match="finite number|64 bits"):
            parse_json(text.encode(), Path("f.json"))
    assert parse_json(b"[9223372036854775807, -0.5, 1e308]", Path("f.json"))[0] == 2**63 - 1


def test_a_files_claimed_size_bounds_the_work(store, store_uri, tmp_path) -> None:
    """The reproduction: 130 bytes claiming 10,000 layers x 100,000 heads used to plan 10^9
    records. Every variant is refused at once, nothing written."""
    variants = [
        {"metrics": {"counts": {}}},
        {"metrics": {"counts": {"n": [1.0] * 10_000}}},
        {"metrics": {"x": [[0.0]]}},
    ]
    for variant in variants:
        path = tmp_path / "claims.json"
        path.write_text(
            json.dumps(
                {
                    "config": {
                        "model_name": "m",
                        "num_hidden_layers": 10_000,
                        "num_attention_heads": 100_000,
                    },
                    **variant,
                }
            )
        )
        started = time.monotonic()
        code, out = cli(store_uri, "ingest", "heads", str(path))
        assert code == 1 and str(path) in out and time.monotonic() - started < 10, out
        assert count(store, "(n)") == 0


# -- 3. Identity cannot be forged ----------------------------------------------------------


def test_a_repeated_node_id_or_json_key_is_refused(store, store_uri, tmp_path) -> None:
    """The reproduction: a second node reusing a node_id (another layer) rewired the links
    of the first. A JSON object naming a key twice is refused in every format."""
    graph = json.loads(
        (DATA / "circuit-tracer" / "123-gemma-3-1b-pt-gemmascope2-16k.json").read_text()
    )
    assert (
        cli(store_uri, "model", "add", "gemma-3-1b-pt", "--n-layers", "26", "--n-heads", "4")[0]
        == 0
    )
    error = next(n for n in graph["nodes"] if n["feature_type"] == "mlp reconstruction error")
    twin = {**error, "layer": str((int(error["layer"]) + 1) % 26)}
    graph["nodes"].append(twin)
    path = tmp_path / "g.json"
    path.write_text(json.dumps(graph))
    before = graph_fingerprint(store)
    code, out = cli(store_uri, "ingest", "circuit", str(path))
    assert code == 1 and "used by two nodes" in out and error["node_id"] in out, out
    path.write_text('{"metadata": {"slug": "a", "slug": "b"}, "nodes": [], "links": []}')
    code, out = cli(store_uri, "ingest", "circuit", str(path))
    assert code == 1 and "appears twice" in out and str(path) in out, out
    assert graph_fingerprint(store) == before


def test_a_graphml_import_with_a_repeated_node_id_is_refused(store, store_uri, tmp_path) -> None:
    assert cli(store_uri, "ingest", "probes", str(probe_csv(tmp_path / "p.csv", "fr")))[0] == 0
    out_path = tmp_path / "x.graphml"
    assert (
        cli(
            store_uri,
            "export",
            "--around",
            "pythia-70m/L2/N7",
            "--format",
            "graphml",
            "--out",
            str(out_path),
        )[0]
        == 0
    )
    text = out_path.read_text()
    first = text.index("<node ")
    node = text[first : text.index("</node>", first) + len("</node>")]
    out_path.write_text(text.replace(node, node + node, 1))  # the same id twice
    before = graph_fingerprint(store)
    code, out = cli(store_uri, "import", "graphml", str(out_path))
    assert code == 1 and "used by two nodes" in out, out
    assert graph_fingerprint(store) == before


def test_a_user_alias_cannot_name_a_known_or_stored_model(
    store, store_uri, tmp_path, monkeypatch
) -> None:
    from circuitbase.schema import aliases

    assert cli(store_uri, "model", "add", "mine", "--n-layers", "1", "--n-heads", "1")[0] == 0
    before = graph_fingerprint(store)
    for alias, target, says in [
        ("pythia-70m-deduped", "pythia-70m", "name of a known model"),
        ("gpt2-small", "pythia-70m", "name of a known model"),
        ("mine", "pythia-70m", "model in this store"),
    ]:
        path = tmp_path / f"aliases-{alias}.json"
        path.write_text(json.dumps({alias: target}))
        monkeypatch.setenv(aliases.ALIASES_ENV, str(path))
        aliases._user_aliases.cache_clear()
        code, out = cli(store_uri, "model", "add", "pythia-70m")
        assert code == 1 and says in out and alias in out, out
        assert graph_fingerprint(store) == before
    aliases._user_aliases.cache_clear()


# -- 4. Every export is safe for its format and writes only what it names ------------------

HOSTILE_CITATIONS = [
    ('@misc{evilpre, title={Fine}}\n@preamble{"\\input{/etc/hostname}"}', "@preamble"),
    ('@string{x = "\\input{/etc/hostname}"}\n@misc{k, title=x}', "@string"),
    ("@misc{a, title={One}}\n@misc{b, title={Two}}", "one entry"),
    ("@misc{k, title={\\input{/etc/hostname}}}", "\\input"),
    ("@misc{k, title={\\include{/etc/hostname}}}", "\\include"),
    ("@misc{k, note={\\immediate\\write18{touch /tmp/pwned}}}", "\\immediate"),
    ("@misc{k, title={^^5cinput{/etc/hostname}}}", "^^"),
    ("@misc{evil%, title={Fine}}", "key"),
    ("@misc{evil}x, title={Fine}}", ""),
]


def probes_json(path: Path, citation: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "analysis": {"uid": "my-lab/probes-v1", "citation": citation},
                "probes": [
                    {
                        "model": "pythia-70m",
                        "layer": 2,
                        "feature": "is_python_code",
                        "category": "code",
                        "k": 1,
                        "f1": 0.91,
                        "neurons": [{"neuron": 7, "weight": 1.5}],
                    }
                ],
            }
        )
    )
    return path


def test_a_hostile_bibtex_citation_is_refused(store, store_uri, tmp_path) -> None:
    before = graph_fingerprint(store)
    for citation, says in HOSTILE_CITATIONS:
        code, out = cli(
            store_uri, "ingest", "probes", str(probes_json(tmp_path / "p.json", citation))
        )
        assert code == 1 and says in out and len(out.strip().splitlines()) == 1, (citation, out)
    assert graph_fingerprint(store) == before


def test_a_user_entry_never_takes_a_shipped_key_and_keys_are_safe_in_latex(
    store, store_uri, tmp_path
) -> None:
    from pybtex.database import parse_file

    from circuitbase.export.citations import SHIPPED_KEYS

    citation = "@article{gurnee2023finding, author={Me, A.}, title={Not {Gurnee}}, year={2026}}"
    assert (
        cli(store_uri, "ingest", "probes", str(probes_json(tmp_path / "p.json", citation)))[0] == 0
    )
    # an older version stored unchecked entries: the export rewrites or falls back, never copies
    store._write(
        "MATCH (a:Analysis) SET a.citation = $c",
        {"c": '@misc{evil%, title={x}}\n@preamble{"\\input{/etc/hostname}"}'},
    )
    code, out = cli(
        store_uri,
        "export",
        "single_neuron_concepts",
        "--param",
        "min_score=0.5",
        "--param",
        "min_models=1",
        "--format",
        "latex",
        "--out",
        str(tmp_path / "t.tex"),
    )
    assert code == 0, out
    bib = (tmp_path / "t.bib").read_text()
    parsed = parse_file(str(tmp_path / "t.bib"))
    assert parsed.preamble == "" and len(parsed.entries) == 1  # the old text, cited as escaped text
    assert "\\input{" not in bib and "evil%" not in bib
    store._write("MATCH (a:Analysis) SET a.citation = $c", {"c": citation})
    cli(
        store_uri,
        "export",
        "single_neuron_concepts",
        "--param",
        "min_score=0.5",
        "--param",
        "min_models=1",
        "--format",
        "latex",
        "--out",
        str(tmp_path / "t.tex"),
    )
    entries = parse_file(str(tmp_path / "t.bib")).entries
    assert len(entries) == 1
    ((key, entry),) = entries.items()
    assert key not in SHIPPED_KEYS and key.startswith("gurnee2023finding-")
    assert entry.fields["title"] == "Not {Gurnee}"
    assert "\\cite{" + key + "}" in (tmp_path / "t.tex").read_text()


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(store, store_uri, tmp_path) -> None:
    formulas = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\r=1", "|calc"]
    for i, name in enumerate(formulas):
        path = probe_csv(tmp_path / f"p{i}.csv", f"f{i}", "code")
        ingest_files(store, [path], probe_records)
        store._write(
            "MATCH (c:Concept {name: $old}) SET c.name = $new", {"old": f"f{i}", "new": name}
        )
    store._write("MATCH ()-[r:ENCODES]->() SET r.weight = -0.5")
    code, out = cli(
        store_uri,
        "export",
        "--around",
        "pythia-70m/L2/N7",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "x.csv"),
    )
    assert code == 0, out
    import csv

    cells = [
        cell
        for name in ("x.nodes.csv", "x.edges.csv")
        for row in csv.reader(open(tmp_path / name, newline=""))
        for cell in row
    ]
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r", "|")) for cell in cells)
    assert not any(cell.startswith("-") and cell != "-0.5" for cell in cells)
    assert "-0.5" in cells and "'=1+1" in cells


@pytest.mark.parametrize(
    "fmt, companion",
    [("svg", "x.bib"), ("graphml", "x.bib"), ("csv", "x.nodes.csv"), ("csv", "x.bib")],
)
def test_an_export_never_writes_over_a_file_it_did_not_write(
    store, store_uri, tmp_path, fmt, companion
) -> None:
    assert cli(store_uri, "ingest", "probes", str(probe_csv(tmp_path / "p.csv", "fr")))[0] == 0
    mine = tmp_path / companion
    mine.write_text("@article{mine, title={My paper's own bibliography}}\n")
    out_path = tmp_path / f"x.{fmt}"
    code, out = cli(
        store_uri, "export", "--around", "pythia-70m/L2/N7", "--format", fmt, "--out", str(out_path)
    )
    assert code == 1 and "was not written by circuitbase" in out and str(mine) in out, out
    assert mine.read_text().startswith("@article{mine") and not out_path.exists()
    mine.unlink()
    code, out = cli(
        store_uri, "export", "--around", "pythia-70m/L2/N7", "--format", fmt, "--out", str(out_path)
    )
    written = [
        line.removeprefix("wrote ") for line in out.splitlines() if line.startswith("wrote ")
    ]
    assert code == 0 and sorted(written) == sorted(
        str(p) for p in tmp_path.iterdir() if p.name.startswith("x.")
    ), out
    code, out = cli(
        store_uri, "export", "--around", "pythia-70m/L2/N7", "--format", fmt, "--out", str(out_path)
    )
    assert code == 0, out  # its own companions it writes again


# -- 5. Output and services ------------------------------------------------------------------


def test_control_characters_printed_to_a_terminal_are_escaped(store, store_uri) -> None:
    text = "evil\x1b]0;pwned\x07\x1b[2J\x9b31m"
    token = NodeRecord(NodeLabel.TOKEN, json.dumps(text, ensure_ascii=False), {"text": text})
    ingest(
        store,
        [
            NodeRecord(NodeLabel.MODEL, "toy", {"n_layers": 1, "n_heads": 1, "d_mlp": 2}),
            NodeRecord(NodeLabel.ANALYSIS, "a", {"kind": "n2g", "method": "m"}),
            token,
            RelRecord(
                RelType.ACTIVATES_ON,
                ref(NodeLabel.NEURON, "toy/L0/N1"),
                token.ref,
                {"analysis": "a", "activation": 1.0},
            ),
        ],
    )
    for args in (
        ["show", "toy/L0/N1"],
        ["search", "evil"],
        ["show", "toy/L0/N1", "--format", "json"],
        ["query", "run", "--cypher", "MATCH (t:Token) RETURN t.text AS t"],
        ["query", "run", "--format", "csv", "--cypher", "MATCH (t:Token) RETURN t.text AS t"],
        ["show", text],
    ):
        code, out = cli(store_uri, *args)
        assert not any(char in out for char in C0 + C1 if char not in "\n\t"), (args, out)
        assert "\\u001b" in out, (args, out)
    code, out = cli(
        store_uri,
        "query",
        "run",
        "--format",
        "json",
        "--cypher",
        "MATCH (t:Token) RETURN t.text AS t",
    )
    assert json.loads(out) == [{"t": text}]  # escaped, and still the same JSON


def test_query_run_caps_rows_and_bytes_with_a_notice(store, store_uri) -> None:
    cli(store_uri, "model", "add", "pythia-70m", "--components", "heads")
    code, out = cli(
        store_uri,
        "query",
        "run",
        "--format",
        "json",
        "--max-rows",
        "5",
        "--cypher",
        "MATCH (h:AttentionHead) RETURN h.uid AS uid",
    )
    rows = json.loads(out[: out.rindex("]") + 1])
    assert code == 0 and len(rows) == 5 and "cut at 5 rows" in out
    code, out = cli(
        store_uri,
        "query",
        "run",
        "--format",
        "json",
        "--max-bytes",
        "1024",
        "--cypher",
        "MATCH (h:AttentionHead) RETURN h.uid AS uid",
    )
    rows = json.loads(out[: out.rindex("]") + 1])
    assert code == 0 and 0 < len(rows) < 48 and "cut at 1,024 bytes" in out
    code, out = cli(
        store_uri,
        "query",
        "run",
        "--format",
        "json",
        "--cypher",
        "MATCH (h:AttentionHead) RETURN h.uid AS uid",
    )
    assert len(json.loads(out)) == 48 and "cut" not in out


ADMIN = [
    "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
    "SHOW TRANSACTIONS",
    "SHOW USERS",
    "SHOW DATABASES",
    "CALL dbms.listConnections()",
    "CALL dbms.killConnection('bolt-1')",
    "CREATE USER evil SET PASSWORD 'x'",
    "STOP DATABASE neo4j",
    "MATCH (n) DETACH DELETE n",
    "CREATE INDEX evil FOR (n:Model) ON (n.colour)",
    "CALL db.clearQueryCaches()",
]


def test_query_run_refuses_administration_and_writes(store, store_uri) -> None:
    """On Neo4j a read session still ran TERMINATE TRANSACTIONS (ending another user's
    ingest); every administration command, server procedure and write is refused."""
    cli(store_uri, "model", "add", "pythia-70m")
    before = graph_fingerprint(store)
    for statement in ADMIN:
        code, out = cli(store_uri, "query", "run", "--cypher", statement)
        assert code == 1 and len(out.strip().splitlines()) == 1 and "Traceback" not in out, (
            statement,
            out,
        )
    assert graph_fingerprint(store) == before
    assert count(store, "(m:Model)") == 1


def test_serve_logs_without_its_token_and_pages_do_not_wait_for_downloads(
    store, monkeypatch
) -> None:
    import logging

    from circuitbase import export
    from circuitbase.web import server as web_server
    from circuitbase.web.app import create_app

    ingest(store, [NodeRecord(NodeLabel.MODEL, "toy", {"n_layers": 1, "n_heads": 1, "d_mlp": 2})])
    # the access log, as `serve` writes it
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("werkzeug").addHandler(handler)
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    announced: list[str] = []
    thread = threading.Thread(
        target=web_server.serve,
        kwargs=dict(store=store, port=0, token="s3cr3t-token-value", announce=announced.append),
        daemon=True,
    )
    thread.start()
    assert wait_until(lambda: announced, 10)
    import urllib.request

    with urllib.request.urlopen(announced[0]) as page:
        assert page.status == 200
    assert wait_until(lambda: lines, 5)
    assert lines and not any("s3cr3t-token-value" in line for line in lines), lines
    assert any("<token>" in line for line in lines)
    logging.getLogger("werkzeug").removeHandler(handler)
    # a slow download holds the store only for its store calls: pages answer meanwhile
    release = threading.Event()
    real_write = export.write

    def slow_write(*args, **kwargs):
        release.wait(20)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(export, "write", slow_write)
    from circuitbase.web import app as web_app

    monkeypatch.setattr(web_app, "DOWNLOAD_WAIT_S", 0.5)  # a third download's wait, shortened
    app = create_app(store, "t")
    downloads = [
        threading.Thread(
            target=lambda: app.test_client().get("/t/export?kind=Model&key=toy&format=svg")
        )
        for _ in range(3)
    ]
    for download in downloads:
        download.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert app.test_client().get("/t/").status_code == 200
    assert time.monotonic() - started < 5
    busy = app.test_client().get("/t/export?kind=Model&key=toy&format=svg")
    assert busy.status_code == 503  # two render, the third waits, this one is turned away
    release.set()
    for download in downloads:
        download.join(30)


@pytest.mark.parametrize(
    "variable, value",
    [
        ("CIRCUITBASE_QUERY_TIMEOUT", "abc"),
        ("CIRCUITBASE_QUERY_TIMEOUT", "-1"),
        ("CIRCUITBASE_QUERY_MEMORY", "lots"),
        ("CIRCUITBASE_MAX_FILE_BYTES", "1e3"),
        ("CIRCUITBASE_SERVER_IDLE", "nan"),
        ("CIRCUITBASE_MAX_ROWS", "0"),
        ("CIRCUITBASE_INGEST_WORKERS", "0"),
    ],
)
def test_a_bad_environment_variable_is_one_line(tmp_path, variable, value) -> None:
    path = probe_csv(tmp_path / "p.csv", "fr")
    done = command(tmp_path / "kb", "ingest", "probes", str(path), env={variable: value})
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and variable in done.stderr, done.stderr


def test_server_stop_has_a_way_out_when_it_cannot_save(tmp_path) -> None:
    db = tmp_path / "kb"
    assert command(db, "model", "add", "pythia-70m").returncode == 0
    pid = int((db / "falkordb.pid").read_text())
    (db / "graph.rdb").unlink()
    os.mkdir(db / "graph.rdb")  # a snapshot that cannot be written (as a full disk)
    tmp = [p for p in db.iterdir() if p.name.startswith("temp-")]
    stuck = command(db, "server", "stop")
    assert stuck.returncode == 1 and "--discard" in stuck.stderr and pid_alive(pid), stuck.stderr
    assert len(stuck.stderr.strip().splitlines()) == 1
    done = command(db, "server", "stop", "--discard")
    assert done.returncode == 0 and wait_until(lambda: not pid_alive(pid), 10), done.stderr
    del tmp


# -- 6. Repair -------------------------------------------------------------------------------


def test_check_finds_and_repairs_what_earlier_versions_left(store, store_uri, tmp_path) -> None:
    """Orphan nodes, facts of a removed analysis and an analysis merged by an alias, made
    as an earlier version made them (by writing the store directly); after the repair the
    store equals one that never had them."""
    path = probe_csv(tmp_path / "p.csv", "fr")
    ingest_files(store, [path], probe_records)
    clean = graph_fingerprint(store, ignore=("created_at",))
    assert cli(store_uri, "check")[0] == 0
    store._write(
        "CREATE (:Concept {name: 'orphan'}), (:Token {uid: '\"x\"', text: 'x'}), "
        "(:HeadRole {name: 'lonely'})"
    )
    store._write(
        "MATCH (n:Neuron {uid: 'pythia-70m/L2/N7'}) MERGE (c:Concept {name: 'ghost'}) "
        "CREATE (n)-[:ENCODES {analysis: 'removed/analysis', k: 1, dataset: ''}]->(c)"
    )
    store._write(
        "MATCH (m:Model {uid: 'pythia-70m'}) CREATE (a:Analysis {uid: 'merged/heads', "
        "kind: 'heads', method: 'm', params: $p})-[:ABOUT]->(m) "
        "WITH a MATCH (h:Neuron {uid: 'pythia-70m/L2/N7'}) "
        "CREATE (h)-[:MEASURED_BY {analysis: 'merged/heads', node: ''}]->(a)",
        {"p": json.dumps({"model_name": "EleutherAI/pythia-70m-deduped"})},
    )
    code, out = cli(store_uri, "check")
    assert code == 1, out
    for finding in (
        "facts-without-analysis",
        "unreferenced",
        "merged-by-alias",
        "removed/analysis",
        "merged/heads",
    ):
        assert finding in out, out
    code, out = cli(store_uri, "check", "--repair", "--yes")
    assert code == 0, out
    assert graph_fingerprint(store, ignore=("created_at",)) == clean
    code, out = cli(store_uri, "check")
    assert code == 0 and "consistent" in out


def test_a_full_disk_under_an_ingest_is_one_line_and_writes_nothing(tmp_path) -> None:
    """The command's files may not grow (as on a full disk: RLIMIT_FSIZE makes every write
    past the limit fail): the scratch plan fails, one line, nothing written."""
    import csv
    import resource
    import signal

    db = tmp_path / "kb"
    assert command(db, "model", "add", "pythia-70m").returncode == 0  # the server runs unlimited
    before = command(db, "stats", "--format", "json").stdout
    path = tmp_path / "big.csv"
    with open(path, "w", newline="") as handle:
        handle.write(PROBE_HEADER)
        writer = csv.writer(handle)
        for i in range(20_000):
            writer.writerow(
                [
                    "pythia-70m",
                    i % 6,
                    i % 2048,
                    f"feature-{i}",
                    "code",
                    1,
                    0,
                    1.0,
                    0.9,
                    0.9,
                    0.9,
                    0.9,
                ]
            )

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "circuitbase", "--db", str(db), "ingest", "probes", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limited,
        env={**os.environ, "CIRCUITBASE_SERVER_IDLE": "60"},
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == 1 and "nothing written" in done.stderr, (
        done.stderr
    )
    assert command(db, "stats", "--format", "json").stdout == before
    command(db, "server", "stop")
