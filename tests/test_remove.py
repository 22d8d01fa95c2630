"""Retracting an analysis (issue #21, removing data): its facts go, other analyses' facts and
the nodes they share stay, and what is left is what the other analyses alone would have
written."""

from __future__ import annotations

import json

from conftest import DATA
from helpers import cli, count, graph_fingerprint

PROBES = DATA / "probes"
MONO = PROBES / "pythia-70m_monosemantic_language_neurons.csv"
PRIMES = PROBES / "pythia-70m_prime_factor_neurons_head10.csv"
PRIMES_ARGS = ("probes", str(PRIMES), "--model", "pythia-70m", "--feature", "prime-factors")
N2G = DATA / "n2g"


def facts(store) -> set[tuple]:
    """Every fact (a relationship citing an analysis) and every shared node, as text."""
    rels = store.read(
        "MATCH (a)-[r]->(b) WHERE r.analysis IS NOT NULL RETURN type(r) AS t, "
        "coalesce(a.uid, a.name) AS a, coalesce(b.uid, b.name) AS b, r.analysis AS x"
    )
    nodes = store.read(
        "MATCH (n) WHERE n:Concept OR n:Task OR n:HeadRole OR n:Token OR "
        "n:Analysis OR n:Pattern OR n:PatternNode RETURN labels(n) AS l, "
        "coalesce(n.uid, n.name) AS k"
    )
    return {tuple(sorted(r.items())) for r in rels} | {(str(n["l"]), n["k"]) for n in nodes}


def analysis_of(store, label_text: str) -> str:
    return next(r["uid"] for r in store.analysis_list() if label_text in r["uid"])


def test_removing_an_analysis_leaves_what_the_others_alone_would_have_written(
    store, store_uri
) -> None:
    assert cli(store_uri, "ingest", "probes", str(MONO))[0] == 0
    only_mono = facts(store)
    assert cli(store_uri, "ingest", *PRIMES_ARGS)[0] == 0
    assert facts(store) != only_mono
    primes = analysis_of(store, "prime_factor")
    code, out = cli(store_uri, "analysis", "list", "--format", "json")
    assert code == 0 and {a["uid"] for a in json.loads(out)} == {
        r["uid"] for r in store.read("MATCH (a:Analysis) RETURN a.uid AS uid")
    }
    code, out = cli(store_uri, "analysis", "remove", primes, "--yes")
    assert code == 0, out
    assert f"analysis {primes}:" in out and "ENCODES" in out
    assert facts(store) == only_mono
    assert store.fact_counts(primes) == {}


def test_removal_asks_first_and_a_no_changes_nothing(store, store_uri) -> None:
    from click.testing import CliRunner

    from circuitbase.cli import main

    assert cli(store_uri, "ingest", "probes", str(MONO))[0] == 0
    uid = analysis_of(store, "monosemantic")
    before = graph_fingerprint(store)
    result = CliRunner().invoke(main, ["--db", store_uri, "analysis", "remove", uid], input="n\n")
    assert result.exit_code == 1 and "nothing removed" in result.output
    assert graph_fingerprint(store) == before
    code, out = cli(store_uri, "analysis", "remove", "no-such-analysis", "--yes")
    assert code == 1 and "no analysis 'no-such-analysis'" in out
    assert graph_fingerprint(store) == before


def test_removing_an_n2g_analysis_takes_its_patterns_and_their_tries(store, store_uri) -> None:
    assert cli(store_uri, "model", "add", "toy-6l", "--config", str(N2G / "config.json"))[0] == 0
    code, out = cli(
        store_uri,
        "ingest",
        "n2g",
        str(N2G / "neuron_graphs" / "toy-6l"),
        "--vocab",
        str(N2G / "vocab.json"),
    )
    assert code == 0, out
    assert count(store, "(:Pattern)") > 0 and count(store, "(:PatternNode)") > 0
    uid = analysis_of(store, "n2g")
    neurons = count(store, "(:Neuron)")
    assert cli(store_uri, "analysis", "remove", uid, "--yes")[0] == 0
    assert count(store, "(:Pattern)") == count(store, "(:PatternNode)") == 0
    assert count(store, "(:Token)") == 0 and count(store, "(:Analysis)") == 0
    assert count(store, "(:Neuron)") == neurons  # components are the model's, not the analysis's


def test_a_removal_cut_off_halfway_is_finished_by_running_it_again(store, store_uri) -> None:
    assert cli(store_uri, "ingest", "probes", str(MONO))[0] == 0
    only_mono = facts(store)
    assert cli(store_uri, "ingest", *PRIMES_ARGS)[0] == 0
    primes = analysis_of(store, "prime_factor")
    store._write("MATCH ()-[r]->() WHERE r.analysis = $a WITH r LIMIT 3 DELETE r", {"a": primes})
    assert cli(store_uri, "analysis", "remove", primes, "--yes")[0] == 0
    assert facts(store) == only_mono


def test_removing_a_model_leaves_what_the_other_models_alone_would_have(store, store_uri) -> None:
    assert cli(store_uri, "ingest", "probes", str(MONO))[0] == 0
    only_70m = facts(store)
    models_70m = store.models()
    assert (
        cli(store_uri, "ingest", "probes", str(PROBES / "pythia-160m_top_mono_neurons_head20.csv"))[
            0
        ]
        == 0
    )
    assert cli(store_uri, "model", "add", "pythia-160m", "--components", "heads")[0] == 0
    code, out = cli(store_uri, "model", "remove", "pythia-160m", "--yes")
    assert code == 0, out
    assert "model pythia-160m: 144 AttentionHead" in out and "1 analyses about it alone" in out
    assert facts(store) == only_70m
    assert store.models() == models_70m
    assert count(store, "(:Component {model: 'pythia-160m'})") == 0


def test_init_reset_asks_first(store, store_uri) -> None:
    from click.testing import CliRunner

    from circuitbase.cli import main

    assert cli(store_uri, "ingest", "probes", str(MONO))[0] == 0
    before = graph_fingerprint(store)
    result = CliRunner().invoke(main, ["--db", store_uri, "init", "--reset"], input="n\n")
    assert result.exit_code == 1 and "nothing deleted" in result.output
    assert graph_fingerprint(store) == before
    assert cli(store_uri, "init", "--reset", "--yes")[0] == 0
    assert count(store, "(n)") == 0
