"""`analyze probe` on a model whose concept neuron is known by construction."""

import json
import random

import pytest

torch = pytest.importorskip("torch", reason="needs the [analysis] extra")
transformer_lens = pytest.importorskip("transformer_lens", reason="needs the [analysis] extra")

from helpers import cli  # noqa: E402

from circuitbase.analyze.models import load_model, save_checkpoint  # noqa: E402
from circuitbase.queries import run_template  # noqa: E402

CONCEPT_TOKENS = range(5, 10)
PLANTED_LAYER, PLANTED_NEURON = 1, 17


def planted_model():
    """A 2-layer model whose L1 neuron 17 fires exactly on tokens 5-9 (and nothing else was set)."""
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    cfg = HookedTransformerConfig(
        n_layers=2,
        d_model=32,
        n_ctx=32,
        d_head=8,
        n_heads=4,
        d_mlp=64,
        d_vocab=40,
        act_fn="relu",
        normalization_type="LN",
        seed=0,
    )
    model = HookedTransformer(cfg)
    with torch.no_grad():
        direction = torch.randn(32, generator=torch.Generator().manual_seed(1))
        direction = (direction - direction.mean()) / (direction - direction.mean()).norm()
        model.W_E[list(CONCEPT_TOKENS)] += 8 * direction
        model.blocks[PLANTED_LAYER].mlp.W_in[:, PLANTED_NEURON] = 8 * direction
        model.blocks[PLANTED_LAYER].mlp.b_in[PLANTED_NEURON] = -2.0
    return model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "planted.pt"
    save_checkpoint(planted_model(), path)
    return path


@pytest.fixture(scope="module")
def concept_data(tmp_path_factory):
    rng = random.Random(0)
    sequences = []
    for _ in range(30):
        tokens = [rng.randrange(40) for _ in range(16)]
        sequences.append({"tokens": tokens, "labels": [int(t in CONCEPT_TOKENS) for t in tokens]})
    path = tmp_path_factory.mktemp("data") / "low_tokens.json"
    path.write_text(
        json.dumps({"concept": "low-tokens", "category": "synthetic", "sequences": sequences})
    )
    return path


def test_a_checkpoint_loads_back_to_the_same_model(checkpoint) -> None:
    model = load_model("planted", checkpoint)
    tokens = torch.tensor([[1, 5, 7, 30]])
    assert torch.allclose(model(tokens), planted_model()(tokens), atol=1e-5)


def test_probing_finds_the_planted_neuron_and_writes_it(
    store_uri, store, checkpoint, concept_data
) -> None:
    code, out = cli(
        store_uri,
        "analyze",
        "probe",
        "planted-2l",
        "--checkpoint",
        str(checkpoint),
        "--concept-data",
        str(concept_data),
        "--k",
        "1",
    )
    assert code == 0, out
    rows = run_template(store, "concept_neurons", {"concept": "low-tokens"})
    by_layer = {r["layer"]: r for r in rows}
    assert by_layer[PLANTED_LAYER]["neuron"] == f"planted-2l/L{PLANTED_LAYER}/N{PLANTED_NEURON}"
    assert by_layer[PLANTED_LAYER]["f1"] >= 0.95
    assert set(by_layer) == {0, 1}  # one k=1 probe per layer
    model = store.read(
        "MATCH (m:Model {uid: 'planted-2l'}) RETURN m.d_mlp AS d_mlp, m.n_layers AS n"
    )
    assert model == [{"d_mlp": 64, "n": 2}]
    analysis = store.read("MATCH (a:Analysis {kind: 'probe'}) RETURN a.params AS params")
    assert json.loads(analysis[0]["params"])["selection"] == "mean difference"
    code, again = cli(
        store_uri,
        "analyze",
        "probe",
        "planted-2l",
        "--checkpoint",
        str(checkpoint),
        "--concept-data",
        str(concept_data),
        "--k",
        "1",
    )
    assert "0 nodes and 0 relationships created" in again


def test_labels_that_do_not_fit_are_rejected_with_file_and_record(
    store_uri, checkpoint, tmp_path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"concept": "x", "sequences": [{"tokens": [1, 2, 3], "labels": [0, 1]}]})
    )
    code, out = cli(
        store_uri,
        "analyze",
        "probe",
        "planted-2l",
        "--checkpoint",
        str(checkpoint),
        "--concept-data",
        str(bad),
    )
    assert code == 1 and "bad.json" in out and "3 tokens but 2 labels" in out
    out_of_vocab = tmp_path / "oov.json"
    out_of_vocab.write_text(
        json.dumps(
            {
                "concept": "x",
                "sequences": [
                    {"tokens": [1, 99], "labels": [0, 1]},
                    {"tokens": [1, 2], "labels": [1, 0]},
                ],
            }
        )
    )
    code, out = cli(
        store_uri,
        "analyze",
        "probe",
        "planted-2l",
        "--checkpoint",
        str(checkpoint),
        "--concept-data",
        str(out_of_vocab),
    )
    assert code == 1 and "oov.json" in out and "sequence 0" in out and "0..39" in out
