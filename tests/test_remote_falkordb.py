"""A FalkorDB server a team shares: falkor:// and falkors:// URIs, password from the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from falkordb_remote import RemoteFalkorDB, TlsTerminator, make_certificate, start_server
from helpers import cli, count

from circuitbase.ingest import ingest
from circuitbase.queries import run_template
from circuitbase.schema import ComponentKind
from circuitbase.schema.catalog import known_model
from circuitbase.sources.models import model_records
from circuitbase.store import StoreError, open_store


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RemoteFalkorDB]:
    running = start_server(tmp_path_factory.mktemp("remote-falkordb"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def tls(server, tmp_path_factory) -> Iterator[tuple[int, str]]:
    cert, key = make_certificate(tmp_path_factory.mktemp("tls"))
    front = TlsTerminator(server.port, cert, key)
    yield front.port, str(cert)
    front.stop()


@pytest.fixture
def password(server, monkeypatch) -> str:
    monkeypatch.setenv("FALKORDB_PASSWORD", server.password)
    with open_store(f"falkor://127.0.0.1:{server.port}") as store:
        store.clear()
    return server.password


def test_a_shared_server_is_written_and_read_through_falkor_uris(server, password) -> None:
    uri = f"falkor://127.0.0.1:{server.port}"
    with open_store(uri) as store:
        store.ensure_schema()
        first = ingest(store, model_records(known_model("pythia-70m"), {ComponentKind.HEAD})).counts
        assert first.nodes_created == 1 + 48
        again = ingest(store, model_records(known_model("pythia-70m"), {ComponentKind.HEAD})).counts
        assert not again.changed_anything
    code, out = cli(uri, "stats", "--format", "json")  # another connection sees it
    assert code == 0 and '"AttentionHead": 48' in out, out


def test_falkors_speaks_tls_and_verifies_the_certificate(
    server, password, tls, monkeypatch
) -> None:
    port, ca_file = tls
    uri = f"falkors://localhost:{port}"
    with pytest.raises(StoreError, match="could not connect to FalkorDB at falkors://") as caught:
        open_store(uri)  # a self-signed certificate that the system's CAs do not vouch for
    assert "certificate" in str(caught.value).lower()
    monkeypatch.setenv("FALKORDB_TLS_CA_FILE", ca_file)
    code, out = cli(uri, "model", "add", "pythia-160m")
    assert code == 0, out
    with open_store(uri) as store:
        assert count(store, "(m:Model {uid: 'pythia-160m'})") == 1
        assert run_template(store, "single_neuron_concepts", {}) == []


@pytest.mark.parametrize("case", ["wrong password", "no password", "password in the uri"])
def test_bad_credentials_are_one_line_without_the_secret(
    server, password, monkeypatch, case
) -> None:
    uri = f"falkor://127.0.0.1:{server.port}"
    if case == "wrong password":
        monkeypatch.setenv("FALKORDB_PASSWORD", "not-it-31337")
    elif case == "no password":
        monkeypatch.delenv("FALKORDB_PASSWORD")
    else:
        uri = f"falkor://default:{password}@127.0.0.1:{server.port}"
    code, out = cli(uri, "stats")
    lines = out.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), out
    assert password not in out and "not-it-31337" not in out
    if case == "password in the uri":
        assert "FALKORDB_PASSWORD" in out
    else:
        assert uri in out
