"""Attention-head categories: TransformerLens detector scores, the interchange format,
and `analyze heads` on a model trained here until an induction head forms."""

import json
import random

import pytest
from helpers import cli, count, graph_fingerprint

from circuitbase.ingest.pipeline import ingest_files
from circuitbase.queries import run_template
from circuitbase.schema import RecordError
from circuitbase.sources.heads import heads_records

SOLU = "transformer-lens/head_detector_expected_scores_solu-2l.json"


def detector_file(data, tmp_path):
    """TransformerLens's expected detect_head scores for solu-2l, saved as detect_head output."""
    expected = json.loads((data / SOLU).read_text())["expected_scores"]
    path = tmp_path / "solu-2l_heads.json"
    path.write_text(
        json.dumps(
            {
                "model": "solu-2l",
                "method": "detect_head, error_measure=mul",
                "scores": {
                    "previous_token_head": expected["expected_regular_sequence_previous_match_mul"],
                    "duplicate_token_head": expected[
                        "expected_duplicated_sequence_duplicate_match_mul"
                    ],
                    "induction_head": expected["expected_duplicated_sequence_induction_match_mul"],
                },
            }
        )
    )
    return path


def top_heads(store, role: str, n: int = 1) -> list[str]:
    rows = store.read(
        "MATCH (h:AttentionHead)-[r:HAS_ROLE]->(:HeadRole {name: $role}) "
        "RETURN h.uid AS uid ORDER BY r.score DESC LIMIT $n",
        {"role": role, "n": n},
    )
    return [r["uid"] for r in rows]


def test_transformerlens_detector_scores_of_solu_2l(store, data, tmp_path) -> None:
    ingest_files(store, [detector_file(data, tmp_path)], heads_records)
    assert count(store, "(:AttentionHead)-[:HAS_ROLE]->(:HeadRole)") == 3 * 2 * 8
    assert top_heads(store, "previous-token") == ["solu-2l/L0/H5"]
    assert top_heads(store, "induction", 2) == ["solu-2l/L1/H1", "solu-2l/L1/H6"]
    method = store.read("MATCH ()-[r:HAS_ROLE]->() RETURN DISTINCT r.method AS m")
    assert method == [{"m": "detect_head, error_measure=mul"}]


def test_interchange_csv_and_its_bad_rows(store, tmp_path) -> None:
    good = tmp_path / "roles.csv"
    good.write_text(
        "model,layer,head,role,score,method\n"
        "gpt2-small,5,1,induction,0.9,path patching\n"
        "gpt2-small,5,5,induction,0.8,\n"
        "pythia-70m,3,1,induction,0.7,\n"
    )
    ingest_files(store, [good], heads_records)
    rows = run_template(store, "universal_head_roles", {"min_score": 0.5})
    assert {(r["role"], r["model"]) for r in rows} == {
        ("induction", "gpt2-small"),
        ("induction", "pythia-70m"),
    }
    before = graph_fingerprint(store)
    for bad_row, message in [
        ("gpt2-small,5,12,induction,0.9,", "index 12 is out of range"),
        ("gpt2-small,12,1,induction,0.9,", "layer 12 is out of range"),
        ("gpt2-small,5,1,induction,nan,", "finite number"),
        ("gpt2-small,5,one,induction,0.9,", "valid integer"),
        ("unknown,5,1,induction,0.9,", "unknown model"),
    ]:
        bad = tmp_path / "bad.csv"
        bad.write_text("model,layer,head,role,score,method\n" + bad_row + "\n")
        with pytest.raises(RecordError) as caught:
            ingest_files(store, [bad], heads_records)
        assert "bad.csv" in str(caught.value) and "line 2" in str(caught.value)
        assert message in str(caught.value)
    assert graph_fingerprint(store) == before


def test_unknown_detector_head_types_are_rejected(store, tmp_path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"model": "solu-2l", "scores": {"copy_head": [[0.1] * 8] * 2}}))
    with pytest.raises(RecordError, match="odd.json.*unknown head type 'copy_head'"):
        ingest_files(store, [path], heads_records)


def needs_torch():
    """Only the tests that run a model need the [analysis] extra."""
    return pytest.importorskip("torch", reason="needs the [analysis] extra")


def train_induction_model():
    """A 2-layer attention-only model trained on repeated random sequences of varying period
    (so no fixed positional offset can do the job) until an induction head forms."""
    torch = needs_torch()
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    torch.manual_seed(0)
    cfg = HookedTransformerConfig(
        n_layers=2,
        d_model=64,
        n_ctx=32,
        d_head=16,
        n_heads=4,
        d_vocab=64,
        attn_only=True,
        normalization_type=None,
        act_fn=None,
        seed=0,
    )
    model = HookedTransformer(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    rng = random.Random(0)
    for _ in range(900):
        period = rng.randint(5, 15)
        block = torch.randint(1, 64, (64, period))
        tokens = torch.cat([torch.zeros(64, 1, dtype=torch.long), block, block], dim=1)
        loss = model(tokens, return_type="loss")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


PERIOD, SEQUENCES, SEED = 12, 32, 0


def transformer_lens_induction_scores(model) -> dict[str, float]:
    """Each head's induction score by TransformerLens's own head detector (its detection
    pattern and its "mul" similarity score), on the sequences `analyze heads --seed 0`
    builds: BOS, then a random block twice, from torch's generator seeded with SEED.

    TransformerLens divides the attention to the induction targets by the attention of
    every position (2 * PERIOD + 1 rows), circuitbase averages over the PERIOD repeated
    positions only, so TransformerLens's score is PERIOD / (2 * PERIOD + 1) of ours,
    up to tokens that repeat inside a block (which its pattern also counts)."""
    torch = needs_torch()
    from transformer_lens.head_detector import (
        compute_head_attention_similarity_score,
        get_induction_head_detection_pattern,
    )

    generator = torch.Generator().manual_seed(SEED)
    block = torch.randint(1, model.cfg.d_vocab, (SEQUENCES, PERIOD), generator=generator)
    tokens = torch.cat([torch.zeros(SEQUENCES, 1, dtype=torch.long), block, block], dim=1)
    _, cache = model.run_with_cache(tokens)
    scores = {}
    for layer in range(model.cfg.n_layers):
        pattern = cache[f"blocks.{layer}.attn.hook_pattern"]
        for head in range(model.cfg.n_heads):
            per_sequence = [
                compute_head_attention_similarity_score(
                    pattern[i, head].clone(),
                    get_induction_head_detection_pattern(tokens[i].cpu()),
                    exclude_bos=False,
                    exclude_current_token=False,
                    error_measure="mul",
                )
                for i in range(SEQUENCES)
            ]
            scores[f"L{layer}H{head}"] = sum(per_sequence) / SEQUENCES
    return scores


def test_analyze_heads_finds_the_induction_head_of_a_trained_model(
    store, store_uri, tmp_path
) -> None:
    from circuitbase.analyze.models import save_checkpoint

    model = train_induction_model()
    checkpoint = tmp_path / "induction-2l.pt"
    save_checkpoint(model, checkpoint)
    code, out = cli(
        store_uri,
        "analyze",
        "heads",
        "induction-2l",
        "--checkpoint",
        str(checkpoint),
        "--sequences",
        str(SEQUENCES),
        "--period",
        str(PERIOD),
        "--seed",
        str(SEED),
    )
    assert code == 0, out
    detector = transformer_lens_induction_scores(model)
    expected = max(detector, key=detector.get)
    assert expected.startswith("L1"), "induction needs a previous-token head before it"
    assert top_heads(store, "induction") == [f"induction-2l/{expected[:2]}/{expected[2:]}"]
    stored = {
        r["head"]: r["score"]
        for r in store.read(
            "MATCH (h:AttentionHead)-[r:HAS_ROLE]->(:HeadRole {name: 'induction'}) "
            "RETURN h.name AS head, r.score AS score"
        )
    }
    assert stored[expected] > 0.5, "training should have formed an induction head"
    scale = PERIOD / (2 * PERIOD + 1)
    assert stored.keys() == detector.keys()
    for head, score in detector.items():  # its pattern marks a superset of our targets
        assert stored[head] * scale - 0.01 <= score <= stored[head] * scale + 0.06, head
    analysis = store.read(
        "MATCH (a:Analysis {kind: 'heads'})-[:ABOUT]->(m:Model) "
        "RETURN a.uid AS uid, a.citation AS citation, m.uid AS model"
    )
    assert analysis[0]["model"] == "induction-2l" and "2209.11895" in analysis[0]["citation"]
    assert count(store, "(:AttentionHead)-[:HAS_ROLE]->(:HeadRole)") == 3 * 2 * 4


def test_a_model_hub_out_of_reach_is_said_at_once(store_uri, monkeypatch) -> None:
    """Without a checkpoint the weights come from the Hugging Face hub; where it cannot be
    reached (here: nothing listens at the endpoint) and the model is not cached, one line
    says so in seconds (the hub's client retried for a minute first)."""
    import time

    pytest.importorskip("transformer_lens")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    for proxy in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    started = time.monotonic()
    code, out = cli(store_uri, "analyze", "heads", "pythia-14m")
    assert code == 1 and "cannot be reached" in out and "--checkpoint" in out, out
    assert len(out.strip().splitlines()) == 1
    assert time.monotonic() - started < 30
