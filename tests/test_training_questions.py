"""The questions over training (#43) on the shipped OLMo-2 files, loaded once per
backend: `role_emergence`, `heads_over_training`, `component_trajectory`, the trajectory
figure and page, and `similar` across checkpoints, each held to numpy over the JSON.
(Changes to the store are tested in test_training.py, on a fresh store each.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import empty_store
from helpers import cli
from test_hostile_round3 import one_line_error
from test_training import OLMO, SOURCE, ingest_training, published

from circuitbase.queries import run_template


@pytest.fixture(scope="module", params=["falkordb", "neo4j"])
def trained(request, falkor_dir, _session_stores):
    """Every shipped file, next_tok_attn also as the induction role's score; the tests
    here only read it."""
    store = empty_store(request.param, falkor_dir, _session_stores)
    ingest_training(store.location, "--role", "next_tok_attn=induction")
    return store


def test_role_emergence_shows_the_phase_change_of_the_files(trained) -> None:
    """The README's table: no head at or above 0.3 at 1B tokens, more than 30 at 5B, the
    final strongest head L9H2; every number as numpy reads it from the JSON."""
    store = trained
    files = published()
    by_metric = run_template(
        store,
        "role_emergence",
        {"model": OLMO, "metric": "next_tok_attn", "min_score": 0.3, "source": SOURCE},
    )
    by_role = run_template(
        store,
        "role_emergence",
        {"model": OLMO, "role": "induction", "min_score": 0.3, "source": SOURCE},
    )
    assert by_metric == by_role
    assert [row["checkpoint"] for row in by_metric] == list(files)
    first = None
    for row, (name, tables) in zip(by_metric, files.items(), strict=True):
        scores = tables["next_tok_attn"]
        reaching = int((scores >= 0.3).sum())
        layer, head = np.unravel_index(np.argmax(scores), scores.shape)
        assert row["heads_with_role"] == reaching
        assert row["strongest_head"] == f"L{layer}H{head}"
        assert row["strongest_score"] == pytest.approx(scores.max())
        if first is None and reaching:
            first = name
        assert row["first_with_role"] == (name == first)
    assert by_metric[0]["heads_with_role"] == 0 and by_metric[0]["step"] == 150
    assert by_metric[1]["checkpoint"].endswith("@stage1-step1000-tokens5B")
    assert by_metric[1]["heads_with_role"] > 30 and by_metric[1]["first_with_role"]
    assert by_metric[-1]["strongest_head"] == "L9H2" and by_metric[-1]["step"] is None
    # without a source both files count: a head's best of the two
    both = run_template(store, "role_emergence", {"model": OLMO, "metric": "next_tok_attn"})
    random_tokens = published("n2048_seqlen30_randomtokents.json")
    for row, name in zip(both, files, strict=True):
        best = np.maximum(files[name]["next_tok_attn"], random_tokens[name]["next_tok_attn"])
        assert row["heads_with_role"] == int((best >= 0.3).sum())


def test_heads_over_training_and_a_heads_trajectory_are_the_files(trained) -> None:
    store = trained
    files = published()
    names = list(files)
    stacked = np.stack([tables["next_tok_attn"] for tables in files.values()])  # [ckpt, l, h]
    rows = run_template(
        store,
        "heads_over_training",
        {"model": OLMO, "metric": "next_tok_attn", "min_score": 0.3, "source": SOURCE},
    )
    reached = stacked >= 0.3
    expected = {}
    for layer, head in zip(*np.nonzero(reached[-1]), strict=True):
        track = reached[:, layer, head]
        first = int(np.argmax(track))
        expected[f"L{layer}H{head}"] = (names[first], bool(track[first:].all()))
    assert {r["head"]: (r["first_checkpoint"], r["kept"]) for r in rows} == expected
    assert rows[0]["head"] == "L9H2" and rows[0]["first_checkpoint"].endswith("tokens5B")
    assert any(not r["kept"] for r in rows)  # a head that lost its role and found it again
    trajectory = run_template(
        store, "component_trajectory", {"uid": f"{OLMO}/L9/H2", "source": SOURCE}
    )
    for metric in ("next_tok_attn", "end_tok_attn"):
        mine = [r for r in trajectory if r["measure"] == metric]
        assert [r["checkpoint"] for r in mine] == names
        expected = [t[metric][9, 2] for t in files.values()]
        assert [r["score"] for r in mine] == pytest.approx(expected, rel=1e-12)
    # the same from a checkpoint's own head
    early = run_template(store, "component_trajectory", {"uid": f"{names[1]}/L9/H2"})
    assert {r["checkpoint"] for r in early} == set(names)


def test_the_trajectory_figure_names_the_heads_that_end_with_the_role(trained, tmp_path) -> None:
    store_uri = trained.location
    final = published()[OLMO]["next_tok_attn"]
    strongest = np.argsort(-final, axis=None)[:3]
    for fmt in ("svg", "png", "pdf"):
        out_path = tmp_path / f"olmo.{fmt}"
        args = ["export", "--trajectory", OLMO, "--metric", "next_tok_attn", "--source", SOURCE]
        code, out = cli(store_uri, *args, "--format", fmt, "--out", str(out_path), "--dpi", "72")
        assert code == 0 and out_path.stat().st_size > 10_000, out
    svg = (tmp_path / "olmo.svg").read_text()
    for index in strongest:
        layer, head = divmod(int(index), 32)
        assert f"L{layer}H{head} ({final[layer, head]:.2f})" in svg
    assert f"heads &gt;= 0.3 at the end ({int((final >= 0.3).sum())})" in svg
    for label in ("1B", "5B", "3.896T", "final"):
        assert f">{label}<" in svg or f"{label}</text>" in svg
    code, out = cli(
        store_uri,
        "export",
        "--trajectory",
        "pythia-70m",
        "--metric",
        "x",
        "--format",
        "png",
        "--out",
        str(tmp_path / "x.png"),
    )
    one_line_error(code, out)


def test_similar_across_training_finds_the_same_head(trained) -> None:
    store_uri = trained.location
    early = f"{OLMO}@stage1-step1000-tokens5B"
    code, out = cli(
        store_uri,
        "similar",
        f"{early}/L9/H2",
        "--in",
        OLMO,
        "--metric",
        "head-identity",
        "--format",
        "json",
    )
    assert code == 0, out
    matches = json.loads(out)
    assert matches[0]["match"] == f"{OLMO}/L9/H2"
    code, out = cli(store_uri, "similar", f"{OLMO}/L9/H2", "--in", early, "--format", "json")
    assert code == 0 and json.loads(out), out  # head-roles, by the attention fractions
    code, out = cli(
        store_uri, "similarity", "fine-tuning", early, "--base", OLMO, "--format", "json"
    )
    assert code == 0, out


def test_a_models_page_shows_its_heads_over_training(trained) -> None:
    from circuitbase.web.app import create_app

    store = trained
    client = create_app(store, "t" * 43).test_client()
    for key in (f"{OLMO}@stage1-step150-tokens1B",):  # a checkpoint's page: its run's
        response = client.get(f"/{'t' * 43}/node?kind=Model&key={key}")
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and "Its heads over training" in text
        assert "L9H2 (" in text and "export --trajectory OLMo-2-1124-7B" in text
        assert text.count("<svg") >= 3  # the neighbourhood, and one figure per metric
