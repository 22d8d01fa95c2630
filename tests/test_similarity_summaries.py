"""`universality_table` reads per-pair summaries (issue #19, item 5); they must equal the
full query over every SIMILAR_TO edge after every operation that can change them."""

from __future__ import annotations

import random

import pytest
from helpers import cli

from circuitbase.ingest import ingest
from circuitbase.queries import run_template
from circuitbase.queries.names import UnknownName
from circuitbase.schema import ActivatesOn, Analysis, NodeLabel, SimilarTo, Token, ref
from circuitbase.schema.catalog import known_model
from circuitbase.schema.graph import token_uid
from circuitbase.sources.models import model_records

A, B = "pythia-70m", "pythia-160m"
THRESHOLDS = (0.0, 0.2, 0.5, 0.8, 0.95, 1.0)
# The template as it was, over every edge: the independent computation.
FULL = """
MATCH (a:Component {model: $model_a})
OPTIONAL MATCH (a)-[s:SIMILAR_TO]->(b:Component)
WHERE b.model = $model_b AND s.score >= $threshold AND ($metric IS NULL OR s.metric = $metric)
WITH a, count(b) AS forward
OPTIONAL MATCH (a)<-[s:SIMILAR_TO]-(b:Component)
WHERE b.model = $model_b AND s.score >= $threshold AND ($metric IS NULL OR s.metric = $metric)
WITH a, forward, count(b) AS backward
WITH [label IN labels(a) WHERE label <> 'Component'][0] AS kind, count(a) AS components,
     count(CASE WHEN forward + backward > 0 THEN 1 END) AS matched
RETURN kind, components, matched
ORDER BY kind
"""


def assert_summaries_exact(store, metrics=(None, "tokens", "vectors", "by-hand")) -> None:
    stored = {
        r["m"] for r in store.read("MATCH (p:SimilaritySummary) RETURN DISTINCT p.metric AS m")
    }
    for model_a, model_b in ((A, B), (B, A)):
        # a metric of one's own ("by-hand") names something only once a summary holds it
        for metric in [m for m in metrics if m != "by-hand" or m in stored]:
            for threshold in THRESHOLDS:
                params = {
                    "model_a": model_a,
                    "model_b": model_b,
                    "threshold": threshold,
                    "metric": metric,
                }
                got = [
                    {k: r[k] for k in ("kind", "components", "matched")}
                    for r in run_template(store, "universality_table", params)
                ]
                assert got == store.read(FULL, params), params


def profiles(rng: random.Random) -> list:
    """Random activating tokens for 40 neurons of each model: similarity to compute."""
    facts = Analysis(uid="test/tokens", kind="n2g", method="random", models=[A, B])
    records = [
        *facts.records(),
        *model_records(known_model(A), set()),
        *model_records(known_model(B), set()),
    ]
    vocabulary = [f" w{i}" for i in range(30)]
    for model in (A, B):
        for n in range(40):
            for text in rng.sample(vocabulary, 3):
                records += [
                    Token(text=text).record(),
                    ActivatesOn(analysis=facts.uid, activation=rng.random()).record(
                        ref(NodeLabel.NEURON, f"{model}/L{n % 6}/N{n}"),
                        ref(NodeLabel.TOKEN, token_uid(text)),
                    ),
                ]
    return records


def test_the_summary_equals_the_full_query_after_every_change(store, store_uri) -> None:
    rng = random.Random(7)
    ingest(store, profiles(rng))
    assert_summaries_exact(store)  # no similarity yet: nothing matched
    run = lambda *args: cli(store_uri, *args)  # noqa: E731
    code, out = run(
        "similarity",
        "compute",
        "--models",
        A,
        B,
        "--metric",
        "tokens",
        "--top-k",
        "3",
        "--min-score",
        "0.1",
    )
    assert code == 0, out
    assert_summaries_exact(store)
    # a rerun with other settings replaces the analysis's edges
    code, out = run(
        "similarity",
        "compute",
        "--models",
        A,
        B,
        "--metric",
        "tokens",
        "--top-k",
        "1",
        "--min-score",
        "0.5",
    )
    assert code == 0, out
    assert_summaries_exact(store)
    # a new analysis, by hand, the other way round and with a metric of its own
    hand = Analysis(uid="test/by-hand", kind="similarity", method="by hand", models=[A, B])
    ingest(
        store,
        [
            *hand.records(),
            *[
                SimilarTo(analysis=hand.uid, score=round(rng.random(), 3), metric="by-hand").record(
                    ref(NodeLabel.NEURON, f"{B}/L{n % 6}/N{n}"),
                    ref(NodeLabel.NEURON, f"{A}/L{(n + 1) % 6}/N{n + 1}"),
                )
                for n in range(0, 30, 2)
            ],
        ],
    )
    assert_summaries_exact(store)
    # components added to a model: more of them, none matched
    assert run("model", "add", A, "--components", "heads")[0] == 0
    assert_summaries_exact(store)
    # an analysis retracted
    code, out = run("analysis", "remove", f"similarity/tokens/{A}+{B}", "--yes")
    assert code == 0, out
    assert_summaries_exact(store)
    assert (
        run_template(
            store,
            "universality_table",
            {"model_a": B, "model_b": A, "threshold": 0.0, "metric": None},
        )[0]["matched"]
        > 0
    )
    # a model removed: nothing of it is matched any more
    assert run("model", "remove", B, "--yes")[0] == 0
    assert store.read("MATCH (p:SimilaritySummary) RETURN count(p) AS n")[0]["n"] == 0
    with pytest.raises(UnknownName, match=B):  # asking about it again names what is there
        run_template(store, "universality_table", {"model_a": A, "model_b": B})


def test_a_store_from_before_summaries_gets_them_at_its_next_write(store) -> None:
    hand = Analysis(uid="test/old", kind="similarity", method="by hand", models=[A, B])
    ingest(
        store,
        [
            *hand.records(),
            SimilarTo(analysis=hand.uid, score=0.7, metric="by-hand").record(
                ref(NodeLabel.NEURON, f"{A}/L0/N1"), ref(NodeLabel.NEURON, f"{B}/L0/N2")
            ),
        ],
    )
    store._write("MATCH (p:SimilaritySummary) DELETE p")  # as an older circuitbase left it
    store._schema_ready = False  # a new command
    store.prepare_for_writes()
    assert_summaries_exact(store)
    assert (
        run_template(
            store,
            "universality_table",
            {"model_a": A, "model_b": B, "threshold": 0.5, "metric": None},
        )[0]["matched"]
        == 1
    )


@pytest.mark.parametrize("metric", [None, "tokens"])
def test_a_pair_with_no_edges_matches_nothing(store, metric) -> None:
    ingest(store, [*model_records(known_model(A), set()), *model_records(known_model(B), set())])
    assert (
        run_template(
            store,
            "universality_table",
            {"model_a": A, "model_b": B, "threshold": 0.1, "metric": metric},
        )
        == []
    )
