"""The template registry: headers, parameter checking, read-only execution."""

import pytest

from circuitbase.queries import TemplateError, get_template, load_templates, run_template
from circuitbase.store import ReadOnlyViolation


def test_every_shipped_template_has_a_complete_header() -> None:
    templates = load_templates()
    assert len(templates) >= 4
    for template in templates.values():
        assert template.description and template.returns and template.examples, template.name
        assert template.examples[0].startswith(f"circuitbase query run {template.name}")


def test_every_shipped_template_runs_on_an_empty_store(store) -> None:
    for template in load_templates().values():
        params = {p.name: {"str": "x", "int": 1, "float": 0.5}.get(p.type, "x")
                  for p in template.params if p.required}
        assert template.run(store, **params) == [], template.name


def test_parameters_are_checked_and_converted_before_the_query_runs(store) -> None:
    template = get_template("concept_neurons")
    assert template.bind({"concept": "fr", "min_f1": "0.5", "max_k": "2"}) == {
        "concept": "fr", "min_f1": 0.5, "max_k": 2}
    with pytest.raises(TemplateError, match="needs parameter 'concept'"):
        run_template(store, "concept_neurons", {})
    with pytest.raises(TemplateError, match="'min_f1' must be float"):
        run_template(store, "concept_neurons", {"concept": "fr", "min_f1": "high"})
    with pytest.raises(TemplateError, match="'max_k' must be int"):
        run_template(store, "concept_neurons", {"concept": "fr", "max_k": 1.5})
    with pytest.raises(TemplateError, match="has no parameter 'colour'"):
        run_template(store, "concept_neurons", {"concept": "fr", "colour": "red"})
    with pytest.raises(TemplateError, match="no query template 'nope'"):
        run_template(store, "nope")


def test_a_template_that_writes_is_refused(store, tmp_path) -> None:
    (tmp_path / "evil.cypher").write_text(
        "// name: evil\n// description: tries to write\n// param: uid: str\n"
        "MERGE (m:Model {uid: $uid}) RETURN m.uid AS uid\n")
    with pytest.raises(ReadOnlyViolation):
        run_template(store, "evil", {"uid": "x"}, extra_dir=tmp_path)
    assert store.read("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
