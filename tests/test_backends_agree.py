"""The same real data in FalkorDB and in Neo4j gives the same answer to every shipped template.

Both stores are loaded through the command line, as a user would: the shipped
sparse-probing tables, ACDC circuits and Neuronpedia head metrics (`demo`), the N2G fixtures in both forms,
TransformerLens's detector scores of solu-2l, an interchange circuit in two Pythia
sizes, and a concept-similarity run. Every template must return rows on both, so
that two empty answers cannot pass as agreement.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from conftest import DATA, NEO4J_ENV, skip_without_neo4j
from helpers import cli
from test_circuits import interchange
from test_heads import detector_file

from circuitbase.queries import load_templates, run_template
from circuitbase.store import GraphStore, open_store

# Parameters for each shipped template; a new template must be added here.
PARAMS: dict[str, dict[str, Any]] = {
    "concept_depth_by_size": {"concept": "prime-factors", "family": "pythia"},
    "concept_neurons": {"concept": "Gender_Fem", "min_score": 0.5},
    "family_concepts": {"family": "pythia", "min_score": 0.9},
    "neuron_concepts": {"uid": "pythia-70m/L3/N897"},
    "shared_output_nodes": {
        "task": "mcq-letter",
        "model_a": "pythia-70m",
        "model_b": "pythia-160m",
    },
    "shared_token_neurons": {"min_models": 1},
    "similar_components": {"uid": "pythia-70m/L3/N897", "top": 5},
    "single_neuron_concepts": {"min_score": 0.9, "min_models": 2, "family": "pythia"},
    "universal_head_roles": {"min_score": 0.3, "family": "gpt2"},
    "strongest_heads": {"role": "previous-token", "min_score": 0.3},
    "roles_after_fine_tuning": {"role": "induction", "min_score": 0.2},
    "features_into_logit": {},
    "recurring_features": {"min_graphs": 1},
    "universality_table": {"model_a": "pythia-70m", "model_b": "pythia-160m", "threshold": 0.2},
    "universal_neurons": {"model": "pythia-160m"},
    "role_emergence": {"model": "OLMo-2-1124-7B", "metric": "next_tok_attn"},
    "component_trajectory": {"uid": "OLMo-2-1124-7B/L9/H2"},
    "heads_over_training": {
        "model": "OLMo-2-1124-7B",
        "metric": "end_tok_attn",
        "min_score": 0.1,
        "source": "head-scores/n2048_seqlen30_randomtokents/",
    },
}


def load_everything(uri: str, tmp_path) -> None:
    n2g = DATA / "n2g"
    steps = [
        ["demo"],
        ["model", "add", "toy-6l", "--config", str(n2g / "config.json")],
        [
            "ingest",
            "n2g",
            str(n2g / "neuron_graphs" / "toy-6l"),
            "--vocab",
            str(n2g / "vocab.json"),
        ],
        ["ingest", "n2g", str(DATA / "n2g-graphviz" / "neuron_graphs" / "toy-6l")],
        ["ingest", "heads", str(detector_file(DATA, tmp_path))],
        ["ingest", "universal", str(DATA / "universal-neurons" / "pythia-160m" / "universal.csv")],
        [
            "ingest",
            "circuit",
            str(DATA / "circuit-tracer" / "123-gemma-3-1b-pt-gemmascope2-16k.json"),
        ],
    ]
    interchange(tmp_path / "mcq-70m.json")
    interchange(tmp_path / "mcq-160m.json", model="pythia-160m", analysis={"uid": "toy-mcq-160m"})
    steps += [
        ["ingest", "circuit", str(tmp_path / "mcq-70m.json"), str(tmp_path / "mcq-160m.json")],
        [
            "similarity",
            "compute",
            "--models",
            "pythia-70m",
            "pythia-160m",
            "--metric",
            "concepts",
            "--min-f1",
            "0.5",
            "--min-score",
            "0.1",
        ],
    ]
    for args in steps:
        code, out = cli(uri, *args)
        assert code == 0, (args, out)


def normal(value: Any) -> Any:
    """Floats to 9 significant digits (the backends sum in different orders) and lists the
    Cypher collects without an order, sorted."""
    if isinstance(value, float):
        return float(f"{value:.9g}") if math.isfinite(value) else value
    if isinstance(value, list):
        items = [normal(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    return value


def answers(store: GraphStore) -> dict[str, list[dict]]:
    return {
        name: [normal(row) for row in run_template(store, name, params)]
        for name, params in PARAMS.items()
    }


@pytest.fixture(scope="module")
def both(falkor_dir, tmp_path_factory) -> dict[str, dict[str, list[dict]]]:
    import os

    skip_without_neo4j()
    found = {}
    for backend, uri in (
        ("falkordb", str(tmp_path_factory.mktemp("agree-falkordb"))),
        ("neo4j", os.environ[NEO4J_ENV]),
    ):
        with open_store(uri) as store:
            store.clear()
            load_everything(uri, tmp_path_factory.mktemp(f"agree-{backend}-files"))
            found[backend] = answers(store)
            store.clear()
    return found


def test_every_shipped_template_is_covered() -> None:
    assert sorted(PARAMS) == sorted(load_templates())


@pytest.mark.parametrize("template", sorted(PARAMS))
def test_both_backends_give_the_same_rows(both, template) -> None:
    falkor, neo4j = both["falkordb"][template], both["neo4j"][template]
    assert falkor, f"{template} returned no rows on FalkorDB"
    assert neo4j, f"{template} returned no rows on Neo4j"
    key = lambda row: json.dumps(row, sort_keys=True)  # noqa: E731
    assert sorted(falkor, key=key) == sorted(neo4j, key=key)
