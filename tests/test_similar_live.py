"""Similar components out of the box (issue #28): every stored measurement is a way to
find a component's counterparts, answered live, with its evidence, on both backends, and
equal to an independent computation over the published files."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from conftest import empty_store
from helpers import cli, count
from scipy.stats import rankdata

from circuitbase.queries.fine_tuning import fine_tuning, model_sizes
from circuitbase.queries.similar import similar

EXAMPLES = Path(__file__).parents[1] / "circuitbase" / "examples"
HEAD_METRICS = sorted((EXAMPLES / "head-metrics").glob("*.json"))
PROBES = sorted((EXAMPLES / "probes").glob("*.csv"))
NAMES = {"openai-community/gpt2": "gpt2-small"}  # the one whose canonical name is not its id's tail
FINE_TUNED = [
    ("gemma-2-2b-it", "gemma-2-2b"),
    ("gemma-3-1b-it", "gemma-3-1b-pt"),
    ("gemma-3-270m-it", "gemma-3-270m"),
    ("Llama-3.1-8B-Instruct", "Llama-3.1-8B"),
]


ROLE_FRACTIONS = ["induction_score", "prev_token_score", "self_attention_score"]


def published_profiles() -> dict[str, dict]:
    """Straight from the JSON files: each model's measured heads (a layer whose every
    metric is 0 for every head was not measured: left out), their raw metrics and their
    percentile ranks among them (scipy's average ranks), metrics by name; and the heads
    left out."""
    models = {}
    for path in HEAD_METRICS:
        data = json.loads(path.read_text())
        name = NAMES.get(data["config"]["model_name"], data["config"]["model_name"].split("/")[-1])
        metrics = sorted(k for k in data["metrics"] if k != "counts")
        tables = np.stack([np.asarray(data["metrics"][m], float) for m in metrics], axis=-1)
        heads = data["config"]["num_attention_heads"]
        zero = [layer for layer in range(len(tables)) if not tables[layer].any()]
        kept = [i for i in range(tables.shape[0] * heads) if i // heads not in zero]
        raw = tables.reshape(-1, len(metrics))[kept]
        ranks = np.stack(
            [(rankdata(raw[:, j]) - 1) / (len(raw) - 1) for j in range(len(metrics))], axis=1
        )
        uids = [f"{name}/L{i // heads}/H{i % heads}" for i in kept]
        unmeasured = [f"{name}/L{layer}/H{h}" for layer in zero for h in range(heads)]
        models[name] = {
            "uids": uids,
            "raw": raw,
            "ranks": ranks,
            "metrics": metrics,
            "fractions": raw[:, [metrics.index(m) for m in ROLE_FRACTIONS]],
            "unmeasured": unmeasured,
        }
    return models


def role_preservation(published: dict[str, dict], role: str, measure: str) -> tuple[int, int]:
    """How often a head with `role` score 0.3 or more is matched, in every other model, to
    a head scoring 0.1 or more: (kept, asked). The match is the closest head by `measure`
    ('fractions': the role fractions as measured; 'ranks': every metric's rank), ties to
    the smaller uid (as `similar --per-model`)."""
    kept = asked = 0
    for name, mine in published.items():
        column = mine["metrics"].index(role)
        for i in np.flatnonzero(mine["raw"][:, column] >= 0.3):
            for other, theirs in published.items():
                if other == name:
                    continue
                distance = ((theirs[measure] - mine[measure][i]) ** 2).mean(axis=1)
                best = min(zip(distance.tolist(), theirs["uids"]))[1]
                j = theirs["uids"].index(best)
                asked += 1
                kept += bool(theirs["raw"][j, column] >= 0.1)
    return kept, asked


@pytest.fixture(scope="module", params=["falkordb", "neo4j"])
def loaded(request, falkor_dir, _session_stores):
    """One store per backend with every shipped head-metrics file and probe table, loaded
    once for this module's tests (which only read it, but for MLP layers one adds)."""
    store = empty_store(request.param, falkor_dir, _session_stores)
    code, out = cli(store.location, "ingest", "heads", *map(str, HEAD_METRICS))
    assert code == 0, out
    code, out = cli(store.location, "ingest", "probes", *map(str, PROBES))
    assert code == 0, out
    return store


@pytest.fixture
def store(loaded):
    return loaded


@pytest.fixture
def store_uri(loaded):
    return loaded.location


def load(store_uri: str) -> None:
    """Loaded by the `loaded` fixture already."""


def test_head_profiles_equal_a_computation_over_the_published_files(store, store_uri) -> None:
    """For heads of every shipped model, the best match in every other model and its score
    equal numpy over the JSON files; every head with metrics answers, with both heads'
    measurements as evidence."""
    load(store_uri)
    published = published_profiles()
    assert count(store, "()-[m:MEASURED_BY]->() WHERE m.profile_0 IS NOT NULL") == sum(
        len(p["uids"]) for p in published.values()
    )
    for name, mine in published.items():
        picks = {
            0,
            len(mine["uids"]) - 1,
            int(np.argmax(mine["raw"][:, mine["metrics"].index("induction_score")])),
        }
        for i in sorted(picks):
            uid = mine["uids"][i]
            found = {
                m.model: m for m in similar(store, uid, per_model=True, metric="head-identity")
            }
            assert set(found) == set(published) - {name}, uid
            for other, theirs in published.items():
                if other == name:
                    continue
                scores = 1 - np.sqrt(((theirs["ranks"] - mine["ranks"][i]) ** 2).mean(axis=1))
                best = int(np.argmax(scores))
                match = found[other]
                assert match.score == pytest.approx(scores[best], abs=1e-9), (uid, other)
                assert match.uid == theirs["uids"][best] or scores[
                    theirs["uids"].index(match.uid)
                ] == pytest.approx(scores[best], abs=1e-12)
                j = theirs["uids"].index(match.uid)
                evidence = {e["measure"]: e for e in match.evidence}
                assert sorted(evidence) == mine["metrics"]
                for k, metric in enumerate(mine["metrics"]):
                    assert evidence[metric]["this"] == pytest.approx(mine["raw"][i, k], rel=1e-12)
                    assert evidence[metric]["that"] == pytest.approx(theirs["raw"][j, k], rel=1e-12)
                assert any(
                    a.startswith("neuronpedia-headvis/" + other + "/") for a in match.analyses
                )


def test_per_model_rows_come_from_the_smallest_model_and_top_is_best_first(
    store, store_uri
) -> None:
    load(store_uri)
    matches = similar(store, "gpt2-small/L5/H5", per_model=True)
    sizes = model_sizes(store)
    assert [sizes[m.model] for m in matches] == sorted(sizes[m.model] for m in matches)
    assert matches[0].model == "pythia-70m-deduped" and matches[-1].model.startswith("Llama-3.1-8B")
    top = similar(store, "gpt2-small/L5/H5", top=5)
    assert len(top) == 5 and [m.score for m in top] == sorted((m.score for m in top), reverse=True)
    assert top[0].score == max(m.score for m in matches)


def test_fine_tuning_keeps_heads_in_place_far_above_chance(store, store_uri) -> None:
    """For every base/fine-tuned pair shipped, the most similar head of each fine-tuned head
    is the same layer and head at least 10x more often than chance; the same numbers as
    numpy over the files."""
    load(store_uri)
    published = published_profiles()
    for tuned, base in FINE_TUNED:
        [report] = fine_tuning(store, tuned)
        assert report.base == base
        a, b = published[tuned]["ranks"], published[base]["ranks"]
        distance = ((a[:, None, :] - b[None, :, :]) ** 2).mean(axis=2)
        own = distance[np.arange(len(a)), np.arange(len(a))]
        expected = float(np.mean(own <= distance.min(axis=1) + 1e-10))  # ties count as found
        assert report.fraction == pytest.approx(expected)
        assert report.chance == pytest.approx(1 / len(b))
        assert report.fraction >= 10 * report.chance, report.summary()
    code, out = cli(store_uri, "similarity", "fine-tuning", "gemma-2-2b-it", "--format", "json")
    assert code == 0 and json.loads(out)[0]["base"] == "gemma-2-2b"


def published_probes() -> dict[str, dict[str, float]]:
    """Neuron uid -> {concept: its best F1}, straight from the CSV files."""
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for path in PROBES:
        model = path.name.split("_")[0]
        for row in csv.DictReader(open(path, newline="")):
            uid = f"{model}/L{int(row['layer'])}/N{int(row['neuron'])}"
            score = float(row["test_f1_score"])
            found[uid][row["feature"]] = max(score, found[uid].get(row["feature"], -1.0))
    return found


def test_every_probed_neuron_is_answered_with_its_shared_concepts(store, store_uri) -> None:
    """Every probed neuron of pythia-70m gets matches in the other Pythia sizes, scored by
    the weighted Jaccard of its concepts, equal to a computation over the CSV files."""
    load(store_uri)
    probes = published_probes()
    for uid in sorted(u for u in probes if u.startswith("pythia-70m/")):
        mine = probes[uid]
        expected = {}
        for other, theirs in probes.items():
            if other.split("/")[0] == "pythia-70m" or not set(mine) & set(theirs):
                continue
            overlap = sum(min(mine[c], theirs[c]) for c in set(mine) & set(theirs))
            expected[other] = overlap / (sum(mine.values()) + sum(theirs.values()) - overlap)
        found = similar(store, uid, metric="probe-concepts", top=1000)
        assert expected and {m.uid: m.score for m in found} == pytest.approx(expected), uid
        for match in found:
            assert {e["concept"] for e in match.evidence} == set(mine) & set(probes[match.uid])
            assert all(e["this"] == pytest.approx(mine[e["concept"]]) for e in match.evidence)


def test_similar_on_the_command_line_says_why_and_names_mistakes(store, store_uri) -> None:
    load(store_uri)
    code, out = cli(store_uri, "similar", "gpt2-small/L5/H5", "--per-model", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and {r["metric"] for r in rows} == {"head-roles"} and len(rows) == 13
    assert all(r["evidence"] and r["source"] == "live" for r in rows)
    code, out = cli(store_uri, "similar", "gpt2-small/L5/H5", "--in", "gemma-2-2b")
    assert code == 0 and "gemma-2-2b/L" in out and "induction_score" in out
    # no comparable measurement: one line saying what it has and what would compare it
    cli(store_uri, "model", "add", "pythia-160m", "--components", "mlp")  # changes no answer
    code, out = cli(store_uri, "similar", "pythia-160m/L2/MLP")
    assert code == 0 and len(out.strip().splitlines()) == 1 and "no comparable measurements" in out
    for args, says in [
        (["similar", "gpt2-smal/L5/H5"], "gpt2-small"),
        (["similar", "gpt2-small/L5/H5", "--in", "pythia-16m"], "pythia-160m"),
        (["similar", "pythia-70m/L9/N1"], "6 layers"),
        (["similar", "gpt2-small/L5/H99"], "12 per layer"),
        (["similar", "gpt2-small/L5/H5", "--metric", "auc"], "auc"),
    ]:
        code, out = cli(store_uri, *args)
        assert code in (1, 2) and says in out and "Traceback" not in out, (args, out)


def test_the_web_side_by_side_view_shows_both_measurements(store, store_uri) -> None:
    from circuitbase.web.app import create_app

    load(store_uri)
    [best] = similar(store, "gpt2-small/L5/H5", model="gemma-2-2b", per_model=True)
    page = (
        create_app(store, "t")
        .test_client()
        .get(
            f"/t/compare?kind=AttentionHead&key=gpt2-small/L5/H5&other={best.uid}&other_kind=AttentionHead"
        )
    )
    text = page.data.decode()
    assert page.status_code == 200 and 'id="evidence-head-roles"' in text
    for evidence in best.evidence:
        assert f"<th>{evidence['measure']}</th>" in text
    assert f"{best.score:.4g}" in text
    assert math.isfinite(best.score)


README = Path(__file__).parents[1] / "README.md"


def test_head_roles_keeps_each_head_s_role_in_every_other_model(store, store_uri) -> None:
    """Issue #42: an induction head's match in another model is an induction head. Over the
    14 shipped models, with numpy from the JSON files: a head scoring 0.3 or more is
    matched to one scoring 0.1 or more in at least 95% of cases by head-roles, for
    induction and previous-token heads; README reports these rates for both metrics. The
    store's default `similar --per-model` gives numpy's match and score for every
    induction head."""
    load(store_uri)
    published = published_profiles()
    rates = {
        (role, measure): role_preservation(published, role, measure)
        for role in ("induction_score", "prev_token_score")
        for measure in ("fractions", "ranks")
    }
    for role in ("induction_score", "prev_token_score"):
        kept, asked = rates[(role, "fractions")]
        assert asked > 200 and kept / asked >= 0.95, (role, kept, asked)
    readme = README.read_text()
    for (role, measure), (kept, asked) in rates.items():
        cell = f"{kept} of {asked} ({100 * kept / asked:.1f}%)"
        assert cell in readme, (role, measure, cell)  # README's table is the suite's numbers
    column = published["gpt2-small"]["metrics"].index("induction_score")
    for name, mine in published.items():
        for i in np.flatnonzero(mine["raw"][:, column] >= 0.3):
            found = {m.model: m for m in similar(store, mine["uids"][i], per_model=True)}
            assert {m.metric for m in found.values()} == {"head-roles"}
            assert set(found) == set(published) - {name}
            for other, theirs in found.items():
                expected = published[other]
                distance = ((expected["fractions"] - mine["fractions"][i]) ** 2).mean(axis=1)
                best_distance, best = min(zip(distance.tolist(), expected["uids"]))
                assert theirs.uid == best, (mine["uids"][i], other)
                assert theirs.score == pytest.approx(1 - math.sqrt(best_distance), abs=1e-9)
                j = expected["uids"].index(best)
                assert expected["raw"][j, column] >= 0.1  # the role kept, from the file
                assert [e["measure"] for e in theirs.evidence] == ROLE_FRACTIONS


def test_a_layer_the_file_left_as_zeros_is_unmeasured(store, store_uri) -> None:
    """Issue #42: Qwen3.5-0.8B's file leaves layers 6-23 (144 of 192 heads) as zeros:
    stored as the file says and marked unmeasured, never ranked, matched, given a role
    or named by a template; `show` and `similar` say so."""
    load(store_uri)
    published = published_profiles()
    unmeasured = set(published["Qwen3.5-0.8B"]["unmeasured"])
    assert len(unmeasured) == 144 and len(published["Qwen3.5-0.8B"]["uids"]) == 48
    flagged = store.read(
        "MATCH (h:AttentionHead {model: 'Qwen3.5-0.8B'})-[m:MEASURED_BY]->() "
        "WHERE m.unmeasured RETURN h.uid AS uid, m.profile_0 AS rank, m.induction_score AS score"
    )
    assert {r["uid"] for r in flagged} == unmeasured
    assert all(r["rank"] is None and r["score"] == 0 for r in flagged)  # the file's zeros, kept
    roles = store.read(
        "MATCH (h:AttentionHead {model: 'Qwen3.5-0.8B'})-[:HAS_ROLE]->() RETURN DISTINCT h.uid AS uid"
    )
    assert {r["uid"] for r in roles} == set(published["Qwen3.5-0.8B"]["uids"])
    for uid in ("gpt2-small/L5/H5", "Llama-3.1-8B/L0/H0", "Qwen3.5-0.8B/L0/H0"):
        for metric in ("head-roles", "head-identity"):
            matches = similar(store, uid, per_model=True, metric=metric)
            assert matches and not {m.uid for m in matches} & unmeasured, (uid, metric)
    for template, params in [
        ("strongest_heads", ["--param", "role=induction", "--param", "min_score=0"]),
        ("universal_head_roles", ["--param", "min_score=0"]),
    ]:
        code, out = cli(store_uri, "query", "run", template, *params, "--format", "json")
        assert code == 0 and not any(uid in out for uid in unmeasured), template
    code, out = cli(store_uri, "show", "Qwen3.5-0.8B/L10/H0")
    assert code == 0 and "not measured" in out and "all zeros" in out
    code, out = cli(store_uri, "similar", "Qwen3.5-0.8B/L10/H0")
    assert code == 0 and "was not measured" in out
