"""Training as an axis (#43): checkpoints are models (`MODEL@REV`, CHECKPOINT_OF), every
ingest takes `--revision`, and the templates over training give what the published
files say, computed here with numpy from the JSON (not the store), on both backends.

The data: the dual-route induction scores of OLMo-2-1124-7B (Feucht et al. 2025) at seven
checkpoints of its first stage and at the end, shipped in circuitbase/examples/training.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import cli, count, graph_fingerprint
from test_hostile_round3 import _rel_line, one_line_error

from circuitbase.cli.demo import examples_dir
from circuitbase.schema.aliases import canonical_model
from circuitbase.schema.checkpoints import position_from_name
from circuitbase.schema.graph import NodeLabel
from circuitbase.schema.lineage import lineage
from circuitbase.schema.uids import parse_component

OLMO = "OLMo-2-1124-7B"
TRAINING = examples_dir() / "training" / "attention_scores" / OLMO
REAL_TEXT = "n2048_seqlen30.json"
SOURCE = "head-scores/n2048_seqlen30/"
HEADVIS_GPT2 = (
    examples_dir() / "head-metrics" / "openai-community-gpt2-monology-pile-uncopyrighted.json"
)
SAELENS = Path(__file__).parent / "data" / "sae-lens" / "pretrained_saes.yaml"


def published(file: str = REAL_TEXT) -> dict[str, dict[str, np.ndarray]]:
    """{model or checkpoint: {metric: [layer, head] array}}, in training order (the
    step read from the folder's name here, the final model last), from the JSON files."""
    found = {}
    for path in TRAINING.rglob(file):
        name = OLMO if path.parent == TRAINING else f"{OLMO}@{path.parent.name}"
        tables = {}
        for metric, rows in json.loads(path.read_text()).items():
            table = np.full((32, 32), np.nan)
            for row in rows:
                table[row["layer"], row["head_idx"]] = row["score"]
            assert not np.isnan(table).any()
            tables[metric] = table
        found[name] = tables

    def order(name: str) -> tuple[int, int]:
        step = re.search(r"step(\d+)", name)
        return (1, 0) if step is None else (0, int(step[1]))

    return {name: found[name] for name in sorted(found, key=order)}


def ingest_training(store_uri: str, *more: str, real_text_only: bool = False) -> None:
    """The shipped folder in one command (or its real-text files only, for speed)."""
    paths = sorted(TRAINING.rglob(REAL_TEXT)) if real_text_only else [TRAINING]
    code, out = cli(store_uri, "ingest", "heads", *map(str, paths), *more)
    assert code == 0, out


# -- names -----------------------------------------------------------------------------


def test_a_checkpoint_is_named_model_at_revision_everywhere() -> None:
    assert canonical_model("EleutherAI/pythia-6.9b@step1000") == "pythia-6.9b@step1000"
    assert canonical_model("gpt2@step5") == "gpt2-small@step5"
    uid = parse_component("pythia-70m@step1000/L5/H1")
    assert (uid.model, str(uid)) == ("pythia-70m@step1000", "pythia-70m@step1000/L5/H1")
    assert parse_component("pythia-70m@step1000/L3H2").model == "pythia-70m@step1000"
    pythia = position_from_name("pythia-6.9b", "step1000")
    assert pythia is not None and (pythia.step, pythia.tokens) == (1000, 1000 * 2_097_152)
    olmo = position_from_name(OLMO, "stage1-step1000-tokens5B")
    assert olmo is not None and (olmo.stage, olmo.step, olmo.tokens) == (1, 1000, 5 * 10**9)
    assert position_from_name(OLMO, "stage2-ingredient1-soup") is None
    # a checkpoint is never a fine-tuned model, nor the base of one
    names = {"gemma-2-2b", "gemma-2-2b-it", "gemma-2-2b-it@step5", "gemma-2-2b@step5"}
    assert lineage(names) == [("gemma-2-2b-it", "gemma-2-2b")]


def test_model_add_with_a_revision_adds_the_checkpoint_never_a_label(store, store_uri) -> None:
    code, out = cli(store_uri, "model", "add", "pythia-70m", "--revision", "step1000")
    assert code == 0, out
    final, checkpoint = (store.models([name])[0] for name in ("pythia-70m", "pythia-70m@step1000"))
    assert final.get("revision") is None and final.get("step") is None
    assert (checkpoint["revision"], checkpoint["step"], checkpoint["tokens"]) == (
        "step1000",
        1000,
        1000 * 2_097_152,
    )
    assert checkpoint["n_layers"] == final["n_layers"] and checkpoint["d_mlp"] == final["d_mlp"]
    edge = store.read(
        "MATCH (:Model {uid: 'pythia-70m@step1000'})-[r:CHECKPOINT_OF]->(m:Model) "
        "RETURN m.uid AS final, r.step AS step, r.tokens AS tokens"
    )
    assert edge == [{"final": "pythia-70m", "step": 1000, "tokens": 1000 * 2_097_152}]
    before = graph_fingerprint(store)
    for args, says in (
        (["pythia-70m@main"], "does not say its training step"),  # OLMo soups, branches
        (["pythia-70m@step5", "--step", "6"], "says step 5, not 6"),
        (["pythia-70m@step5", "--revision", "step6"], "names revision 'step5'"),
        (["pythia-70m@bad/rev"], "not valid"),
    ):
        code, out = cli(store_uri, "model", "add", *args)
        one_line_error(code, out)
        assert says in out, out
    assert graph_fingerprint(store) == before
    code, out = cli(store_uri, "model", "add", "pythia-70m@main", "--step", "5", "--tokens", "7")
    assert code == 0, out
    assert store.models(["pythia-70m@main"])[0]["step"] == 5
    assert cli(store_uri, "similarity", "fine-tuning", "pythia-70m@main")[0] == 1  # no lineage


# -- ingest per checkpoint ------------------------------------------------------------------


def test_the_shipped_folder_goes_in_with_one_command(store, store_uri) -> None:
    ingest_training(store_uri)
    files = published()
    checkpoints = store.checkpoints_of(OLMO)
    assert [row["uid"] for row in checkpoints] == [n for n in files if n != OLMO]
    for row in checkpoints:
        revision = row["uid"].partition("@")[2]
        step, tokens = re.fullmatch(r"stage1-step(\d+)-tokens(\d+)B", revision).groups()
        assert (row["step"], row["tokens"]) == (int(step), int(tokens) * 10**9)
    # one analysis per file and checkpoint, each head measured as the file says
    assert count(store, "(a:Analysis) WHERE a.uid STARTS WITH 'head-scores/'") == 16
    for name, tables in files.items():
        for (layer, head), value in np.ndenumerate(tables["next_tok_attn"]):
            if (layer, head) in ((9, 2), (0, 0), (31, 31)):
                found = store.read(
                    "MATCH (:AttentionHead {uid: $uid})-[m:MEASURED_BY]->(a:Analysis) "
                    "WHERE a.uid STARTS WITH $source RETURN m.next_tok_attn AS v",
                    {"uid": f"{name}/L{layer}/H{head}", "source": SOURCE},
                )
                assert found == [{"v": pytest.approx(value, rel=1e-12)}]  # FalkorDB: 15 digits
    # no role unless asked for; the same command again changes nothing
    assert count(store, "()-[:HAS_ROLE]->()") == 0
    before = graph_fingerprint(store)
    ingest_training(store_uri)
    assert graph_fingerprint(store) == before


# -- a checkpoint is a model like any -------------------------------------------------------


def test_a_checkpoint_is_shown_searched_exported_and_removed_alone(
    store, store_uri, tmp_path
) -> None:
    ingest_training(store_uri, real_text_only=True)
    early = f"{OLMO}@stage1-step1000-tokens5B"
    code, out = cli(store_uri, "show", early)
    assert code == 0 and "CHECKPOINT_OF" in out and "stage1-step1000-tokens5B" in out, out
    code, out = cli(store_uri, "show", f"{early}/L9/H2")
    assert code == 0 and "next_tok_attn" in out, out
    code, out = cli(store_uri, "search", "step1000", "--format", "json")
    assert code == 0 and early in out, out
    exported = tmp_path / "early.cypher"
    args = ["export", "--around", early, "--format", "cypher", "--out", str(exported)]
    assert cli(store_uri, *args)[0] == 0
    assert "CHECKPOINT_OF" in exported.read_text()
    before = graph_fingerprint(store)
    # one more checkpoint, from a file named for it, then removed: the rest as it was
    extra = f"{OLMO}@stage1-step2000-tokens9B"
    code, out = cli(store_uri, "ingest", "heads", str(TRAINING / REAL_TEXT), "--model", extra)
    assert code == 0, out
    assert store.checkpoints_of(OLMO)[2]["uid"] == extra  # in training order
    assert cli(store_uri, "model", "remove", extra, "--yes")[0] == 0
    assert graph_fingerprint(store) == before


def test_revision_on_an_ingest_reads_a_checkpoints_files(store, store_uri) -> None:
    code, out = cli(store_uri, "ingest", "heads", str(HEADVIS_GPT2), "--revision", "step100")
    assert code == 0, out
    assert store.models(["gpt2-small@step100"])[0]["step"] == 100
    assert store.checkpoints_of("gpt2-small")[0]["uid"] == "gpt2-small@step100"
    assert count(store, "(:AttentionHead {model: 'gpt2-small@step100'})") == 144
    assert count(store, "(:AttentionHead {model: 'gpt2-small'})") == 0
    analyses = store.read(
        "MATCH (a:Analysis)-[:ABOUT]->(m:Model) RETURN a.uid AS uid, collect(m.uid) AS models"
    )
    assert [a["models"] for a in analyses] == [["gpt2-small@step100"]]
    assert "@step100" in analyses[0]["uid"]
    before = graph_fingerprint(store)
    # a file about several models has no one checkpoint
    code, out = cli(store_uri, "ingest", "saes", str(SAELENS), "--revision", "step100")
    one_line_error(code, out)
    assert "--revision step100 names a checkpoint of one model" in out and str(SAELENS) in out
    # a folder of one revision is not another's
    folder = TRAINING / "stage1-step150-tokens1B" / REAL_TEXT
    code, out = cli(store_uri, "ingest", "heads", str(folder), "--revision", "step7")
    one_line_error(code, out)
    assert "stage1-step150-tokens1B" in out
    assert graph_fingerprint(store) == before


def test_an_import_cannot_forge_a_checkpoint(store, store_uri, tmp_path) -> None:
    assert cli(store_uri, "model", "add", "pythia-70m@step1000")[0] == 0
    assert cli(store_uri, "model", "add", "pythia-160m")[0] == 0
    before = graph_fingerprint(store)
    forged = tmp_path / "forged.cypher"
    forged.write_text(
        _rel_line(
            "CHECKPOINT_OF",
            (NodeLabel.MODEL, "pythia-70m@step1000"),
            (NodeLabel.MODEL, "pythia-160m"),
            {"step": 1000},
        )
        + "\n"
    )
    code, out = cli(store_uri, "import", "cypher", str(forged))
    one_line_error(code, out)
    assert "not what their names imply" in out, out
    assert graph_fingerprint(store) == before
    # a checkpoint's own export goes into a new store whole
    exported = tmp_path / "own.cypher"
    args = ["export", "--around", "pythia-70m@step1000", "--format", "cypher"]
    assert cli(store_uri, *args, "--out", str(exported))[0] == 0
    other = str(tmp_path / "other-kb")
    code, out = cli(other, "import", "cypher", str(exported))
    assert code == 0, out
    code, out = cli(other, "show", "pythia-70m@step1000")
    assert code == 0 and "CHECKPOINT_OF" in out and "2097152000" in out, out
    cli(other, "server", "stop")


# -- pictures and similarity over training ----------------------------------------------------


def test_analyze_heads_at_two_checkpoints_of_a_tiny_model(store, store_uri, tmp_path) -> None:
    """A TransformerLens model saved at two points of its (made-up) training: each goes
    in as its checkpoint, with its revision and step, linked to one final model."""
    torch = pytest.importorskip("torch", reason="needs the [analysis] extra")
    pytest.importorskip("transformer_lens", reason="needs the [analysis] extra")
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    from circuitbase.analyze.models import save_checkpoint

    saved = {}
    for step in (10, 20):
        torch.manual_seed(step)
        cfg = HookedTransformerConfig(
            n_layers=2,
            d_model=16,
            n_ctx=24,
            d_head=4,
            n_heads=4,
            d_mlp=32,
            d_vocab=30,
            act_fn="relu",
            normalization_type="LN",
            seed=step,
        )
        saved[step] = tmp_path / f"toy-step{step}.pt"
        save_checkpoint(HookedTransformer(cfg), saved[step])
    args = ["analyze", "heads", "toy-2l", "--revision", "step10", "--checkpoint", str(saved[10])]
    code, out = cli(store_uri, *args, "--sequences", "2", "--device", "cpu")
    assert code == 0, out
    code, out = cli(
        store_uri,
        "analyze",
        "heads",
        "toy-2l@step20",
        "--checkpoint",
        str(saved[20]),
        "--sequences",
        "2",
        "--device",
        "cpu",
    )
    assert code == 0, out
    rows = store.checkpoints_of("toy-2l")
    assert [(r["uid"], r["step"], r["tokens"]) for r in rows] == [
        ("toy-2l@step10", 10, None),
        ("toy-2l@step20", 20, None),
    ]
    for step in (10, 20):
        stored = store.models([f"toy-2l@step{step}"])[0]
        assert (stored["revision"], stored["step"], stored["n_layers"]) == (f"step{step}", step, 2)
        assert count(store, "(:AttentionHead {model: $m})-[:HAS_ROLE]->()", m=f"toy-2l@step{step}")
    assert store.models(["toy-2l"])[0].get("revision") is None
    assert count(store, "(:AttentionHead {model: 'toy-2l'})") == 0
    code, out = cli(store_uri, "analyze", "heads", "toy-2l@step10", "--revision", "step20")
    one_line_error(code, out)
