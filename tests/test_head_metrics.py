"""Neuronpedia's attention-head metrics (issue #17): every metric of every head of real
models goes in, models unknown so far are created from the file, fine-tuned models meet
their base, and the head templates agree with a direct computation over the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import cli, graph_fingerprint, refuses_file

from circuitbase.cli.demo import examples_dir
from circuitbase.ingest import ingest_files
from circuitbase.queries import run_template
from circuitbase.schema.aliases import canonical_model
from circuitbase.sources.heads import heads_records

METRICS = examples_dir() / "head-metrics"
GPT2 = METRICS / "openai-community-gpt2-monology-pile-uncopyrighted.json"
GEMMA = METRICS / "google-gemma-3-270m-monology-pile-uncopyrighted.json"
GEMMA_IT = METRICS / "google-gemma-3-270m-it-monology-pile-uncopyrighted.json"
ROLES = {"induction": "induction_score", "previous-token": "prev_token_score"}


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def model_of(data: dict) -> str:
    return canonical_model(data["config"]["model_name"])


def test_all_fourteen_files_are_shipped_and_named_by_their_models() -> None:
    files = sorted(METRICS.glob("*.json"))
    assert len(files) == 14
    assert {model_of(load(f)) for f in files} >= {
        "gpt2-small",
        "pythia-70m-deduped",
        "gemma-2-2b",
        "gemma-2-2b-it",
        "Llama-3.1-8B",
        "Olmo-3-1025-7B",
    }


def test_every_metric_of_every_head_is_stored(store) -> None:
    ingest_files(store, [GPT2, GEMMA], heads_records)
    for path in (GPT2, GEMMA):
        data = load(path)
        model, metrics = model_of(data), data["metrics"]
        rows = store.read(
            "MATCH (h:AttentionHead {model: $m})-[r:MEASURED_BY]->(a:Analysis) "
            "RETURN h.layer AS layer, h.index AS head, properties(r) AS r, "
            "a.params AS params",
            {"m": model},
        )
        layers, heads = (data["config"][k] for k in ("num_hidden_layers", "num_attention_heads"))
        assert len(rows) == layers * heads
        for row in rows:
            layer, head, stored = row["layer"], row["head"], row["r"]
            for name, table in metrics.items():
                if name == "counts":
                    for count_name, per_layer in table.items():
                        assert stored[count_name] == pytest.approx(per_layer[layer], rel=1e-12)
                else:
                    assert stored[name] == pytest.approx(table[layer][head], rel=1e-12), name
        params = json.loads(rows[0]["params"])
        assert (params["dataset_name"], params["n_sequences"], params["seq_len"]) == (
            "monology/pile-uncopyrighted",
            4096,
            512,
        )
        for role, metric in ROLES.items():
            scores = store.read(
                "MATCH (h:AttentionHead {model: $m})-[r:HAS_ROLE]->(:HeadRole {name: $role}) "
                "RETURN h.layer AS layer, h.index AS head, r.score AS score",
                {"m": model, "role": role},
            )
            assert {
                (r["layer"], r["head"]): pytest.approx(r["score"], rel=1e-12) for r in scores
            } == {
                (layer, h): v
                for layer, row in enumerate(metrics[metric])
                for h, v in enumerate(row)
            }


def test_a_model_not_yet_known_is_created_from_the_file(store, store_uri) -> None:
    assert cli(store_uri, "ingest", "heads", str(GEMMA))[0] == 0
    [model] = store.models(["gemma-3-270m"])
    assert (model["n_layers"], model["n_heads"], model["hf_id"]) == (18, 4, "google/gemma-3-270m")
    assert model.get("d_model") is None  # unknown, and allowed to be
    code, out = cli(
        store_uri,
        "query",
        "run",
        "strongest_heads",
        "--param",
        "role=induction",
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)[0]["model"] == "gemma-3-270m"
    # its Hugging Face id names it everywhere a model name goes
    code, out = cli(
        store_uri,
        "query",
        "run",
        "roles_after_fine_tuning",
        "--param",
        "model=google/gemma-3-270m",
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out) == []  # no fine-tuned version loaded yet


def test_a_file_of_a_model_not_shipped_loads_the_same_way(store, tmp_path) -> None:
    """Built from the format, not copied: a 3-layer, 2-head model with a metric the
    shipped files do not have."""
    layers, heads = 3, 2
    table = [
        [round(0.1 * layer + 0.01 * head, 4) for head in range(heads)] for layer in range(layers)
    ]
    data = {
        "config": {
            "model_name": "Qwen/Qwen2.5-0.5B",
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "dataset_name": "my/corpus",
            "n_sequences": 8,
            "seq_len": 64,
        },
        "metrics": {
            "induction_score": table,
            "sink_score": table,
            "counts": {"attention_positions": [100.0] * layers},
        },
    }
    path = tmp_path / "Qwen-Qwen2.5-0.5B-my-corpus.json"
    path.write_text(json.dumps(data))
    ingest_files(store, [path], heads_records)
    rows = store.read(
        "MATCH (h:AttentionHead {model: 'Qwen2.5-0.5B'})-[r:MEASURED_BY]->() "
        "RETURN h.name AS head, r.sink_score AS sink, r.attention_positions AS n"
    )
    assert {r["head"]: r["sink"] for r in rows} == {
        f"L{layer}H{head}": table[layer][head] for layer in range(layers) for head in range(heads)
    }
    assert {r["n"] for r in rows} == {100.0}


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda d: d["metrics"]["induction_score"][3].pop(), "metrics.induction_score[3]"),
        (
            lambda d: d["metrics"]["prev_token_score"][2].__setitem__(1, "high"),
            "metrics.prev_token_score[2][1]",
        ),
        (lambda d: d["config"].__setitem__("num_hidden_layers", 13), "gpt2-small has n_layers 12"),
        (lambda d: d["metrics"]["counts"].__setitem__("induction_positions", [1.0]), "counts"),
    ],
)
def test_a_malformed_head_metrics_file_is_refused(store, store_uri, tmp_path, change, says) -> None:
    data = load(GPT2)
    change(data)
    refuses_file(store, store_uri, ["ingest", "heads"], tmp_path / "gpt2.json", data, says)


def test_fine_tuned_models_meet_their_base_whichever_came_first(store) -> None:
    ingest_files(store, [GEMMA_IT], heads_records)
    ingest_files(store, [GEMMA], heads_records)
    later = graph_fingerprint(store, ignore=("created_at",))
    pairs = store.read(
        "MATCH (t:Model)-[:FINE_TUNED_FROM]->(b:Model) RETURN t.uid AS t, b.uid AS b"
    )
    assert pairs == [{"t": "gemma-3-270m-it", "b": "gemma-3-270m"}]
    store.clear()
    ingest_files(store, [GEMMA, GEMMA_IT], heads_records)
    assert graph_fingerprint(store, ignore=("created_at",)) == later


def test_lineage_can_be_stated(store, store_uri) -> None:
    assert cli(store_uri, "model", "add", "toy-base", "--n-layers", "2", "--n-heads", "2")[0] == 0
    code, out = cli(
        store_uri,
        "model",
        "add",
        "toy-tuned",
        "--n-layers",
        "2",
        "--n-heads",
        "2",
        "--base",
        "toy-base",
    )
    assert code == 0, out
    assert store.read(
        "MATCH (t:Model)-[:FINE_TUNED_FROM]->(b:Model) RETURN t.uid AS t, b.uid AS b"
    ) == [{"t": "toy-tuned", "b": "toy-base"}]


def test_strongest_heads_and_roles_after_fine_tuning_agree_with_the_files(store) -> None:
    """Every shipped head-metrics file in one ingest; then each role's strongest heads,
    and the previous-token heads of the fine-tuned models against their bases."""
    files = sorted(METRICS.glob("*.json"))
    ingest_files(store, files, heads_records)
    all_metrics = {model_of(d): d for d in map(load, files)}
    for role in sorted(ROLES):
        _strongest_heads_agree(store, all_metrics, role)
    _roles_after_fine_tuning_agree(store, all_metrics)


def _strongest_heads_agree(store, all_metrics, role) -> None:
    rows = run_template(store, "strongest_heads", {"role": role, "min_score": 0.3})
    expected = {}
    for model, data in all_metrics.items():
        table, layers = data["metrics"][ROLES[role]], data["config"]["num_hidden_layers"]
        score, layer, head = max(
            (v, layer_, h) for layer_, row in enumerate(table) for h, v in enumerate(row)
        )
        expected[model] = {
            "head": f"{model}/L{layer}/H{head}",
            "layer": layer,
            "relative_depth": layer / (layers - 1),
            "has_role": score >= 0.3,
            "score": score,
        }
    assert {r["model"] for r in rows} == set(expected) and len(rows) == 14
    for row in rows:
        want = expected[row["model"]]
        assert (row["head"], row["layer"], row["has_role"]) == (
            want["head"],
            want["layer"],
            want["has_role"],
        )
        assert row["score"] == pytest.approx(want["score"], rel=1e-12)
        assert row["relative_depth"] == pytest.approx(want["relative_depth"])


def _roles_after_fine_tuning_agree(store, all_metrics) -> None:
    rows = run_template(
        store, "roles_after_fine_tuning", {"role": "previous-token", "min_score": 0.3}
    )
    pairs = {
        ("gemma-2-2b-it", "gemma-2-2b"),
        ("gemma-3-1b-it", "gemma-3-1b-pt"),
        ("gemma-3-270m-it", "gemma-3-270m"),
        ("Llama-3.1-8B-Instruct", "Llama-3.1-8B"),
    }
    expected = set()
    for tuned, base in pairs:
        before = all_metrics[base]["metrics"]["prev_token_score"]
        after = all_metrics[tuned]["metrics"]["prev_token_score"]
        expected |= {
            (tuned, base, f"L{layer}H{h}", round(after[layer][h] - v, 9), after[layer][h] >= 0.3)
            for layer, row in enumerate(before)
            for h, v in enumerate(row)
            if v >= 0.3
        }
    assert {
        (r["tuned_model"], r["base_model"], r["head"], round(r["change"], 9), r["keeps_role"])
        for r in rows
    } == expected
    assert any(not r["keeps_role"] for r in rows)  # gemma-3-1b-it's L10H0 loses it
