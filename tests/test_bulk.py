"""The bulk path (`ingest.bulk`): the same input loaded in bulk and written by the writer
leaves the same graph, on FalkorDB (GRAPH.BULK into the embedded store) and on Neo4j
(the offline importer into a new database, then opened by a server); bad input writes
nothing either way; and a store that is not empty is never loaded in bulk."""

from __future__ import annotations

import shlex
from collections import Counter
from pathlib import Path

import pytest
from conftest import empty_store, skip_without_neo4j
from helpers import cli, count, graph_fingerprint, graph_rows
from neo4j_server import server as neo4j_server

from circuitbase.ingest import ingest, ingest_offline
from circuitbase.ingest.pipeline import expand
from circuitbase.queries import load_templates
from circuitbase.schema import NodeLabel
from circuitbase.schema.catalog import known_model
from circuitbase.schema.nodes import Analysis
from circuitbase.schema.records import NodeRecord, RecordError, node, ref
from circuitbase.schema.relationships import SimilarTo
from circuitbase.schema.uids import ComponentKind
from circuitbase.sources.models import model_records, read_model_config
from circuitbase.sources.registry import formats
from circuitbase.store import falkor_bulk, open_store
from circuitbase.store.base import StoreError
from circuitbase.store.neo4j_import import OfflineNeo4j

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
EXAMPLES = ROOT / "circuitbase" / "examples"

# Text a CSV-based loader would change: spaces around it, quotes, separators, line
# breaks, digits that look like numbers, an empty string, text beyond ASCII.
AWKWARD = [" the", "ing ", '"quoted"', "a,b;c|d", "line\nbreak\ttab", "007", "1e5", "", "ünï 字"]


def read(name: str, *paths: Path, **options: str) -> list:
    """The records `circuitbase ingest NAME PATHS --OPTION VALUE` would read."""
    fmt = formats()[name]
    values = {}
    for option in fmt.options:
        if option.keyword in options:
            value = options[option.keyword]
            values[option.keyword] = option.load(value) if option.load else value
    return [record for path in expand(paths, fmt.suffixes) for record in fmt.reader(path, **values)]


def everything() -> list:
    """One ingest's worth of every kind of record: models with their components (some of
    them also described by the input), the shipped analyses of each format,
    similarity edges (their summaries follow), and values a loader could mangle."""
    records: list = []
    layers = {ComponentKind.HEAD, ComponentKind.MLP, ComponentKind.ATTENTION}
    records += model_records(known_model("pythia-70m"), layers)
    records += model_records(known_model("gpt2-small"), layers)
    # N2G's neurons are in the set, so the set's rows and N2G's facts meet
    records += model_records(
        read_model_config(DATA / "n2g" / "config.json"), {ComponentKind.NEURON}
    )
    records += read("probes", *sorted((EXAMPLES / "probes").glob("*.csv")))
    records += read(
        "circuit", EXAMPLES / "circuits", EXAMPLES / "tour" / "mcq-letter-pythia-70m.json"
    )
    metrics = EXAMPLES / "head-metrics"
    records += read(
        "heads",
        metrics / "EleutherAI-pythia-70m-deduped-monology-pile-uncopyrighted.json",
        metrics / "google-gemma-3-270m-monology-pile-uncopyrighted.json",
        EXAMPLES / "tour" / "gpt2-small_strongest_heads.csv",
    )
    records += read("universal", DATA / "universal-neurons" / "pythia-160m" / "universal.csv")
    records += read("features", DATA / "saedashboard" / "batch-0.json")
    records += read(
        "n2g", DATA / "n2g" / "neuron_graphs" / "toy-6l", vocab=str(DATA / "n2g" / "vocab.json")
    )
    analysis = Analysis(
        uid="bulk-test", kind="similarity", method="test", models=["gpt2-small", "pythia-70m"]
    )
    records.append(analysis.record())
    for index in range(3):
        a = ref(NodeLabel.NEURON, f"toy-6l/L0/N{index}")
        b = ref(NodeLabel.NEURON, f"pythia-70m/L1/N{index}")
        records.append(
            SimilarTo(analysis=analysis.uid, score=0.5 + index / 10, metric="cosine").record(a, b)
        )
    records.append(
        node(
            NodeLabel.NEURON,
            "toy-6l/L3/N7",
            tokens=AWKWARD,
            note=" kept as given ",
            flags=[True, False],
            counts=[0, 2**62],
            scores=[0.1, 1e-300, 1.7e308],
            empty=[],
        )
    )
    records.append(node(NodeLabel.CONCEPT, "awkward", description="\n".join(AWKWARD)))
    return records


@pytest.fixture
def two_stores(tmp_path):
    stores = [open_store(tmp_path / "writer"), open_store(tmp_path / "bulk")]
    yield stores
    for store in stores:
        store.close()


def test_falkordb_bulk_load_leaves_the_graph_the_writer_leaves(two_stores, monkeypatch):
    # small tokens and commands, so that the load takes many of each
    monkeypatch.setattr(falkor_bulk, "TOKEN_BYTES", 4096)
    monkeypatch.setattr(falkor_bulk, "CALL_BYTES", 64 << 10)
    writer, bulk = two_stores
    records = everything()
    written = ingest(writer, records, bulk=False)
    loaded = ingest(bulk, records, bulk=True)
    assert loaded.counts.nodes_created == written.counts.nodes_created > 10_000
    assert loaded.counts.relationships_created == written.counts.relationships_created
    assert graph_fingerprint(bulk) == graph_fingerprint(writer)
    # the indexes and summaries followed: a template and a search answer as on the writer's
    for store in (writer, bulk):
        assert store.read("MATCH (s:SimilaritySummary) RETURN count(s) AS n")[0]["n"] > 0
    indexes = "CALL db.indexes() YIELD label, properties, types RETURN label, properties, types"
    assert sorted(map(str, bulk.read(indexes))) == sorted(map(str, writer.read(indexes)))
    # every template's example prints the same text on both (issue #41: ties in ORDER BY
    # and collected lists followed storage order, which a bulk load lays out otherwise)
    answered = 0
    for template in load_templates().values():
        for example in template.examples:
            words = shlex.split(example)
            args = words[words.index("run") + 1 :]
            texts = [
                cli(store.location, "query", "run", *args, "--format", "csv")
                for store in two_stores
            ]
            assert texts[0] == texts[1], example
            answered += texts[0][1].count("\n") > 1
    assert answered >= 5  # the input answers most of them
    # a second ingest of the same input writes nothing (the loaded store merges like any)
    assert not ingest(bulk, records).counts.changed_anything


def test_bulk_load_refuses_a_store_that_is_not_empty(tmp_path):
    store = open_store(tmp_path / "db")
    try:
        ingest(store, model_records(known_model("pythia-70m")))
        before = graph_fingerprint(store)
        with pytest.raises(StoreError, match="not empty"):
            ingest(
                store, model_records(known_model("gpt2-small"), {ComponentKind.NEURON}), bulk=True
            )
        assert graph_fingerprint(store) == before
        # by default a large ingest into it takes the writer
        ingest(store, model_records(known_model("gpt2-small"), {ComponentKind.NEURON}))
        assert store.read("MATCH (n:Neuron) RETURN count(n) AS n")[0]["n"] == 12 * 3072
    finally:
        store.close()


def test_bad_input_writes_nothing_on_the_bulk_path(tmp_path):
    store = open_store(tmp_path / "db")
    try:
        bad = [
            *model_records(known_model("gpt2-small"), {ComponentKind.NEURON}),
            NodeRecord(NodeLabel.NEURON, "gpt2-small/L99/N0"),
        ]
        with pytest.raises(RecordError, match="L99"):
            ingest(store, bad, bulk=True)
        assert store.read("MATCH (n) RETURN count(n) AS n")[0]["n"] == 0
    finally:
        store.close()


def test_bulk_flag_on_a_neo4j_server_says_how(falkor_dir, _session_stores):
    store = empty_store("neo4j", falkor_dir, _session_stores)
    code, out = cli(store.location, "model", "add", "pythia-70m", "--bulk")
    assert code == 1 and "--neo4j-home" in out and len(out.strip().splitlines()) == 1, out
    assert count(store, "(n)") == 0


def test_cli_bulk_flag(tmp_path):
    uri = str(tmp_path / "db")
    code, out = cli(uri, "model", "add", "pythia-70m", "--components", "all", "--bulk")
    assert code == 0, out
    code, out = cli(uri, "model", "add", "gpt2-small", "--components", "all", "--bulk")
    assert code == 1 and "not empty" in out and len(out.strip().splitlines()) == 1, out


def test_neo4j_offline_import_leaves_the_graph_the_writer_leaves(
    falkor_dir, _session_stores, tmp_path, monkeypatch
):
    writer = empty_store("neo4j", falkor_dir, _session_stores)
    records = everything()
    written = ingest(writer, records, bulk=False)
    target = OfflineNeo4j(tmp_path / "dbms", admin=tuple(neo4j_server.admin_command()))
    imported = ingest_offline(target, records)
    assert imported.counts.nodes_created == written.counts.nodes_created
    assert imported.counts.relationships_created == written.counts.relationships_created
    server = neo4j_server.start(home=tmp_path)
    try:
        monkeypatch.setenv("NEO4J_USERNAME", server.username)
        monkeypatch.setenv("NEO4J_PASSWORD", server.password)
        code, out = cli(server.uri, "init")  # constraints, indexes and summaries follow
        assert code == 0, out
        loaded = open_store(server.uri)
        try:
            expected, got = Counter(graph_rows(writer)), Counter(graph_rows(loaded))
            assert got - expected == expected - got == Counter()  # what differs, if anything
            constraints = "SHOW CONSTRAINTS YIELD labelsOrTypes, properties RETURN *"
            assert sorted(map(str, loaded.read(constraints))) == sorted(
                map(str, writer.read(constraints))
            )
            # a second ingest of the same input over Bolt changes nothing
            assert not ingest(loaded, records).counts.changed_anything
        finally:
            loaded.close()
    finally:
        server.stop()


def test_neo4j_offline_import_refuses_what_it_cannot_carry(tmp_path):
    """A list of one empty string comes back from the importer as no value: refused,
    naming the node and property, before the importer runs (no database is made)."""
    skip_without_neo4j()
    target = OfflineNeo4j(tmp_path / "dbms", admin=tuple(neo4j_server.admin_command()))
    records = [
        *model_records(known_model("pythia-70m")),
        node(NodeLabel.NEURON, "pythia-70m/L0/N1", tokens=[""]),
    ]
    with pytest.raises(StoreError, match=r"Neuron 'pythia-70m/L0/N1', property 'tokens'"):
        ingest_offline(target, records)
    assert not (tmp_path / "dbms" / "data" / "databases" / "neo4j").exists()


def test_cli_imports_into_a_new_neo4j_database(tmp_path, monkeypatch):
    """`--neo4j-home DIR` on an ingest and on `model add`: the importer makes the
    database (the content is the previous test's); a second import into it is refused."""
    skip_without_neo4j()
    monkeypatch.setenv("CIRCUITBASE_NEO4J_ADMIN", shlex.join(neo4j_server.admin_command()))
    monkeypatch.chdir(tmp_path)  # the importer leaves nothing where it was run from
    home = tmp_path / "dbms"
    probes = str(EXAMPLES / "probes" / "pythia-70m_top_mono_neurons.csv")
    unused = str(tmp_path / "no-store")  # the command opens no store
    code, out = cli(unused, "ingest", "probes", probes, "--neo4j-home", str(home))
    assert code == 0 and "circuitbase --db bolt://HOST:PORT init" in out, out
    assert any((home / "data" / "databases" / "neo4j").iterdir())
    assert not (tmp_path / "no-store").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dbms"]
    code, out = cli(unused, "model", "add", "gpt2-small", "--neo4j-home", str(home))
    assert code == 1 and "exists" in out and len(out.strip().splitlines()) == 1, out
    code, out = cli(
        unused, "model", "add", "gpt2-small", "--neo4j-home", str(home), "--neo4j-database", "two"
    )
    assert code == 0, out
