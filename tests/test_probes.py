"""k-sparse probing results: the paper's real tables, the interchange format, bad rows, templates."""

import csv
import json
from pathlib import Path

import pytest
from helpers import count, graph_fingerprint

from circuitbase.ingest.pipeline import IngestErrors, ingest_files
from circuitbase.queries import run_template
from circuitbase.schema import RecordError
from circuitbase.sources.probes import probe_records

HEADER = "model,layer,neuron,feature,category,k,rank,weight,f1,precision,recall,accuracy\n"


def ingest(store, *paths, **options):
    return ingest_files(store, list(paths), lambda p: probe_records(p, **options))


def write_csv(tmp_path: Path, rows: list[str], name: str = "probes.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def test_the_papers_tables_become_shared_concepts(store, data) -> None:
    language = data / "probes/pythia-70m_monosemantic_language_neurons.csv"
    mono = data / "probes/pythia-160m_top_mono_neurons_head20.csv"
    ingest(store, language, mono)
    assert count(store, "(:Neuron)-[:ENCODES]->(:Concept)") == 24 + 20
    # 'fr' appears in one file for pythia-70m only; 'prime-factors' only for pythia-160m
    rows = store.read(
        "MATCH (n:Neuron)-[e:ENCODES]->(c:Concept {name: 'fr'}) "
        "RETURN n.uid AS uid, e.f1 AS f1, e.k AS k, e.category AS category ORDER BY uid"
    )
    assert rows[0] == {
        "uid": "pythia-70m/L3/N609",
        "f1": 1.0,
        "k": 1,
        "category": "natural_lang_id",
    }
    assert count(store, "(c:Concept {name: 'Gender_Fem'})") == 1
    analyses = store.read(
        "MATCH (a:Analysis)-[:ABOUT]->(m:Model) RETURN a.uid AS uid, "
        "a.citation AS citation, m.uid AS model ORDER BY uid"
    )
    assert [a["model"] for a in analyses] == ["pythia-160m", "pythia-70m"]
    assert all("2305.01610" in a["citation"] for a in analyses)


def test_reingesting_the_same_table_changes_nothing(store, data) -> None:
    path = data / "probes/pythia-70m_monosemantic_language_neurons.csv"
    ingest(store, path)
    before = graph_fingerprint(store)
    assert not ingest(store, path).counts.changed_anything
    assert graph_fingerprint(store) == before


def test_tables_without_model_or_feature_take_them_from_options(store, data) -> None:
    path = data / "probes/pythia-70m_prime_factor_neurons_head10.csv"
    with pytest.raises(IngestErrors, match="line 2.*'model'.*--model"):
        ingest(store, path)
    ingest(store, path, model="pythia-70m", feature="prime-factors")
    # an MCC-only table: left out when ranking by F1, found when ranking by MCC
    assert run_template(store, "concept_neurons", {"concept": "prime-factors"}) == []
    rows = run_template(store, "concept_neurons", {"concept": "prime-factors", "metric": "mcc"})
    assert len(rows) == 10 and {r["model"] for r in rows} == {"pythia-70m"}
    with open(path, newline="") as handle:
        mcc = {
            f"pythia-70m/L{r['layer']}/N{r['neuron']}": float(r["test_mcc"])
            for r in csv.DictReader(handle)
        }
    assert {r["neuron"]: r["score"] for r in rows} == pytest.approx(mcc)
    assert [r["score"] for r in rows] == pytest.approx(sorted(mcc.values(), reverse=True))
    by_rank = sorted(rows, key=lambda r: r["rank"])
    assert [r["score"] for r in by_rank] == pytest.approx(sorted(mcc.values(), reverse=True))


def test_the_interchange_json_keeps_each_probes_neurons_and_ranks(store, tmp_path) -> None:
    path = tmp_path / "probes.json"
    path.write_text(
        json.dumps(
            {
                "analysis": {"uid": "my-lab/probes-v1", "citation": "Me et al. 2026"},
                "probes": [
                    {
                        "model": "pythia-70m",
                        "layer": 2,
                        "feature": "is_python_code",
                        "category": "code",
                        "k": 2,
                        "f1": 0.91,
                        "precision": 0.9,
                        "recall": 0.92,
                        "neurons": [{"neuron": 7, "weight": 1.5}, {"neuron": 3, "weight": -0.5}],
                    }
                ],
            }
        )
    )
    ingest(store, path)
    rows = store.read(
        "MATCH (n:Neuron)-[e:ENCODES]->(c:Concept {name: 'is_python_code'}) "
        "RETURN n.uid AS uid, e.k AS k, e.rank AS rank, e.weight AS weight, "
        "e.f1 AS f1, e.analysis AS analysis, e.category AS category ORDER BY rank"
    )
    assert rows == [
        {
            "uid": "pythia-70m/L2/N7",
            "k": 2,
            "rank": 0,
            "weight": 1.5,
            "f1": 0.91,
            "analysis": "my-lab/probes-v1",
            "category": "code",
        },
        {
            "uid": "pythia-70m/L2/N3",
            "k": 2,
            "rank": 1,
            "weight": -0.5,
            "f1": 0.91,
            "analysis": "my-lab/probes-v1",
            "category": "code",
        },
    ]


@pytest.mark.parametrize(
    "row, record, field, reason",
    [
        ("no-such-model,1,2,fr,lang,1,,,0.9,,,", "line 2", "model", "unknown model"),
        ("pythia-70m,1,2048,fr,lang,1,,,0.9,,,", "line 2", "uid", "index 2048 is out of range"),
        ("pythia-70m,6,0,fr,lang,1,,,0.9,,,", "line 2", "uid", "layer 6 is out of range"),
        ("pythia-70m,1,-3,fr,lang,1,,,0.9,,,", "line 2", "neuron", "greater than or equal to 0"),
        ("pythia-70m,1,2,fr,lang,1,,,1.2,,,", "line 2", "f1", "less than or equal to 1"),
        ("pythia-70m,1,2,fr,lang,1,,,nan,,,", "line 2", "f1", "finite number"),
        ("pythia-70m,1,2,fr,lang,1,,,inf,,,", "line 2", "f1", "finite number"),
        ("pythia-70m,one,2,fr,lang,1,,,0.9,,,", "line 2", "layer", "valid integer"),
        ("pythia-70m,1,2,fr,lang,1,,,0.9", "line 2", None, "fewer values than columns"),
        ("pythia-70m,1,2,fr,lang,1,,,0.9,,,,extra", "line 2", None, "values for 12 columns"),
    ],
)
def test_bad_rows_name_file_line_and_field_and_nothing_is_written(
    store, tmp_path, row, record, field, reason
) -> None:
    good = "pythia-70m,1,5,de,lang,1,,,0.8,,,"
    path = write_csv(tmp_path, [row, good] if record == "line 2" else [good, row])
    before = graph_fingerprint(store)
    with pytest.raises(RecordError) as caught:
        ingest(store, path)
    message = str(caught.value)
    assert str(path) in message and record in message and reason in message
    if field:
        assert f"field '{field}'" in message
    assert graph_fingerprint(store) == before


def test_one_bad_file_among_good_ones_writes_nothing(store, tmp_path, data) -> None:
    bad = write_csv(
        tmp_path, ["pythia-70m,1,2,fr,lang,1,,,0.9,,,", "pythia-70m,1,9999,fr,lang,1,,,0.9,,,"]
    )
    with pytest.raises(RecordError, match="line 3"):
        ingest(store, data / "probes/pythia-70m_monosemantic_language_neurons.csv", bad)
    assert count(store, "(n)") == 0


def test_malformed_json_and_huge_files_are_rejected(store, tmp_path, monkeypatch) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"probes": [{"model": "pythia-70m", "layer": 1,')
    with pytest.raises(RecordError, match="broken.json.*malformed JSON"):
        ingest(store, broken)
    nan = tmp_path / "nan.json"
    nan.write_text(
        '{"probes": [{"model": "pythia-70m", "layer": 1, "feature": "x", "k": 1, '
        '"f1": NaN, "neurons": [{"neuron": 1}]}]}'
    )
    with pytest.raises(RecordError, match="nan.json.*NaN"):
        ingest(store, nan)

    monkeypatch.setenv("CIRCUITBASE_MAX_FILE_BYTES", "100")
    big = write_csv(tmp_path, ["pythia-70m,1,2,fr,lang,1,,,0.9,,,"] * 10, "big.csv")
    with pytest.raises(RecordError, match="big.csv.*over the 100-byte limit"):
        ingest(store, big)
    assert count(store, "(n)") == 0


@pytest.fixture
def known_probes(store, tmp_path):
    """fr: a single neuron with F1 >= 0.95 in three Pythia sizes; de: only in pythia-70m."""
    path = write_csv(
        tmp_path,
        [
            "pythia-70m,2,10,fr,lang,1,,,0.95,,,",
            "pythia-70m,4,11,fr,lang,1,,,0.60,,,",
            "pythia-160m,5,12,fr,lang,1,,,0.97,,,",
            "pythia-410m,20,13,fr,lang,1,,,0.99,,,",
            "pythia-410m,3,14,fr,lang,2,,,0.999,,,",
            "pythia-70m,1,15,de,lang,1,,,0.96,,,",
            "pythia-160m,1,16,de,lang,1,,,0.50,,,",
        ],
    )
    ingest(store, path)
    return store


def test_single_neuron_concepts_counts_models_above_the_threshold(known_probes) -> None:
    rows = run_template(known_probes, "single_neuron_concepts", {"min_score": 0.9, "min_models": 2})
    assert [(r["concept"], r["n_models"], sorted(r["models"])) for r in rows] == [
        ("fr", 3, ["pythia-160m", "pythia-410m", "pythia-70m"])
    ]
    rows = run_template(known_probes, "single_neuron_concepts", {"min_score": 0.9, "min_models": 1})
    assert {r["concept"]: r["n_models"] for r in rows} == {"fr": 3, "de": 1}


def test_concept_depth_by_size_follows_the_best_probe_in_each_model(known_probes) -> None:
    rows = run_template(known_probes, "concept_depth_by_size", {"concept": "fr"})
    assert [(r["model"], r["best_layer"]) for r in rows] == [
        ("pythia-70m", 2),
        ("pythia-160m", 5),
        ("pythia-410m", 3),
    ]  # 410m's best is the k=2 probe
    assert rows[1]["relative_depth"] == pytest.approx(5 / 11)


def test_concept_neurons_and_neuron_concepts(known_probes) -> None:
    rows = run_template(known_probes, "concept_neurons", {"concept": "fr", "min_score": 0.9})
    assert [r["neuron"] for r in rows] == [
        "pythia-160m/L5/N12",
        "pythia-410m/L20/N13",
        "pythia-70m/L2/N10",
    ]
    rows = run_template(known_probes, "neuron_concepts", {"uid": "pythia-70m/L1/N15"})
    assert [(r["concept"], r["f1"]) for r in rows] == [("de", 0.96)]
