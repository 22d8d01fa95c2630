"""One identity per model: Hugging Face and TransformerLens names of a model meet on its one
Model node, in files, command options and template parameters (issue #16, part 3)."""

from __future__ import annotations

import json

from helpers import cli, count

from circuitbase.cli.demo import examples_dir

SHIPPED = examples_dir() / "probes"
HF = {"pythia-70m": "EleutherAI/pythia-70m", "pythia-160m": "EleutherAI/pythia-160m"}


def test_hugging_face_names_meet_the_shipped_data_on_one_node(store, store_uri, tmp_path) -> None:
    for name, hf in HF.items():
        code, out = cli(store_uri, "model", "add", hf, "--components", "heads")
        assert code == 0 and f"{name}:" in out, out
        code, out = cli(
            store_uri, "ingest", "probes", str(SHIPPED / f"{name}_top_mono_neurons.csv")
        )
        assert code == 0, out
    mine = tmp_path / "mine.csv"  # a file that names the model by its hub id
    mine.write_text("model,layer,neuron,feature,f1\nEleutherAI/pythia-70m,3,897,my-feature,0.97\n")
    assert cli(store_uri, "ingest", "probes", str(mine))[0] == 0
    assert sorted(m["uid"] for m in store.models()) == sorted(HF)
    assert count(store, "(:Neuron {uid: 'pythia-70m/L3/N897'})-[:ENCODES]->(:Concept)") >= 2

    code, out = cli(
        store_uri,
        "similarity",
        "compute",
        "--models",
        *HF.values(),
        "--metric",
        "concepts",
        "--min-f1",
        "0.5",
    )
    assert code == 0, out
    code, out = cli(
        store_uri, "similar", "pythia-70m/L3/N897", "--in", HF["pythia-160m"], "--format", "json"
    )
    assert code == 0 and {r["model"] for r in json.loads(out)} == {"pythia-160m"}, out
    by_alias = cli(
        store_uri,
        "query",
        "run",
        "universality_table",
        "--format",
        "json",
        "--param",
        f"model_a={HF['pythia-70m']}",
        "--param",
        f"model_b={HF['pythia-160m']}",
    )
    by_name = cli(
        store_uri,
        "query",
        "run",
        "universality_table",
        "--format",
        "json",
        "--param",
        "model_a=pythia-70m",
        "--param",
        "model_b=pythia-160m",
    )
    assert by_alias == by_name and json.loads(by_name[1])
    assert (
        cli(store_uri, "query", "run", "neuron_concepts", "--param", "uid=pythia-70m/L3/N897")[0]
        == 0
    )


def test_a_deduplicated_pythia_is_another_model(store, store_uri, tmp_path) -> None:
    """pythia-70m-deduped (a catalog model since its head metrics ship) is its own model,
    never merged into pythia-70m; a name near both is an unknown model with near matches."""
    assert cli(store_uri, "model", "add", "pythia-70m")[0] == 0
    other = tmp_path / "deduped.csv"
    other.write_text("model,layer,neuron,feature,f1\npythia-70m-deduped,3,897,x,0.9\n")
    code, out = cli(store_uri, "ingest", "probes", str(other))
    assert code == 0, out
    assert [m["uid"] for m in store.models()] == ["pythia-70m", "pythia-70m-deduped"]
    assert store.read("MATCH (n:Neuron)-[:ENCODES]->() RETURN n.uid AS uid") == [
        {"uid": "pythia-70m-deduped/L3/N897"}
    ]
    other.write_text("model,layer,neuron,feature,f1\npythia-70m-dedupd,3,897,x,0.9\n")
    code, out = cli(store_uri, "ingest", "probes", str(other))
    assert code == 1 and "unknown model 'pythia-70m-dedupd'" in out and "did you mean" in out
    assert "pythia-70m-deduped" in out.split("did you mean")[1]


def test_a_user_adds_aliases_of_their_own(store, store_uri, tmp_path, monkeypatch) -> None:
    names = tmp_path / "aliases.json"
    names.write_text(json.dumps({"my-lab/tiny": "toy"}))
    monkeypatch.setenv("CIRCUITBASE_ALIASES", str(names))
    code, out = cli(
        store_uri,
        "model",
        "add",
        "my-lab/tiny",
        "--n-layers",
        "2",
        "--d-model",
        "8",
        "--n-heads",
        "2",
        "--d-mlp",
        "4",
        "--components",
        "heads",
    )
    assert code == 0 and "toy:" in out, out
    assert [m["uid"] for m in store.models()] == ["toy"]
    names.write_text(json.dumps({"gpt2": "my-gpt"}))  # a shipped alias is not redefined
    from circuitbase.schema import aliases

    aliases._user_aliases.cache_clear()
    code, out = cli(store_uri, "model", "add", "gpt2")
    assert code == 1 and "already name" in out
