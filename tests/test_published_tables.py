"""The sparse-probing paper's published tables (wesg52/sparse-probing-paper, interpretable_neurons/),
as published: every column kept, each table recognised for what it is, and a graph that
does not depend on the order the files were ingested in (issue #16, part 1)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from helpers import count, graph_fingerprint

from circuitbase.ingest import ingest_files
from circuitbase.queries import run_template
from circuitbase.schema import RecordError
from circuitbase.sources.probes import probe_records

PROBES = Path(__file__).parent / "data" / "probes"
WIKIDATA = PROBES / "pythia-6.9b_wikidata.csv"  # a neuron probed on two datasets
ALL_28B = PROBES / "pythia-2.8b_all_neurons_of_interest.csv"  # rows not sorted by F1
TOP_FACT = PROBES / "pythia-6.9b_top_fact_neurons.csv"  # agg, loc and k columns
SHARED = (
    Path(__file__).parents[2] / "shared" / "data" / "sparse-probing-paper" / "interpretable_neurons"
)


def table(path: Path) -> list[dict[str, str]]:
    """The file's rows, a row repeated verbatim once (the wikidata table repeats 7)."""
    with open(path, newline="") as handle:
        unique = {tuple(row.items()): row for row in csv.DictReader(handle)}
    return list(unique.values())


def facts(store) -> list[dict]:
    return store.read(
        "MATCH (n:Neuron)-[e:ENCODES]->(c:Concept) RETURN n.uid AS neuron, "
        "c.name AS feature, e.dataset AS dataset, e.category AS category, "
        "e.f1 AS f1, e.mcc AS mcc, e.rank AS rank, e.aggregation AS aggregation, "
        "e.hook AS hook, e.k AS k"
    )


def test_the_same_neuron_on_two_datasets_is_two_facts(store) -> None:
    ingest_files(store, [WIKIDATA], probe_records)
    rows = table(WIKIDATA)
    assert len(facts(store)) == len(rows)  # every row, none merged or refused
    found = {(f["neuron"], f["feature"], f["dataset"]): f["f1"] for f in facts(store)}
    for row in rows:
        key = (f"pythia-6.9b/L{row['layer']}/N{row['neuron']}", row["feature"], row["dataset"])
        assert found[key] == pytest.approx(float(row["test_f1_score"]))


def test_ingest_order_does_not_change_the_graph(store) -> None:
    ingest_files(store, [WIKIDATA], probe_records)
    ingest_files(store, [ALL_28B], probe_records)
    one_way = graph_fingerprint(store, ignore=("created_at",))
    store.clear()
    ingest_files(store, [ALL_28B], probe_records)
    ingest_files(store, [WIKIDATA], probe_records)
    assert graph_fingerprint(store, ignore=("created_at",)) == one_way
    store.clear()
    ingest_files(store, [ALL_28B, WIKIDATA], probe_records)  # together, as one command
    assert graph_fingerprint(store, ignore=("created_at",)) == one_way
    stored = facts(store)
    rows = table(WIKIDATA) + table(ALL_28B)
    assert {f["dataset"] for f in stored} == {r["dataset"] for r in rows}
    assert {f["category"] for f in stored} == {r["dataset"].split(".")[0] for r in rows}
    female = {f["category"] for f in stored if f["feature"] == "female"}
    assert len(female) > 1  # one concept, in every collection it appears in
    assert count(store, "(c:Concept {name: 'female'})") == 1


def test_rank_is_by_f1_within_a_feature_and_dataset(store) -> None:
    ingest_files(store, [ALL_28B], probe_records)
    best: dict[tuple[str, str], float] = {}
    for row in table(ALL_28B):
        key = (row["feature"], row["dataset"])
        best[key] = max(best.get(key, 0.0), float(row["test_f1_score"]))
    ranked = [f for f in facts(store) if f["rank"] == 0]
    assert {(f["feature"], f["dataset"]): f["f1"] for f in ranked} == pytest.approx(best)


def test_aggregation_hook_and_k_are_kept(store) -> None:
    ingest_files(store, [TOP_FACT], probe_records)
    rows = table(TOP_FACT)
    stored = {(f["neuron"], f["feature"]): f for f in facts(store)}
    assert len(stored) == len(rows)
    for row in rows:
        fact = stored[(f"pythia-6.9b/L{row['layer']}/N{row['neuron']}", row["feature"])]
        assert (fact["aggregation"], fact["hook"], fact["k"]) == (
            row["agg"],
            row["loc"],
            int(row["k"]),
        )


def test_a_selection_table_is_one_k_sparse_probe_per_feature(store) -> None:
    path = PROBES / "pythia-1b_compound_superposition.csv"
    ingest_files(store, [path], lambda p: probe_records(p, model="pythia-1b"))
    groups: dict[tuple[str, str], list[str]] = {}
    for row in table(path):
        groups.setdefault((row["feature"], row["layer"]), []).append(row["neuron"])
    stored = facts(store)
    assert len(stored) == sum(map(len, groups.values()))
    for fact in stored:
        feature, layer, neuron = (
            fact["feature"],
            fact["neuron"].split("/")[1][1:],
            fact["neuron"].split("/N")[1],
        )
        members = groups[(feature, layer)]
        assert fact["k"] == len(members) and fact["rank"] == members.index(neuron)
        assert fact["f1"] is None
    # k-sparse selections are not single-neuron findings
    assert run_template(store, "concept_neurons", {"concept": stored[0]["feature"]}) == []


def test_a_table_that_is_not_probe_results_is_refused_saying_what_it_is(store) -> None:
    path = PROBES / "pythia-70m_biasxnorm_p20_50_80_head20.csv"
    with pytest.raises(RecordError, match="biasxnorm.*not probe results"):
        ingest_files(store, [path], probe_records)
    assert count(store, "(n)") == 0


def published() -> list[Path]:
    return sorted(SHARED.glob("*/*.csv")) if SHARED.is_dir() else []


@pytest.mark.skipif(
    not published(), reason="shared/data/sparse-probing-paper is not beside the checkout"
)
@pytest.mark.parametrize("path", published(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_published_table_goes_in_whole_or_is_refused_saying_why(store, path) -> None:
    feature = "prime-factors" if "prime_factor" in path.name else None
    model = path.parent.name if feature else None
    try:
        result = ingest_files(
            store, [path], lambda p: probe_records(p, model=model, feature=feature)
        )
    except RecordError as err:
        assert "this table holds" in str(err) and "not probe results" in str(err), str(err)
        return
    assert result.plan.rel_count >= len(table(path))  # ENCODES (and IN_MODEL, ABOUT) per row
    assert len(facts(store)) == len(table(path))
