"""The template registry: headers, parameter checking, read-only execution, and answers
compared with the published table they come from (every template's answers on real data,
on both backends, are in test_backends_agree.py)."""

import csv
from pathlib import Path

import pytest

from circuitbase.cli.demo import examples_dir
from circuitbase.errors import CircuitbaseError
from circuitbase.ingest import ingest_files
from circuitbase.queries import TemplateError, get_template, load_templates, run_template
from circuitbase.sources.probes import probe_records
from circuitbase.store import ReadOnlyViolation

TABLE = examples_dir() / "probes" / "pythia-70m_top_mono_neurons.csv"


def test_every_shipped_template_has_a_complete_header() -> None:
    templates = load_templates()
    import circuitbase.queries

    shipped = Path(circuitbase.queries.__file__).parent
    assert sorted(templates) == sorted(p.stem for p in shipped.glob("*.cypher"))
    for template in templates.values():
        assert template.description and template.returns and template.examples, template.name
        assert template.examples[0].startswith(f"circuitbase query run {template.name}")


def test_every_shipped_template_runs_on_an_empty_store(store) -> None:
    """Its Cypher runs (and finds nothing); run as a user runs it, a value that names what
    the store lacks is refused, naming the value."""
    for template in load_templates().values():
        params = {
            p.name: {"str": "x", "int": 1, "float": 0.5}.get(p.type, "x")
            for p in template.params
            if p.required or p.name in template.choose[:1]  # one of a role or a metric
        }
        assert store.read(template.cypher, template.bind(params)) == [], template.name
        if any(p.names or p.choices for p in template.params if p.name in params):
            with pytest.raises(CircuitbaseError, match="'x'"):
                template.run(store, **params)
        else:
            assert template.run(store, **params) == [], template.name


def test_concept_neurons_answers_what_the_published_table_says(store) -> None:
    """Every neuron of the sparse-probing table for a feature, with its F1, read with the
    csv module alone, is what the template returns from the graph."""
    ingest_files(store, [TABLE], probe_records)
    with open(TABLE, newline="") as handle:
        table = list(csv.DictReader(handle))
    for feature in sorted({row["feature"] for row in table})[:12]:
        expected = sorted(
            (f"pythia-70m/L{r['layer']}/N{r['neuron']}", round(float(r["test_f1_score"]), 9))
            for r in table
            if r["feature"] == feature and float(r["test_f1_score"]) >= 0.5
        )
        rows = run_template(store, "concept_neurons", {"concept": feature, "min_score": 0.5})
        assert sorted((r["neuron"], round(r["f1"], 9)) for r in rows) == expected, feature
        assert [r["f1"] for r in rows] == sorted((r["f1"] for r in rows), reverse=True)
    neuron = table[0]
    found = run_template(
        store, "neuron_concepts", {"uid": f"pythia-70m/L{neuron['layer']}/N{neuron['neuron']}"}
    )
    assert neuron["feature"] in {r["concept"] for r in found}


def test_parameters_are_checked_and_converted_before_the_query_runs(store) -> None:
    template = get_template("concept_neurons")
    assert template.bind({"concept": "fr", "min_score": "0.5", "max_k": "2"}) == {
        "concept": "fr",
        "min_score": 0.5,
        "max_k": 2,
        "metric": "f1",
    }
    with pytest.raises(TemplateError, match="needs parameter 'concept'"):
        run_template(store, "concept_neurons", {})
    with pytest.raises(TemplateError, match="'min_score' must be float"):
        run_template(store, "concept_neurons", {"concept": "fr", "min_score": "high"})
    with pytest.raises(TemplateError, match="'max_k' must be int"):
        run_template(store, "concept_neurons", {"concept": "fr", "max_k": 1.5})
    with pytest.raises(TemplateError, match="has no parameter 'colour'"):
        run_template(store, "concept_neurons", {"concept": "fr", "colour": "red"})
    with pytest.raises(TemplateError, match="no query template 'nope'"):
        run_template(store, "nope")


def test_a_template_that_writes_is_refused(store, tmp_path) -> None:
    (tmp_path / "evil.cypher").write_text(
        "// name: evil\n// description: tries to write\n// param: uid: str\n"
        "MERGE (m:Model {uid: $uid}) RETURN m.uid AS uid\n"
    )
    with pytest.raises(ReadOnlyViolation):
        run_template(store, "evil", {"uid": "x"}, extra_dir=tmp_path)
    assert store.read("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
