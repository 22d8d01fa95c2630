"""`search TEXT` (issue #21, item 2): each backend's full-text index finds the candidates,
and the hits are exactly the nodes whose names hold every word of the query (a word or
its start), computed here directly over all names."""

from __future__ import annotations

import re

import pytest
from conftest import DATA
from helpers import cli

from circuitbase.cli.demo import examples_dir
from circuitbase.schema.graph import NodeLabel

FIELDS = {
    "Concept": ["name"],
    "Task": ["name", "description"],
    "HeadRole": ["name"],
    "NeuronFamily": ["name"],
    "Token": ["text"],
    "Feature": ["label"],
    "Model": ["uid", "hf_id"],
}


def expected(store, text: str, kinds=FIELDS) -> set[tuple[str, str]]:
    words = re.findall(r"\w+", text.lower())
    found = set()
    for kind in kinds:
        for row in store.read(
            f"MATCH (n:{kind}) RETURN coalesce(n.uid, n.name) AS key, properties(n) AS p"
        ):
            for value in (row["p"].get(f) for f in FIELDS[kind]):
                names = re.findall(r"\w+", (value or "").lower())
                if value and all(any(n.startswith(w) for n in names) for w in words):
                    found.add((kind, row["key"]))
                    break
    return found


@pytest.fixture
def loaded(store, store_uri):
    for args in (
        ["ingest", "probes", str(DATA / "probes" / "pythia-70m_monosemantic_language_neurons.csv")],
        [
            "ingest",
            "circuit",
            str(examples_dir() / "circuits" / "canonical_circuits_ioi_greaterthan.json"),
        ],
        [
            "ingest",
            "heads",
            str(
                examples_dir()
                / "head-metrics"
                / "google-gemma-3-270m-monology-pile-uncopyrighted.json"
            ),
        ],
    ):
        code, out = cli(store_uri, *args)
        assert code == 0, out
    return store


@pytest.mark.parametrize(
    "text", ["name mover", "de", "gpt", "ioi", "induction", "gemma 270", "greater", "no-such-word"]
)
def test_search_finds_exactly_the_names_that_hold_every_word(loaded, text) -> None:
    hits = loaded.search(text, limit=10_000)
    assert {(h["kind"], h["key"]) for h in hits} == expected(loaded, text)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_by_kind_and_from_the_command_line(loaded, store_uri) -> None:
    roles = loaded.search("mover", [NodeLabel.HEAD_ROLE])
    assert {h["key"] for h in roles} == {k for _, k in expected(loaded, "mover", ["HeadRole"])}
    assert {h["kind"] for h in roles} == {"HeadRole"} and len(roles) >= 3
    code, out = cli(store_uri, "search", "name mover", "--kind", "HeadRole", "--format", "csv")
    assert code == 0 and "name-mover" in out
