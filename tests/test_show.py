"""`show NAME` (issue #21, item 1): everything stored about one thing, checked against
direct queries, on both backends."""

from __future__ import annotations

import json

from conftest import DATA
from helpers import cli, count

from circuitbase.queries.show import show

MONO = DATA / "probes" / "pythia-70m_monosemantic_language_neurons.csv"


def loaded(store, store_uri):
    assert cli(store_uri, "ingest", "probes", str(MONO))[0] == 0
    return store.read(
        "MATCH (n:Neuron)-[e:ENCODES]->(c:Concept) RETURN n.uid AS n, n.name AS short, "
        "c.name AS c, e.f1 AS f1, e.analysis AS a ORDER BY n, c LIMIT 1"
    )[0]


def test_show_a_neuron_lists_its_facts_with_their_analyses(store, store_uri) -> None:
    fact = loaded(store, store_uri)
    code, out = cli(store_uri, "show", fact["n"], "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    encodes = data["relationships"]["ENCODES"]
    assert {(f["other"], f["analysis"]) for f in encodes} == {
        (r["c"], r["a"])
        for r in store.read(
            "MATCH (:Neuron {uid: $n})-[e:ENCODES]->(c) RETURN c.name AS c, e.analysis AS a",
            {"n": fact["n"]},
        )
    }
    assert data["properties"]["uid"] == fact["n"] and data["kind"] == "Neuron"
    assert [a["uid"] for a in data["analyses"]] == [fact["a"]]
    assert "Finding Neurons in a Haystack" in data["analyses"][0]["citation"]
    # the short form with its model, and Markdown
    code, out = cli(
        store_uri, "show", fact["short"], "--model", "pythia-70m", "--format", "markdown"
    )
    assert code == 0 and "## ENCODES" in out and f"| out | {fact['c']} |" in out


def test_show_a_concept_and_a_model(store, store_uri) -> None:
    fact = loaded(store, store_uri)
    data = show(store, fact["c"])
    assert data["kind"] == "Concept"
    assert len(data["relationships"]["ENCODES"]) == count(
        store, "(:Neuron)-[:ENCODES]->(:Concept {name: $c})", c=fact["c"]
    )
    model = show(store, "pythia-70m")
    assert model["components"] == {"Neuron": count(store, "(:Neuron {model: 'pythia-70m'})")}
    assert "IN_MODEL" not in model["relationships"]  # its components are counted, not listed
    assert [r["other"] for r in model["relationships"]["ABOUT"]] == [fact["a"]]


def test_show_something_unknown_is_one_line(store, store_uri) -> None:
    code, out = cli(store_uri, "show", "no-such-thing")
    assert code == 1 and out.strip().splitlines()[-1].startswith(
        "error: nothing called 'no-such-thing'"
    )
