"""The graph stores: the same behaviour on FalkorDB and (when configured) Neo4j."""

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from circuitbase.store import ReadOnlyViolation, StoreError, open_store
from circuitbase.store.ahead import MadeAhead


def test_values_travel_as_parameters_and_come_back_unchanged(store) -> None:
    tricky = [
        "it's",
        'say "hi"',
        "back\\slash",
        "}) DETACH DELETE n //",
        "\u00e9\u4e2d\U0001f600",
        "line\nbreak",
        " leading space",
        "x" * 5000,
    ]
    store._write("UNWIND $texts AS t CREATE (:Token {text: t})", {"texts": tricky})
    rows = store.read("MATCH (t:Token) RETURN t.text AS text")
    assert sorted(r["text"] for r in rows) == sorted(tricky)


def test_read_refuses_a_query_that_writes(store) -> None:
    with pytest.raises(ReadOnlyViolation):
        store.read("CREATE (:Model {uid: 'x'})")
    assert store.read("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]


def test_write_rows_sends_batches_and_reports_counts(store) -> None:
    seen: list[int] = []
    rows = [{"uid": f"m{i}"} for i in range(25)]
    counts = store._write_rows(
        "UNWIND $rows AS row MERGE (:Model {uid: row.uid})",
        rows,
        batch_size=10,
        progress=seen.append,
    )
    assert seen == [10, 10, 5]
    assert counts.nodes_created == 25
    again = store._write_rows("UNWIND $rows AS row MERGE (:Model {uid: row.uid})", rows)
    assert not again.changed_anything


def test_write_rows_stops_at_the_batch_the_server_refuses(store) -> None:
    """Batches are made ahead of the one being written, but a refused batch ends the
    write: what comes after it is neither written nor read much further."""
    pulled = []

    def rows():
        for i in range(100):
            pulled.append(i)
            yield {"uid": None if i == 25 else f"m{i}"}  # a null key: refused by both

    threads = threading.active_count()
    with pytest.raises(StoreError):
        store._write_rows(
            "UNWIND $rows AS row MERGE (:Model {uid: row.uid})", rows(), batch_size=10
        )
    assert store.read("MATCH (m:Model) RETURN count(m) AS n")[0]["n"] == 20  # batches 1-2
    assert len(pulled) <= 60  # the refused batch, one waiting, one being made
    assert threading.active_count() == threads  # the helper has stopped


def test_write_rows_raises_what_reading_the_rows_raises_where_it_happened(store) -> None:
    def rows():
        for i in range(35):
            if i == 30:
                raise ValueError("row 30 is unreadable")
            yield {"uid": f"m{i}"}

    seen: list[int] = []
    with pytest.raises(ValueError, match="row 30"):
        store._write_rows(
            "UNWIND $rows AS row MERGE (:Model {uid: row.uid})",
            rows(),
            batch_size=10,
            progress=seen.append,
        )
    assert seen == [10, 10, 10]
    assert store.read("MATCH (m:Model) RETURN count(m) AS n")[0]["n"] == 30


def test_made_ahead_makes_items_in_order_off_the_caller_s_thread_a_bounded_way_ahead() -> None:
    made, makers = [], set()

    def items():
        for i in range(50):
            made.append(i)
            makers.add(threading.get_ident())
            yield i

    got = []
    with MadeAhead(items(), depth=2) as ready:
        for item in ready:
            time.sleep(0.002)  # the caller is slower: the helper runs ahead as far as allowed
            assert len(made) - len(got) <= 2 + 1  # `depth` made ahead, and this one
            got.append(item)
    assert got == list(range(50))
    assert makers and threading.get_ident() not in makers

    with MadeAhead(items(), depth=1) as ready:  # leaving early stops the helper
        next(ready)
    assert len(made) < 50 + 50


def test_ensure_schema_is_idempotent(store) -> None:
    store.ensure_schema()
    store.ensure_schema()
    store._write("CREATE (:Token {text: 'a'})")
    assert store.read("MATCH (t:Token) RETURN count(t) AS n") == [{"n": 1}]


def test_unknown_uri_scheme_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="unknown store URI"):
        open_store("http://example.invalid/db")


def _in_other_process(data_dir: Path, code: str) -> str:
    script = textwrap.dedent(f"""
        from circuitbase.store import open_store
        store = open_store({str(data_dir)!r})
        {code}
        store.close()
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_embedded_store_survives_a_restart(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CIRCUITBASE_SERVER_IDLE", "0")  # a library user's choice: no warm server
    with open_store(tmp_path) as first:
        first._write("CREATE (:Model {uid: 'kept'})")
    assert not (tmp_path / "falkordb.sock").exists(), "the last client should stop the server"
    with open_store(tmp_path) as second:
        assert second.read("MATCH (m:Model) RETURN m.uid AS uid") == [{"uid": "kept"}]


def test_second_process_reuses_the_running_server(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        pid = (tmp_path / "falkordb.pid").read_text()
        store._write("CREATE (:Model {uid: 'from-first'})")
        out = _in_other_process(
            tmp_path,
            textwrap.dedent("""
            print(store.read("MATCH (m:Model) RETURN m.uid AS uid")[0]["uid"])
            store._write("CREATE (:Model {uid: 'from-second'})")
        """).replace("\n", "\n        "),
        )
        assert out.strip() == "from-first"
        assert (tmp_path / "falkordb.pid").read_text() == pid, "no second server was started"
        assert (tmp_path / "falkordb.sock").exists(), "the second process left the server running"
        uids = {r["uid"] for r in store.read("MATCH (m:Model) RETURN m.uid AS uid")}
    assert uids == {"from-first", "from-second"}


def test_a_finished_write_survives_the_server_being_killed(tmp_path: Path) -> None:
    from helpers import kill_server

    store = open_store(tmp_path)
    store._write("CREATE (:Model {uid: 'durable'})")
    store.persist()
    kill_server(tmp_path)
    store.connection.server.client = None  # the connection died with the server
    with open_store(tmp_path) as again:
        assert again.read("MATCH (m:Model) RETURN m.uid AS uid") == [{"uid": "durable"}]


def _first_bytes_sent_to(uri_scheme: str) -> bytes:
    """Open a store at scheme://127.0.0.1:PORT where a listener records what arrives first."""
    received: list[bytes] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def accept() -> None:
            connection, _ = listener.accept()
            with connection:
                received.append(connection.recv(4))

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        with pytest.raises(StoreError, match="could not connect to Neo4j"):
            open_store(f"{uri_scheme}://127.0.0.1:{port}")
        thread.join(timeout=10)
    return received[0]


def test_neo4j_tls_uris_speak_tls_and_plain_ones_speak_bolt() -> None:
    assert _first_bytes_sent_to("bolt") == b"\x60\x60\xb0\x17"  # Bolt's handshake magic
    assert _first_bytes_sent_to("bolt+s")[:1] == b"\x16"  # a TLS record: the ClientHello
    assert _first_bytes_sent_to("neo4j+ssc")[:1] == b"\x16"


def test_neo4j_credentials_come_from_the_environment_only() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("neo4j+s://bob:secret@db.example.org:7687")
    assert "NEO4J_PASSWORD" in str(caught.value) and "secret" not in str(caught.value)


def test_clear_empties_a_graph_larger_than_one_delete_batch(store) -> None:
    store._write("UNWIND range(1, 25000) AS i CREATE (:Token {uid: toString(i)})-[:NEXT]->(:Token)")
    store.clear()
    assert store.read("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]


def test_a_vector_index_of_another_dimension_is_refused(store) -> None:
    store._write("CREATE (:Neuron {uid: 'm/L0/N0'})")
    store.ensure_vector_index("Neuron", 4)
    store.ensure_vector_index("Neuron", 4)
    assert store.vector_index_dimension("Neuron") == 4
    with pytest.raises(StoreError, match="dimension 4, these have 3"):
        store.ensure_vector_index("Neuron", 3)
    store.clear()
    assert store.vector_index_dimension("Neuron") is None


def test_commands_that_only_read_run_no_schema_statements(store, store_uri, monkeypatch) -> None:
    """A read-only Neo4j user must be able to query; DDL runs on init and before writes."""
    from click.testing import CliRunner

    from circuitbase.cli import main
    from circuitbase.store.base import GraphStore

    calls: list[str] = []
    for cls in {type(store), GraphStore}:
        original = cls.ensure_schema
        monkeypatch.setattr(
            cls,
            "ensure_schema",
            lambda self, _original=original: calls.append("ddl") or _original(self),
        )
    for args in (["stats"], ["query", "run", "single_neuron_concepts"]):
        result = CliRunner().invoke(main, ["--db", store_uri, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert calls == []
    result = CliRunner().invoke(main, ["--db", store_uri, "model", "add", "pythia-70m"])
    assert result.exit_code == 0, result.output
    assert calls == ["ddl"]  # once for the whole command, before its first write


@pytest.mark.parametrize("case", ["wrong password", "nothing listening"])
def test_neo4j_driver_errors_are_one_line_naming_the_uri(case, monkeypatch) -> None:
    from click.testing import CliRunner
    from conftest import NEO4J_ENV, skip_without_neo4j

    from circuitbase.cli import main

    skip_without_neo4j()
    uri = os.environ[NEO4J_ENV]
    secret = "not-the-password-4242"
    monkeypatch.setenv("NEO4J_PASSWORD", secret)
    if case == "nothing listening":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            uri = f"bolt://127.0.0.1:{probe.getsockname()[1]}"
    result = CliRunner().invoke(main, ["--db", uri, "stats"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and uri in lines[0], result.output
    assert secret not in result.output and "Traceback" not in result.output
