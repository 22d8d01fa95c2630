"""Cross-model similarity: scores known by construction, top-k edges, `similar`."""

import json
import math

import pytest
from helpers import cli, count, graph_fingerprint

from circuitbase.analyze.similarity import similarity_records
from circuitbase.ingest import ingest
from circuitbase.schema import (
    ActivatesOn,
    Analysis,
    Concept,
    Encodes,
    NodeLabel,
    RecordError,
    RelType,
    Token,
    ref,
    rel,
)
from circuitbase.schema.graph import token_uid

A, B = "pythia-70m", "pythia-160m"
FACTS = Analysis(uid="test/profiles", kind="n2g", method="hand-made", models=[A, B])
PROFILES = {  # neuron -> activating tokens
    f"{A}/L0/N0": {" Paris": 1.0, " France": 0.5},
    f"{B}/L0/N1": {" Paris": 1.0, " France": 0.5},  # the same profile: cosine 1
    f"{B}/L0/N2": {" Paris": 1.0},  # cosine 1 / sqrt(1.25) with N0
    f"{A}/L0/N4": {" the": 0.7},
    f"{B}/L0/N3": {" the": 0.2},  # cosine 1 with N4, whatever the scale
}
CONCEPTS = {f"{A}/L1/N5": ["fr", "de"], f"{B}/L1/N6": ["fr"], f"{B}/L1/N7": ["fr", "de"]}


@pytest.fixture
def profiles(store):
    records = [
        FACTS.record(),
        *[rel(RelType.ABOUT, FACTS.record().ref, ref(NodeLabel.MODEL, m)) for m in (A, B)],
    ]
    for neuron, tokens in PROFILES.items():
        for text, activation in tokens.items():
            records += [
                Token(text=text).record(),
                ActivatesOn(analysis=FACTS.uid, activation=activation).record(
                    ref(NodeLabel.NEURON, neuron), ref(NodeLabel.TOKEN, token_uid(text))
                ),
            ]
    for neuron, names in CONCEPTS.items():
        for name in names:
            records += [
                Concept(name=name).record(),
                Encodes(analysis=FACTS.uid, k=1, f1=0.95).record(
                    ref(NodeLabel.NEURON, neuron), ref(NodeLabel.CONCEPT, name)
                ),
            ]
    ingest(store, records)
    return store


def edges(store, metric):
    rows = store.read(
        "MATCH (a)-[s:SIMILAR_TO {metric: $m}]->(b) RETURN a.uid AS a, b.uid AS b, "
        "s.score AS score, s.analysis AS analysis ORDER BY a, b",
        {"m": metric},
    )
    return [(r["a"], r["b"], round(r["score"], 4)) for r in rows], {r["analysis"] for r in rows}


def test_token_profiles_by_cosine_top_one_from_each_side(profiles) -> None:
    ingest(
        profiles,
        similarity_records(profiles, A, B, "tokens", top_k=1, min_score=0.1, max_token_share=1.0),
    )
    found, analyses = edges(profiles, "tokens")
    assert found == [
        (f"{A}/L0/N0", f"{B}/L0/N1", 1.0),  # N0's best
        (f"{A}/L0/N0", f"{B}/L0/N2", round(1 / math.sqrt(1.25), 4)),  # N2's best
        (f"{A}/L0/N4", f"{B}/L0/N3", 1.0),
    ]
    assert analyses == {f"similarity/tokens/{A}+{B}"}


def test_concepts_by_jaccard(profiles) -> None:
    ingest(profiles, similarity_records(profiles, A, B, "concepts", top_k=5, min_score=0.1))
    found, _ = edges(profiles, "concepts")
    assert found == [(f"{A}/L1/N5", f"{B}/L1/N6", 0.5), (f"{A}/L1/N5", f"{B}/L1/N7", 1.0)]


def test_recomputing_changes_nothing_and_min_score_filters(profiles) -> None:
    options = {"top_k": 5, "min_score": 0.95, "max_token_share": 1.0}
    ingest(profiles, similarity_records(profiles, A, B, "tokens", **options))
    before = graph_fingerprint(profiles)
    assert not ingest(
        profiles, similarity_records(profiles, A, B, "tokens", **options)
    ).counts.changed_anything
    assert graph_fingerprint(profiles) == before
    assert count(profiles, "()-[:SIMILAR_TO]->()") == 2  # the two cosine-1 pairs only


def test_a_rerun_with_other_settings_leaves_exactly_what_its_parameters_produce(
    profiles, store_uri
) -> None:
    """#15.7: the analysis's facts are those its recorded parameters produce, nothing older."""
    loose = ["--top-k", "5", "--min-score", "0.1", "--max-token-share", "1"]
    strict = ["--top-k", "1", "--min-score", "0.9", "--max-token-share", "1"]
    compute = ["similarity", "compute", "--models", A, B, "--metric", "tokens"]
    assert cli(store_uri, *compute, *loose)[0] == 0
    loose_edges, _ = edges(profiles, "tokens")
    code, out = cli(store_uri, *compute, *strict)
    assert code == 0 and "removed" in out, out
    expected = sorted(
        (r.start.key, r.end.key, round(r.props["score"], 4))
        for r in similarity_records(
            profiles, A, B, "tokens", top_k=1, min_score=0.9, max_token_share=1.0
        )
        if getattr(r, "type", None) is RelType.SIMILAR_TO
    )
    found, analyses = edges(profiles, "tokens")
    assert found == expected and len(found) < len(loose_edges)
    assert all(score >= 0.9 for _, _, score in found)
    params = profiles.read("MATCH (a:Analysis {kind: 'similarity'}) RETURN a.params AS p")[0]["p"]
    assert json.loads(params)["min_score"] == 0.9
    assert cli(store_uri, *compute, *loose)[0] == 0  # and back: nothing lost either way
    assert edges(profiles, "tokens")[0] == loose_edges


def test_similar_answers_in_one_line_with_provenance(profiles, store_uri) -> None:
    code, out = cli(
        store_uri,
        "similarity",
        "compute",
        "--models",
        A,
        B,
        "--metric",
        "tokens",
        "--max-token-share",
        "1",
    )
    assert code == 0, out
    code, out = cli(store_uri, "similar", f"{A}/L0/N0", "--in", B, "--format", "json")
    rows = json.loads(out)
    assert [(r["match"], round(r["score"], 4)) for r in rows] == [
        (f"{B}/L0/N1", 1.0),
        (f"{B}/L0/N2", round(1 / math.sqrt(1.25), 4)),
    ]
    assert {r["analysis"] for r in rows} == {f"similarity/tokens/{A}+{B}"}
    code, out = cli(store_uri, "similar", f"{B}/L0/N3")
    assert code == 0 and f"{A}/L0/N4" in out


def test_stop_tokens_shared_by_too_many_neurons_are_left_out(profiles) -> None:
    # " Paris" is fired on by 2 of model B's 3 token neurons (67%); " the" by 1 (33%)
    ingest(profiles, similarity_records(profiles, A, B, "tokens", top_k=5, max_token_share=0.5))
    found, _ = edges(profiles, "tokens")
    assert [(a, b) for a, b, _ in found] == [
        (f"{A}/L0/N0", f"{B}/L0/N1"),  # via " France" alone
        (f"{A}/L0/N4", f"{B}/L0/N3"),
    ]
    params = profiles.read("MATCH (a:Analysis {kind: 'similarity'}) RETURN a.params AS p")[0]["p"]
    assert json.loads(params)["max_token_share"] == 0.5


def test_models_without_profiles_are_a_clear_error(profiles) -> None:
    with pytest.raises(RecordError, match="gpt2-small has no neurons with ACTIVATES_ON"):
        similarity_records(profiles, A, "gpt2-small", "tokens")


def write_vectors(tmp_path, name: str, vectors: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"vectors": vectors}))
    return str(path)


def test_vectors_by_the_backends_vector_index(store, store_uri, tmp_path) -> None:
    basis = [[1.0 if i == j else 0.0 for j in range(4)] for i in range(4)]
    near = [[v + 0.05 * (k + 1) for v in row] for k, row in enumerate(basis)]  # close to basis
    permutation = [2, 0, 3, 1]  # pythia-160m's N{p[i]} is pythia-70m's N{i}
    a = write_vectors(tmp_path, "a.json", {f"L0N{i}": near[i] for i in range(4)})
    b = write_vectors(tmp_path, "b.json", {f"L0N{permutation[i]}": basis[i] for i in range(4)})
    for path, model in ((a, A), (b, B)):
        code, out = cli(store_uri, "ingest", "vectors", path, "--model", model)
        assert code == 0 and "4 components" in out, out
    code, out = cli(
        store_uri,
        "similarity",
        "compute",
        "--models",
        A,
        B,
        "--metric",
        "vectors",
        "--top-k",
        "1",
        "--min-score",
        "0.5",
    )
    assert code == 0, out
    found, analyses = edges(store, "vectors")
    assert [(x, y) for x, y, _ in found] == [
        (f"{A}/L0/N{i}", f"{B}/L0/N{permutation[i]}") for i in range(4)
    ]
    assert all(0.95 < score <= 1.0 for _, _, score in found)
    assert analyses == {f"similarity/vectors/{A}+{B}"}


@pytest.mark.parametrize(
    "vectors, message",
    [
        ({"L0N1": [1.0, float("nan")]}, "NaN"),
        ({"L0N1": [1.0, 2.0], "L0N2": [1.0]}, "different lengths"),
        ({"L0N9999": [1.0]}, "index 9999 is out of range"),
        ({"L0N1": "high"}, "non-empty list of numbers"),
        ({"not a component": [1.0]}, "not a component uid"),
    ],
)
def test_bad_vectors_are_rejected_and_nothing_is_written(
    store, store_uri, tmp_path, vectors, message
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"vectors": vectors}, allow_nan=True))
    code, out = cli(store_uri, "ingest", "vectors", str(path), "--model", A)
    assert code == 1 and message in out, out
    assert count(store, "(n)") == 0
