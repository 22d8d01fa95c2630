"""Universal Neurons (Gurnee et al. 2024): the published per-neuron tables go in whole, and the
universal-neurons question is answered from them (issue #16, part 2)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from helpers import cli, count, graph_fingerprint

from circuitbase.ingest import ingest_files
from circuitbase.queries import run_template
from circuitbase.sources.universal import universal_records

DATA = Path(__file__).parent / "data" / "universal-neurons"
UNIVERSAL = DATA / "pythia-160m" / "universal.csv"
PREDICTION = DATA / "stanford-gpt2-medium-a" / "prediction_neurons.csv"
EXCESS = DATA / "stanford-gpt2-small-a" / "high_excess_correlation.csv"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def stored(store, model: str) -> dict[str, dict]:
    found = store.read(
        "MATCH (n:Neuron {model: $m})-[f:IN_FAMILY]->(x:NeuronFamily) "
        "RETURN n.uid AS uid, x.name AS family, properties(f) AS stats",
        {"m": model},
    )
    return {f"{r['uid']} {r['family']}": r["stats"] for r in found}


def test_every_statistic_of_every_universal_neuron_is_kept_as_published(store, store_uri) -> None:
    code, out = cli(store_uri, "ingest", "universal", str(UNIVERSAL))  # model from its folder
    assert code == 0, out
    facts = stored(store, "pythia-160m")
    table = rows(UNIVERSAL)
    assert len(facts) == len(table)
    for row in table:
        stats = facts[f"pythia-160m/L{row['layer']}/N{row['neuron']} universal"]
        for column, text in row.items():
            if column not in ("layer", "neuron"):
                # float64 as the text says; FalkorDB prints doubles with 15 significant digits
                assert stats[column] == pytest.approx(float(text), rel=1e-14, abs=0), column
    code, out = cli(store_uri, "ingest", "universal", str(UNIVERSAL))
    assert code == 0 and "0 nodes and 0 relationships created" in out, out
    cited = store.read("MATCH (a:Analysis {kind: 'universality'}) RETURN a.citation AS c")[0]["c"]
    assert "2401.12181" in cited


def test_prediction_and_suppression_neurons_are_families(store, store_uri) -> None:
    assert cli(store_uri, "ingest", "universal", str(PREDICTION))[0] == 0
    found = store.read(
        "MATCH (n:Neuron)-[f:IN_FAMILY]->(x:NeuronFamily) "
        "RETURN n.uid AS uid, x.name AS family, f.feature AS feature"
    )
    expected = {
        (
            f"stanford-gpt2-medium-a/L{r['layer']}/N{r['neuron']}",
            "suppression" if r["is_surpress"] == "True" else "prediction",
            r["feature"],
        )
        for r in rows(PREDICTION)
    }
    assert sorted((r["uid"], r["family"], r["feature"]) for r in found) == sorted(expected)
    assert len(found) == len(rows(PREDICTION))  # a neuron in two features is two facts


def test_an_unnamed_index_column_is_kept(store) -> None:
    ingest_files(store, [EXCESS], universal_records)
    facts = stored(store, "stanford-gpt2-small-a")
    for row in rows(EXCESS):
        key = f"stanford-gpt2-small-a/L{row['layer']}/N{row['neuron']} high_excess_correlation"
        assert facts[key]["source_row"] == int(row[""])
        assert facts[key]["excess_corr"] == float(row["excess_corr"])


def test_the_universal_neurons_template_counts_by_family_and_layer(store) -> None:
    ingest_files(store, [UNIVERSAL, PREDICTION], universal_records)
    by_layer: dict[int, list[float]] = defaultdict(list)
    for row in rows(UNIVERSAL):
        by_layer[int(row["layer"])].append(float(row["excess_corr"]))
    answer = run_template(
        store, "universal_neurons", {"model": "pythia-160m", "family": "universal"}
    )
    assert [(r["layer"], r["neurons"]) for r in answer] == [
        (layer, len(v)) for layer, v in sorted(by_layer.items())
    ]
    for r in answer:
        assert r["mean_excess_corr"] == pytest.approx(
            sum(by_layer[r["layer"]]) / len(by_layer[r["layer"]])
        )
    families = {
        r["family"]
        for r in run_template(store, "universal_neurons", {"model": "stanford-gpt2-medium-a"})
    }
    assert families == {"prediction", "suppression"}


def test_a_bad_statistic_is_one_line_and_nothing_is_written(store, store_uri, tmp_path) -> None:
    folder = tmp_path / "pythia-160m"
    folder.mkdir()
    bad = folder / "universal.csv"
    bad.write_text("layer,neuron,max_corr\n0,1,0.5\n0,2,nan\n")
    before = graph_fingerprint(store)
    code, out = cli(store_uri, "ingest", "universal", str(bad))
    assert code == 1 and "line 3" in out and "max_corr" in out, out
    assert graph_fingerprint(store) == before and count(store, "(n)") == 0
