"""Neuron-to-Graph: the fork's JSON read faithfully, stored, and predicting from the database."""

import json
import random

import pytest
from helpers import cli, count, graph_fingerprint
from n2g_fixtures import MODEL, NEURONS, VOCAB, node_count, write_fixtures

from circuitbase.ingest.pipeline import ingest_files
from circuitbase.schema import RecordError
from circuitbase.sources.n2g.feature_model_json import decode, encode
from circuitbase.sources.n2g.records import n2g_records
from circuitbase.sources.n2g.stored import load_graph


@pytest.fixture
def files(tmp_path):
    return write_fixtures(tmp_path)


@pytest.fixture
def ingested(store, store_uri, files):
    code, out = cli(store_uri, "model", "add", MODEL, "--config", str(files["config"]))
    assert code == 0, out
    code, out = cli(
        store_uri, "ingest", "n2g", str(files["graphs"]), "--vocab", str(files["vocab"])
    )
    assert code == 0, out
    return store


def texts(n: int = 300) -> list[list[str]]:
    """Random token sequences over the vocabulary, plus the ones the toy neurons were made for."""
    rng = random.Random(7)
    made = [[rng.choice(VOCAB) for _ in range(rng.randint(1, 16))] for _ in range(n)]
    return made + [
        [" we", " flew", " in", " the", " Paris"],
        [" in", " Paris"],
        ["(", " x", ")"],
        ["(", ",", ")"],
        [" the", " river", " bank"],
        [" money", " bank"],
    ]


def test_shipped_files_are_exactly_what_the_n2g_writer_produces(tmp_path, data) -> None:
    made = write_fixtures(tmp_path)
    for layer, neuron in NEURONS:
        name = f"{layer}_{neuron}.json"
        assert (data / "n2g/neuron_graphs/toy-6l" / name).read_text() == (
            made["graphs"] / name
        ).read_text()


def test_circuitbase_reads_and_writes_the_format_as_the_fixtures_spell_it(tmp_path) -> None:
    """The fixtures are written from the format's definition, not by circuitbase: its
    reader gives back each trie as the fixture declares it, and its writer reproduces
    each file byte for byte."""

    def plain(nodes) -> list:
        return [
            (n.token, n.importance, n.activation, plain(n.children))
            for n in sorted(
                nodes, key=lambda n: (n.token is None, VOCAB.index(n.token or VOCAB[0]))
            )
        ]

    def declared(nodes) -> list:
        return [
            (token, importance, activation, declared(children))
            for token, importance, activation, children in sorted(
                nodes, key=lambda n: (n[0] is None, VOCAB.index(n[0] or VOCAB[0]))
            )
        ]

    made = write_fixtures(tmp_path)
    ids = {token: i for i, token in enumerate(VOCAB)}
    for (layer, neuron), roots in NEURONS.items():
        text = (made["graphs"] / f"{layer}_{neuron}.json").read_text()
        graph = decode(json.loads(text), VOCAB)
        assert plain(graph.roots) == declared(roots)  # values as written: short decimals
        assert encode(graph, ids) + "\n" == text


def test_stored_graph_predicts_what_the_source_file_predicts(ingested, files) -> None:
    for layer, neuron in NEURONS:
        source = decode(json.loads((files["graphs"] / f"{layer}_{neuron}.json").read_text()), VOCAB)
        stored = load_graph(ingested, f"{MODEL}/L{layer}/N{neuron}")
        for tokens in texts():
            assert stored.predict(tokens) == source.predict(tokens), (layer, neuron, tokens)
    fires = load_graph(ingested, f"{MODEL}/L1/N42").predict(
        [" we", " flew", " in", " the", " Paris"]
    )
    assert fires == [0.0, 0.0, 0.0, 0.0, pytest.approx(0.7)]


def test_the_cli_predicts_from_the_database(ingested, store_uri) -> None:
    code, out = cli(
        store_uri,
        "n2g",
        "predict",
        f"{MODEL}/L5/N1000",
        "--format",
        "json",
        "--tokens",
        json.dumps([" the", " river", " bank", " money", " bank"]),
    )
    assert code == 0, out
    assert [round(r["activation"], 4) for r in json.loads(out)] == [0.0, 0.2, 0.9, 0.0, 0.1]


def test_the_cli_tokenizes_text_with_a_tokenizer_json(ingested, store_uri, tmp_path) -> None:
    tokenizers = pytest.importorskip("tokenizers", reason="needs the tokenizers package")
    model = tokenizers.models.WordLevel(
        {t: i for i, t in enumerate(VOCAB)}, unk_token="<|endoftext|>"
    )
    tokenizer = tokenizers.Tokenizer(model)
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Split(
        tokenizers.Regex(r" ?[^ ]+"), behavior="isolated"
    )
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    code, out = cli(
        store_uri,
        "n2g",
        "predict",
        f"{MODEL}/L1/N42",
        " we met in Paris",
        "--tokenizer",
        str(tmp_path / "tokenizer.json"),
        "--format",
        "json",
    )
    assert code == 0, out
    assert [(r["token"], r["activation"]) for r in json.loads(out)] == [
        (" we", 0.0),
        (" met", 0.0),
        (" in", 0.0),
        (" Paris", pytest.approx(0.9)),
    ]


def test_the_trie_and_the_summary_are_in_the_graph(ingested) -> None:
    assert count(ingested, "(:Neuron)-[:HAS_PATTERN]->(:Pattern)") == 3
    nodes = sum(node_count(roots) for roots in NEURONS.values())
    assert count(ingested, "(:PatternNode)") == nodes
    assert count(ingested, "(:PatternNode {ignore: true})") == 2
    rows = ingested.read(
        "MATCH (n:Neuron)-[a:ACTIVATES_ON]->(t:Token) RETURN n.uid AS neuron, "
        "t.text AS token, a.activation AS activation, a.analysis AS analysis "
        "ORDER BY neuron, token"
    )
    assert [(r["neuron"], r["token"], round(r["activation"], 4)) for r in rows] == [
        ("toy-6l/L1/N42", " London", 0.4),
        ("toy-6l/L1/N42", " Paris", 0.9),
        ("toy-6l/L3/N7", ")", 0.8),
        ("toy-6l/L5/N1000", " bank", 1.0),
        ("toy-6l/L5/N1000", " river", 0.2),
    ]
    assert {r["analysis"] for r in rows} == {"n2g/toy-6l"}
    # context tokens meet the same Token nodes as activating ones
    assert count(ingested, "(:PatternNode)-[:MATCHES_TOKEN]->(:Token {text: ' in'})") == 3


def test_reingesting_changes_nothing(ingested, store_uri, files) -> None:
    before = graph_fingerprint(ingested)
    code, out = cli(
        store_uri, "ingest", "n2g", str(files["graphs"]), "--vocab", str(files["vocab"])
    )
    assert code == 0 and "0 nodes and 0 relationships created" in out
    assert graph_fingerprint(ingested) == before


def _broken(files, name: str, change) -> str:
    path = files["graphs"] / "1_42.json"
    data = json.loads(path.read_text())
    change(data)
    bad = files["graphs"].parent / "bad" / name
    bad.parent.mkdir(exist_ok=True)
    bad.write_text(json.dumps(data))
    return str(bad)


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("2_5.json", lambda d: d["tokens"][3].update(importance="high"), "tokens[3]"),
        ("2_5.json", lambda d: d["tokens"][2]["token"].update(token=999), "token id 999 is not in"),
        ("2_5.json", lambda d: d["tokens"].pop(), "do not fit a LOUDS tree"),
        ("2_5.json", lambda d: d["louds"]["lbs"].update(bit_len=999), "louds.lbs"),
        ("2_5.json", lambda d: d.pop("louds"), "not an N2G FeatureModel JSON"),
        ("2_5.json", lambda d: d["tokens"][2].update(end_node=float("inf")), "finite"),
        ("2_9999.json", lambda d: None, "index 9999 is out of range"),
        ("7_1.json", lambda d: None, "layer 7 is out of range"),
        ("graph.json", lambda d: None, "cannot tell which neuron"),
    ],
)
def test_bad_files_name_file_and_field_and_write_nothing(
    ingested, store_uri, files, name, change, message
) -> None:
    before = graph_fingerprint(ingested)
    bad = _broken(files, name, change)
    code, out = cli(
        store_uri,
        "ingest",
        "n2g",
        bad,
        str(files["graphs"]),
        "--model",
        MODEL,
        "--vocab",
        str(files["vocab"]),
    )
    assert code == 1 and bad in out and message in out, out
    assert graph_fingerprint(ingested) == before


def test_truncated_json_and_unknown_models(store, files, tmp_path) -> None:
    truncated = tmp_path / "1_1.json"
    truncated.write_text((files["graphs"] / "1_42.json").read_text()[:200])
    with pytest.raises(RecordError, match="1_1.json.*malformed JSON"):
        n2g_records(truncated, vocab=VOCAB, model=MODEL)
    with pytest.raises(RecordError, match="unknown model 'nobody'"):
        ingest_files(
            store,
            [files["graphs"] / "1_42.json"],
            lambda p: n2g_records(p, vocab=VOCAB, model="nobody"),
        )
    assert count(store, "(n)") == 0
