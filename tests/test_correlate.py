"""Activation correlation across models (issue #18), checked against what it must find:
a model whose neurons are permuted has each neuron's image as its partner at correlation 1;
the streamed correlations equal numpy's over the collected activations, even with large
offsets; independently initialised models have no universal neurons; bad input is one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the [analysis] extra")
transformer_lens = pytest.importorskip("transformer_lens", reason="needs the [analysis] extra")

from helpers import cli, graph_fingerprint  # noqa: E402

from circuitbase.analyze.correlate import (  # noqa: E402
    StreamingPearson,
    correlate,
    mlp_activations,
    random_rotations,
)
from circuitbase.analyze.models import save_checkpoint  # noqa: E402

LAYERS, D_MLP = 2, 48


def toy(seed: int, d_vocab: int = 64):
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    cfg = HookedTransformerConfig(
        n_layers=LAYERS,
        d_model=32,
        n_ctx=32,
        d_head=8,
        n_heads=4,
        d_mlp=D_MLP,
        d_vocab=d_vocab,
        act_fn="gelu",
        seed=seed,
        device="cpu",
    )
    return HookedTransformer(cfg).eval()


def permuted(model, seed: int = 7):
    """The same function with each layer's MLP neurons in another order."""
    other = toy(0)
    other.load_state_dict(model.state_dict())
    generator = torch.Generator().manual_seed(seed)
    perms = []
    with torch.no_grad():
        for block in other.blocks:
            perm = torch.randperm(D_MLP, generator=generator)
            block.mlp.W_in.copy_(block.mlp.W_in[:, perm])
            block.mlp.b_in.copy_(block.mlp.b_in[perm])
            block.mlp.W_out.copy_(block.mlp.W_out[perm, :])
            perms.append(perm)
    return other, perms


def tokens(n_sequences: int = 24, length: int = 32, seed: int = 1) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 64, (n_sequences, length)).tolist()


def test_a_permuted_model_pairs_every_neuron_with_its_image() -> None:
    a = toy(1)
    b, perms = permuted(a)
    result = correlate(a, b, tokens(), batch_tokens=200)
    best = result.corr.argmax(1)
    for layer, perm in enumerate(perms):
        for new, old in enumerate(perm.tolist()):  # b's neuron `new` is a's neuron `old`
            i = layer * D_MLP + old
            assert best[i] == layer * D_MLP + new
            assert result.corr[i, best[i]] == pytest.approx(1.0, abs=1e-5)
    assert (result.corr.max(1) - result.baseline_a).min() > 0.1  # all beat the rotated basis


@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_streamed_correlations_equal_numpys(offset) -> None:
    """Running sums over batches, against np.corrcoef in float64 over all rows at once."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((900, 12)) + offset
    b = 0.5 * a[:, :10] + rng.standard_normal((900, 10)) + offset
    a[:, 3] = offset  # a neuron that never varies
    sums = StreamingPearson([6, 6], [5, 5])
    for start in range(0, 900, 128):
        sums.update(
            torch.tensor(a[start : start + 128], dtype=torch.float32),
            torch.tensor(b[start : start + 128], dtype=torch.float32),
        )
    result = sums.result(random_rotations([6, 6], 0), random_rotations([5, 5], 1))
    a32, b32 = a.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.nan_to_num(np.corrcoef(a32, b32, rowvar=False)[:12, 12:])
    np.testing.assert_allclose(result.corr, expected, atol=1e-6)
    # the baseline, computed directly: correlations with the rotated columns of b
    rotated = np.concatenate(
        [b32[:, s : s + 5] @ r.numpy().T for s, r in zip((0, 5), random_rotations([5, 5], 1))],
        axis=1,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        direct = np.nan_to_num(np.corrcoef(a32, rotated, rowvar=False)[:12, 12:]).max(1)
    np.testing.assert_allclose(result.baseline_a, direct, atol=1e-6)


def test_correlations_of_real_activations_equal_numpys() -> None:
    a, b = toy(1), toy(2)
    data = tokens(6)
    result = correlate(a, b, data, batch_tokens=64)
    t = torch.tensor(data)
    acts_a, acts_b = (mlp_activations(m, t).double().numpy() for m in (a, b))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.nan_to_num(
            np.corrcoef(acts_a, acts_b, rowvar=False)[: LAYERS * D_MLP, LAYERS * D_MLP :]
        )
    np.testing.assert_allclose(result.corr, expected, atol=2e-5)


def test_independent_models_have_no_universal_neurons() -> None:
    result = correlate(toy(1), toy(2), tokens(48), batch_tokens=512)
    excess = result.corr.max(1) - result.baseline_a
    assert abs(float(np.mean(excess))) < 0.1 and float(excess.max()) < 0.5


@pytest.fixture
def checkpoints(tmp_path):
    a = toy(1)
    b, _ = permuted(a)
    paths = {}
    for name, model in (("a", a), ("b", b)):
        save_checkpoint(model, tmp_path / f"{name}.pt")
        paths[name] = tmp_path / f"{name}.pt"
    data = tmp_path / "tokens.json"
    data.write_text(json.dumps(tokens(8)))
    return paths, data


def test_similar_answers_from_the_stored_correlations(store, store_uri, checkpoints) -> None:
    paths, data = checkpoints
    code, out = cli(
        store_uri,
        "analyze",
        "correlate",
        "toy-a",
        "toy-b",
        "--checkpoint-a",
        str(paths["a"]),
        "--checkpoint-b",
        str(paths["b"]),
        "--text-data",
        str(data),
        "--top-k",
        "2",
        "--device",
        "cpu",
    )
    assert code == 0, out
    stored = store.read(
        "MATCH (:Neuron)-[s:SIMILAR_TO {metric: 'activation-correlation'}]->(:Neuron) "
        "RETURN count(s) AS n, max(s.score) AS best"
    )[0]
    assert stored["n"] >= 2 * LAYERS * D_MLP * 1 and stored["best"] == pytest.approx(1.0, abs=1e-5)
    code, out = cli(store_uri, "similar", "toy-a/L1/N5", "--in", "toy-b", "--format", "json")
    assert code == 0, out
    rows = json.loads(out)
    assert (
        rows[0]["score"] == pytest.approx(1.0, abs=1e-5)
        and rows[0]["metric"] == "activation-correlation"
    )
    assert json.loads(rows[0]["params"])["text_hash"].startswith("sha256:")  # what it read
    stats = store.read(
        "MATCH (n:Neuron {uid: 'toy-a/L1/N5'})-[m:MEASURED_BY]->(a:Analysis) "
        "RETURN m.max_corr AS max, m.excess_corr AS excess, a.params AS params"
    )[0]
    assert stats["excess"] > 0.5 and json.loads(stats["params"])["tokens"] == 8 * 32
    excess = [
        r["e"]
        for r in store.read(
            "MATCH (n:Neuron {model: 'toy-a'})-[m:MEASURED_BY]->() RETURN m.excess_corr AS e"
        )
    ]
    assert len(excess) == LAYERS * D_MLP
    code, out = cli(
        store_uri, "query", "run", "universal_neurons", "--param", "model=toy-a", "--format", "json"
    )
    assert code == 0 and sum(r["neurons"] for r in json.loads(out)) == sum(e > 0.5 for e in excess)


def test_bad_input_is_one_line_and_writes_nothing(store, store_uri, checkpoints, tmp_path) -> None:
    paths, data = checkpoints
    other_vocab = tmp_path / "c.pt"
    save_checkpoint(toy(3, d_vocab=80), other_vocab)
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    not_a_model = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(3)}, not_a_model)
    cases = [
        (paths["a"], other_vocab, data, "different vocabularies"),
        (paths["a"], paths["b"], empty, "no tokens"),
        (paths["a"], not_a_model, data, "not a circuitbase model checkpoint"),
    ]
    for a, b, text, says in cases:
        before = graph_fingerprint(store)
        code, out = cli(
            store_uri,
            "analyze",
            "correlate",
            "toy-a",
            "toy-c",
            "--checkpoint-a",
            str(a),
            "--checkpoint-b",
            str(b),
            "--text-data",
            str(text),
        )
        lines = out.strip().splitlines()
        assert code == 1 and says in lines[-1] and "Traceback" not in out, out
        assert graph_fingerprint(store) == before
