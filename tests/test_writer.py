"""The one writer: everything validated before the first write, every write idempotent."""

import pytest
from helpers import count, graph_fingerprint

from circuitbase.ingest import ingest
from circuitbase.schema import (
    Analysis,
    HasRole,
    HeadRole,
    ModelSpec,
    NodeLabel,
    RecordError,
    RelType,
    ref,
    rel,
)
from circuitbase.schema.catalog import known_model
from circuitbase.schema.uids import ComponentKind
from circuitbase.sources.models import model_records

ANALYSIS = Analysis(uid="test/heads", kind="heads", method="hand-made", models=["pythia-70m"])


def role(head: str, score: float, role_name: str = "induction", analysis: str = ANALYSIS.uid):
    return HasRole(analysis=analysis, score=score).record(
        ref(NodeLabel.HEAD, head), ref(NodeLabel.HEAD_ROLE, role_name)
    )


def findings(*roles):
    return [
        ANALYSIS.record(),
        HeadRole(name="induction").record(),
        rel(RelType.ABOUT, ANALYSIS.record().ref, ref(NodeLabel.MODEL, "pythia-70m")),
        *roles,
    ]


def test_ingesting_the_same_records_twice_leaves_the_same_graph(store) -> None:
    records = findings(role("pythia-70m/L3/H1", 0.9), role("pythia-70m/L4/H0", 0.4))
    first = ingest(store, records).counts
    before = graph_fingerprint(store)
    second = ingest(store, records).counts
    assert first.relationships_created == 2 + 1 + 2  # HAS_ROLE, ABOUT, IN_MODEL per head
    assert not second.changed_anything
    assert graph_fingerprint(store) == before


def test_components_get_their_model_depth_and_in_model_edge(store) -> None:
    ingest(store, findings(role("pythia-70m/L5/H7", 0.9)))
    rows = store.read(
        "MATCH (h:Component:AttentionHead)-[:IN_MODEL]->(m:Model) "
        "RETURN h.uid AS uid, h.layer AS layer, h.index AS index, "
        "h.relative_depth AS depth, m.n_layers AS n_layers"
    )
    assert rows == [
        {"uid": "pythia-70m/L5/H7", "layer": 5, "index": 7, "depth": 1.0, "n_layers": 6}
    ]


def test_two_analyses_that_disagree_are_both_kept(store) -> None:
    other = Analysis(uid="test/other", kind="heads", method="other", models=["pythia-70m"])
    ingest(
        store,
        findings(role("pythia-70m/L3/H1", 0.9))
        + [other.record(), role("pythia-70m/L3/H1", 0.1, analysis=other.uid)],
    )
    rows = store.read(
        "MATCH (:AttentionHead)-[r:HAS_ROLE]->(:HeadRole) "
        "RETURN r.analysis AS analysis, r.score AS score ORDER BY analysis"
    )
    assert rows == [
        {"analysis": "test/heads", "score": 0.9},
        {"analysis": "test/other", "score": 0.1},
    ]


@pytest.mark.parametrize(
    "bad, message",
    [
        (role("pythia-70m/L6/H0", 0.5), "layer 6 is out of range"),
        (role("pythia-70m/L0/H8", 0.5), "index 8 is out of range"),
        (role("no-such-model/L0/H0", 0.5), "unknown model 'no-such-model'"),
        (role("pythia-70m/L0/H0", 0.5, role_name="not-ingested"), "HeadRole 'not-ingested'"),
        (role("pythia-70m/L0/H0", 0.5, analysis="missing/analysis"), "Analysis 'missing/analysis'"),
    ],
)
def test_one_bad_record_means_nothing_is_written(store, bad, message) -> None:
    ingest(store, findings(role("pythia-70m/L3/H1", 0.9)))
    before = graph_fingerprint(store)
    with pytest.raises(RecordError, match=message):
        ingest(store, findings(role("pythia-70m/L2/H2", 0.7), bad))
    assert graph_fingerprint(store) == before


def test_duplicate_records_that_disagree_are_an_error_naming_the_field(store) -> None:
    first = role("pythia-70m/L3/H1", 0.9).at("heads.csv line 2")
    second = role("pythia-70m/L3/H1", 0.2).at("heads.csv line 7")
    with pytest.raises(RecordError, match=r"heads.csv line 7.*field 'score'.*line 2"):
        ingest(store, findings(first, second))
    assert count(store, "(n)") == 0


def test_nan_and_infinity_never_reach_the_graph() -> None:
    with pytest.raises(ValueError, match="finite"):
        HasRole(analysis="a", score=float("nan"))
    with pytest.raises(RecordError, match="field 'score'.*not a finite number"):
        rel(
            RelType.HAS_ROLE,
            ref(NodeLabel.HEAD, "x/L0/H0"),
            ref(NodeLabel.HEAD_ROLE, "r"),
            analysis="a",
            score=float("inf"),
        )


def test_a_whole_model_of_components_is_written_once(store) -> None:
    spec = known_model("pythia-70m")  # 12,288 neurons: more than a writer's batch
    kinds = {ComponentKind.NEURON, ComponentKind.HEAD}
    ingest(store, model_records(spec, kinds))
    assert count(store, "(:Neuron {model: $m})", m="pythia-70m") == 6 * 2048
    assert count(store, "(:AttentionHead)-[:IN_MODEL]->(:Model {uid: $m})", m="pythia-70m") == 48
    assert not ingest(store, model_records(spec, kinds)).counts.changed_anything


def test_a_model_from_a_transformerlens_config_ignores_unknown_keys() -> None:
    spec = ModelSpec.from_tl_config(
        {
            "model_name": "tiny",
            "n_layers": 2,
            "d_model": 64,
            "n_heads": 4,
            "d_mlp": -1,
            "attn_only": True,
            "positional_embedding_type": "standard",
        }
    )
    assert (spec.name, spec.d_mlp, spec.attn_only) == ("tiny", None, True)


def test_tokens_that_differ_only_in_whitespace_stay_distinct(store) -> None:
    """FalkorDB's string index trims whitespace; token identity must not depend on it."""
    from circuitbase.schema import Token

    texts = [" x", "x", "x ", "\nx", "  x", "\tx", " "]
    records = [Token(text=t).record() for t in texts]
    ingest(store, records)
    assert not ingest(store, records).counts.changed_anything
    rows = store.read("MATCH (t:Token) RETURN t.text AS text")
    assert sorted(r["text"] for r in rows) == sorted(texts)


def _one_record_per_component(spec, kinds):
    """What `model add` wrote before component sets: a record per component, built by
    `Component.record` (the model's own record first)."""
    from circuitbase.schema.nodes import Component
    from circuitbase.sources.models import component_uids

    yield spec.record()
    for uid in component_uids(spec, kinds):
        yield Component(uid=uid, spec=spec).record()


@pytest.mark.parametrize("name", ["solu-2l", "attn-only-2l"])  # with an MLP and without
def test_a_model_s_component_set_writes_what_a_record_per_component_writes(store, name) -> None:
    """The compact rows of a whole model's components and one checked record per component
    leave the same graph (every property and edge), and so does the set after the records."""
    spec, kinds = known_model(name), set(ComponentKind) - {ComponentKind.FEATURE}
    by_records = ingest(store, _one_record_per_component(spec, kinds))
    expected = graph_fingerprint(store)
    store.clear()
    by_set = ingest(store, model_records(spec, kinds))
    assert graph_fingerprint(store) == expected
    assert by_set.counts == by_records.counts
    assert (by_set.plan.node_count, by_set.plan.rel_count) == (
        by_records.plan.node_count,
        by_records.plan.rel_count,
    )
    assert not ingest(store, _one_record_per_component(spec, kinds)).counts.changed_anything


def test_a_component_set_and_records_about_its_components_meet(store) -> None:
    """Facts about components of a set, in the same input, are written once beside it; a
    record that gives a component more properties adds them; one that contradicts what
    its uid says is refused, naming both sides, with nothing written."""
    spec = known_model("pythia-70m")
    head = "pythia-70m/L3/H1"
    records = [*model_records(spec, {ComponentKind.HEAD}), *findings(role(head, 0.9))]
    result = ingest(store, records)
    assert count(store, "(:AttentionHead)-[:IN_MODEL]->(:Model)") == 6 * 8
    assert count(store, "(:AttentionHead {uid: $u})-[:HAS_ROLE]->()", u=head) == 1
    assert result.plan.node_count == 1 + 48 + 2  # the model, its heads, the analysis and role
    from circuitbase.schema.records import node

    noted = node(NodeLabel.HEAD, head, note="seen by hand")
    ingest(store, [*model_records(spec, {ComponentKind.HEAD}), noted])
    assert store.read(
        "MATCH (h:AttentionHead {uid: $u}) RETURN h.note AS note, h.layer AS layer", {"u": head}
    ) == [{"note": "seen by hand", "layer": 3}]
    before = graph_fingerprint(store)
    wrong = node(NodeLabel.HEAD, "pythia-70m/L4/H2", layer=3, note="x")
    with pytest.raises(RecordError, match=r"duplicate AttentionHead 'pythia-70m/L4/H2'.*layer"):
        ingest(store, [*model_records(spec, {ComponentKind.HEAD}), wrong])
    assert graph_fingerprint(store) == before
