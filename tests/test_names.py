"""Every mistake has a way out: a name the store lacks, typed in any command, option or
template parameter, is one line naming the nearest names the store (or the catalog) has,
and exit 1; a uid past its model's bounds names the bound. On both backends.

The template cases are made from the templates' own headers (every parameter that names
something or has a fixed set of values), with a value the store really holds spoilt by
one character, so a new template or parameter is covered without a new line here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import cli

from circuitbase.cli.demo import examples_dir
from circuitbase.queries.registry import HEAD_METRIC, load_templates
from circuitbase.schema.graph import COMPONENT_LABEL, NODE_KEY, NodeLabel

DATA = Path(__file__).parent / "data"


@pytest.fixture
def named(store, store_uri):
    """A store holding something of every kind a name can refer to."""
    ex = examples_dir()
    for command in (
        ["ingest", "probes", str(ex / "probes" / "pythia-70m_top_mono_neurons.csv")],
        ["ingest", "circuit", str(ex / "circuits" / "canonical_circuits_ioi_greaterthan.json")],
        [
            "ingest",
            "heads",
            str(ex / "head-metrics" / "openai-community-gpt2-monology-pile-uncopyrighted.json"),
        ],
        ["ingest", "universal", str(DATA / "universal-neurons" / "pythia-160m" / "universal.csv")],
        ["model", "add", "toy-6l", "--config", str(DATA / "n2g" / "config.json")],
        [
            "ingest",
            "n2g",
            str(DATA / "n2g" / "neuron_graphs" / "toy-6l"),
            "--vocab",
            str(DATA / "n2g" / "vocab.json"),
        ],
    ):
        code, out = cli(store_uri, *command)
        assert code == 0, out
    return store


def spoilt(value: str) -> str:
    return value[:-1] + ("q" if value[-1] != "q" else "z")


def refused(out: str, code: int, *expected: str) -> bool:
    lines = out.strip().splitlines()
    return (
        code == 1
        and len(lines) == 1
        and lines[0].startswith("error: ")
        and all(text in lines[0] for text in expected)
    )


def good_value(store, param) -> str:
    """A value of what the parameter names that the store holds."""
    if param.choices:
        return param.choices[0]
    label, prop = param.names
    if label == COMPONENT_LABEL:
        return "pythia-70m/L3/N897"
    if param.names == HEAD_METRIC:  # a list on each analysis
        return sorted(store.head_metric_names())[0]
    values = sorted(store.values_of(NodeLabel(label), prop or NODE_KEY[NodeLabel(label)]))
    assert values, f"the test store holds no {label}.{prop}: add some"
    return "neuronpedia-headvis/" if param.prefix else values[len(values) // 2]


def test_every_template_parameter_that_names_something(named, store_uri) -> None:
    tried = 0
    for template in load_templates().values():
        naming = [p for p in template.params if p.names or p.choices]
        good = {p.name: good_value(named, p) for p in naming}
        for param in naming:
            given = {p.name: good[p.name] for p in naming if p.required or p is param}
            if template.choose and not set(template.choose) & set(given):
                given[template.choose[0]] = good[template.choose[0]]  # a role or a metric
            if param.names == (COMPONENT_LABEL, None):  # a uid: the bound it broke
                given[param.name] = "pythia-70m/L9/N1"
                expected = ("layer 9 is out of range", "6 layers")
            else:
                given[param.name] = spoilt(good[param.name])
                expected = (repr(given[param.name]), good[param.name])
            args = [arg for name, value in given.items() for arg in ("--param", f"{name}={value}")]
            code, out = cli(store_uri, "query", "run", template.name, *args)
            assert refused(out, code, *expected), (template.name, param.name, out)
            tried += 1
    assert tried >= 20


COMMANDS = [
    (["query", "run", "conept_neurons"], "concept_neurons"),
    (["show", "Gender_Femm"], "Gender_Fem"),
    (["show", "L5H5", "--model", "gpt2-smal"], "gpt2-small"),
    (["show", "pythia-70m/L9/N1"], "6 layers (L0-L5)"),
    (["show", "pythia-70m/L3/N2048"], "2048 per layer"),
    (["similar", "gpt2-small/L5/H5", "--in", "pythia-16m"], "pythia-160m"),
    (["similar", "gpt2-smal/L5/H5"], "gpt2-small"),
    (["model", "remove", "pythia-16m", "--yes"], "pythia-160m"),
    (
        ["analysis", "remove", "acdc-canonical/gpt2-small/io", "--yes"],
        "acdc-canonical/gpt2-small/ioi",
    ),
    (
        ["similarity", "compute", "--models", "pythia-70m", "pythia-16m", "--metric", "concepts"],
        "pythia-160m",
    ),
    (["similarity", "fine-tuning", "gpt2-smal"], "gpt2-small"),
    (
        ["export", "--around", "Gender_Femm", "--format", "graphml", "--out", "x.graphml"],
        "Gender_Fem",
    ),
    (
        [
            "export",
            "--analysis",
            "acdc-canonical/gpt2-small/io",
            "--format",
            "graphml",
            "--out",
            "x.graphml",
        ],
        "acdc-canonical/gpt2-small/ioi",
    ),
    (["n2g", "predict", "toy-6l/L7/N1", "--tokens", '["a"]'], "6 layers"),
    (
        [
            "export",
            "--around",
            "pythia-70m/L3/N897",
            "--model",
            "pythia-16m",
            "--format",
            "graphml",
            "--out",
            "x.graphml",
        ],
        "pythia-160m",
    ),
    (
        ["model", "add", "my-tuned", "--n-layers", "2", "--n-heads", "2", "--base", "gpt2-smal"],
        "gpt2-small",
    ),
]


def test_every_command_names_near_matches(named, store_uri, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for command, expected in COMMANDS:
        code, out = cli(store_uri, *command)
        assert refused(out, code, expected), (command, out)
    assert not any(tmp_path.iterdir())  # nothing written


def test_every_command_that_takes_a_component_takes_each_of_its_names(store, tmp_path) -> None:
    """Issue #42: one resolver everywhere. A head by its uid and by a short form after its
    model; a dictionary feature by its uid, its Neuronpedia name and its SAELens name:
    `show`, `similar`, `export --around` and a template's uid parameter answer each alike."""
    uri = store.location
    tour = examples_dir() / "tour" / "neuronpedia-export"
    heads = examples_dir() / "head-metrics"
    for args in (
        ["ingest", "heads", str(heads / "openai-community-gpt2-monology-pile-uncopyrighted.json")],
        ["ingest", "heads", str(heads / "google-gemma-2-2b-monology-pile-uncopyrighted.json")],
        ["ingest", "saes", str(DATA / "sae-lens" / "pretrained_saes.yaml")],
        ["ingest", "features", str(tour)],
    ):
        code, out = cli(uri, *args)
        assert code == 0, out
    forms = {
        "gpt2-small/L5/H5": ["gpt2-small/L5/H5", "gpt2-small/L5H5", " gpt2-small/L5/H5 "],
        "gpt2-small/L0/res-jb/F3": [
            "gpt2-small/L0/res-jb/F3",
            "gpt2-small/0-res-jb/3",
            "gpt2-small-res-jb/blocks.0.hook_resid_pre/3",
        ],
    }
    for uid, names in forms.items():
        answers: dict[str, set[str]] = {}
        for name in names:
            out_file = tmp_path / "around.json"
            for command in (
                ["show", name, "--format", "json"],
                ["similar", name, "--format", "json"],
                ["export", "--around", name, "--format", "json", "--out", str(out_file)],
                [
                    "query",
                    "run",
                    "similar_components",
                    "--param",
                    f"uid={name}",
                    "--format",
                    "json",
                ],
            ):
                code, out = cli(uri, *command)
                assert code == 0 and "Traceback" not in out, (command, out)
                if command[0] == "export":
                    out = out_file.read_text()
                answers.setdefault(command[0], set()).add(out)
            assert uid in answers["show"].copy().pop()
        for command, outputs in answers.items():
            assert len(outputs) == 1, (uid, command)  # every name, the same answer
