"""Dictionary features compared by their own evidence (issue #42): the tokens their logits
promote (`logit-profile`) and suppress (`suppressed-logits`) and the tokens their
activation examples peak on (`activation-tokens`), each the weighted Jaccard of two
features' token weights. On both backends, every answer equals a computation over the
source files (the shipped dashboards and tour export, and a generated Neuronpedia export
of 1,000 features), never over the store."""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from conftest import DATA
from feature_export import feature_rows, write_feature_export, write_rows
from helpers import cli
from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

from circuitbase.queries.match import DENSE, FEATURE_METRICS
from circuitbase.queries.similar import between, similar

TOKEN_METRICS = [
    m for m in FEATURE_METRICS if m not in ("explanation", "explanation-embedding", "decoder")
]

TOUR = Path(__file__).parents[1] / "circuitbase" / "examples" / "tour" / "neuronpedia-export"
DASHBOARDS = [DATA / "saedashboard" / "batch-0.json", DATA / "saedashboard" / "batch-1.json"]


# GPT-2's byte alphabet from its tokenizer (not circuitbase's copy): a token some
# dashboards write byte by byte (`Ã¡s`, `ĠThe`) is compared as the text it stands for
_BYTE = {char: byte for byte, char in bytes_to_unicode().items()}


def decoded(token: str) -> str:
    try:
        return bytes(ord(c) if ord(c) < 128 else _BYTE[c] for c in token).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return token


def _by_text(pairs) -> dict[str, float]:
    """token -> weight with tokens as text, the larger where two write one text."""
    found: dict[str, float] = {}
    for token, weight in pairs:
        found[decoded(token)] = max(found.get(decoded(token), 0.0), weight)
    return found


def _largest(into: dict[str, float], weights: dict[str, float]) -> None:
    for token, weight in weights.items():
        if weight > 0 and weight > into.get(token, 0.0):
            into[token] = weight


def _feature(into: dict, uid: str, metric: str) -> dict[str, float]:
    return into.setdefault(metric, {}).setdefault(uid, {})


def expected_weights(
    dashboards: list[Path], exports: list[dict[str, list[dict]]]
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, float]]:
    """metric -> uid -> token -> weight, and uid -> frac_nonzero, straight from the rows:
    a promoted token's logit, a suppressed one's negated, the sum of the maxima of the
    examples peaking on a token (per source; the largest where sources repeat a token)."""
    weights: dict = {}
    firing: dict[str, float] = {}

    def logits(uid: str, row: dict) -> None:
        _largest(
            _feature(weights, uid, "logit-profile"),
            _by_text(zip(row["pos_str"], row["pos_values"])),
        )
        _largest(
            _feature(weights, uid, "suppressed-logits"),
            _by_text((t, -v) for t, v in zip(row["neg_str"], row["neg_values"])),
        )
        if row.get("frac_nonzero") is not None:
            firing[uid] = max(firing.get(uid, 0.0), row["frac_nonzero"])

    def peaks(uid: str, examples: list[tuple[list[str], list[float], int]]) -> None:
        summed: dict[str, float] = {}
        for tokens, values, peak in examples:
            text = decoded(tokens[peak])
            summed[text] = summed.get(text, 0.0) + values[peak]
        _largest(_feature(weights, uid, "activation-tokens"), summed)

    for path in dashboards:
        batch = json.loads(path.read_text())
        for feature in batch["features"]:
            uid = f"{batch['model_id']}/L{batch['layer']}/{batch['sae_set']}/F{feature['feature_index']}"
            logits(uid, feature)
            peaks(
                uid,
                [
                    (a["tokens"], a["values"], a["values"].index(max(a["values"])))
                    for a in feature["activations"]
                ],
            )
    for rows in exports:
        for feature in rows["features"]:
            layer, dictionary = feature["layer"].split("-", 1)
            logits(f"{feature['modelId']}/L{layer}/{dictionary}/F{feature['index']}", feature)
        by_feature: dict[str, list] = {}
        for a in rows["activations"]:
            layer, dictionary = a["layer"].split("-", 1)
            uid = f"{a['modelId']}/L{layer}/{dictionary}/F{a['index']}"
            by_feature.setdefault(uid, []).append(
                (a["tokens"], a["values"], a["maxValueTokenIndex"])
            )
        for uid, examples in by_feature.items():
            peaks(uid, examples)
    return weights, firing


def jaccard(a: dict[str, float], b: dict[str, float]) -> float:
    overlap = sum(min(a[t], b[t]) for t in set(a) & set(b))
    return overlap / (sum(a.values()) + sum(b.values()) - overlap)


def explanation_vectors(exports: list[dict[str, list[dict]]]) -> dict[str, dict[str, float]]:
    """Each feature's TF-IDF word weights over every feature's explanations, from the rows:
    words are runs of lowercase letters and digits; idf is ln(features / features using
    the word)."""
    documents: dict[str, Counter] = defaultdict(Counter)
    for rows in exports:
        for row in rows.get("explanations", []):
            layer, dictionary = row["layer"].split("-", 1)
            uid = f"{row['modelId']}/L{layer}/{dictionary}/F{row['index']}"
            documents[uid].update(re.findall("[a-z0-9]+", row["description"].lower()))
    df = Counter(word for counts in documents.values() for word in counts)
    n = len(documents)
    return {
        uid: {w: c * math.log(n / df[w]) for w, c in counts.items() if df[w] < n}
        for uid, counts in documents.items()
    }


def expected_explanation_matches(vectors, firing, uid: str, dead_and_dense: bool) -> dict:
    mine, found = vectors.get(uid, {}), {}
    for other, theirs in vectors.items():
        rate = firing.get(other)
        if other == uid or not set(mine) & set(theirs):
            continue
        if not dead_and_dense and rate is not None and (rate <= 0 or rate > DENSE):
            continue
        dot = sum(mine[w] * theirs[w] for w in mine if w in theirs)
        found[other] = dot / math.hypot(*mine.values()) / math.hypot(*theirs.values())
    return {u: score for u, score in found.items() if score > 0}


def expected_matches(
    weights, firing, uid: str, metric: str, dead_and_dense: bool
) -> dict[str, float]:
    mine = weights[metric].get(uid, {})
    found = {}
    for other, theirs in weights[metric].items():
        if other == uid or not mine or not set(mine) & set(theirs):
            continue
        rate = firing.get(other)
        if not dead_and_dense and rate is not None and (rate <= 0 or rate > DENSE):
            continue
        found[other] = jaccard(mine, theirs)
    return found


def read_export(folder: Path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for kind in ("features", "activations", "explanations"):
        for batch in sorted(folder.rglob(f"{kind}/*.jsonl.gz")):
            rows.setdefault(kind, []).extend(json.loads(line) for line in gzip.open(batch, "rt"))
    return rows


def test_every_pair_of_shipped_features_scores_as_the_files_say(store) -> None:
    for args in (["ingest", "features", *map(str, DASHBOARDS)], ["ingest", "features", str(TOUR)]):
        code, out = cli(store.location, *args)
        assert code == 0, out
    weights, firing = expected_weights(DASHBOARDS, [read_export(TOUR)])
    uids = sorted(set().union(*(set(w) for w in weights.values())))
    assert len(uids) == 4
    answered = 0
    for uid in uids:
        for metric in TOKEN_METRICS:
            found = similar(store, uid, metric=metric, top=1000, dead_and_dense=True)
            expected = expected_matches(weights, firing, uid, metric, True)
            assert {m.uid: m.score for m in found} == pytest.approx(expected), (uid, metric)
            answered += bool(found)
            for match in found:  # the evidence: every shared token with both weights
                shared = set(weights[metric][uid]) & set(weights[metric][match.uid])
                assert {e["token"] for e in match.evidence} == shared
                for e in match.evidence:
                    assert e["this"] == pytest.approx(weights[metric][uid][e["token"]])
                    assert e["that"] == pytest.approx(weights[metric][match.uid][e["token"]])
    assert answered  # the shipped features share a peak token (' ariat')
    # a feature nothing shares a token with: one line saying what it has, exit 0
    vectors = explanation_vectors([read_export(TOUR)])
    for uid in uids:
        found = similar(store, uid, metric="explanation", top=1000, dead_and_dense=True)
        expected = expected_explanation_matches(vectors, firing, uid, True)
        assert {m.uid: m.score for m in found} == pytest.approx(expected), uid
    lonely = next(
        u
        for u in uids
        if not any(expected_matches(weights, firing, u, m, True) for m in TOKEN_METRICS)
        and not expected_explanation_matches(vectors, firing, u, True)
    )
    code, out = cli(store.location, "similar", lonely)
    assert code == 0 and "no other feature" in out and len(out.strip().splitlines()) == 1, out


def test_a_thousand_generated_features_score_as_their_rows_say(
    store, tmp_path, monkeypatch
) -> None:
    """Dead and dense features (by frac_nonzero) are left out unless asked for.

    Candidates are read a few at a time, the most promising first (by a bound the store
    computes from the token and word edges), until no unread one could score better:
    with one candidate read at first, the best five are still those of every pair."""
    folder = write_feature_export(tmp_path / "export", 1000, seed=7)
    code, out = cli(store.location, "ingest", "features", str(folder))
    assert code == 0, out
    rows = feature_rows(1000, seed=7)
    assert rows == read_export(folder)  # the files hold what the generator made
    weights, firing = expected_weights([], [rows])
    vectors = explanation_vectors([rows])
    dead_or_dense = {u for u, rate in firing.items() if rate <= 0 or rate > DENSE}
    assert 10 < len(dead_or_dense) < 100
    for index in range(0, 1000, 125):
        uid = f"gpt2-small/L0/res-jb/F{index}"
        assert similar(store, uid, metric="decoder") == []  # no decoder direction stored
        for metric in (*TOKEN_METRICS, "explanation"):
            for dead_and_dense in (False, True):
                found = similar(store, uid, metric=metric, top=1000, dead_and_dense=dead_and_dense)
                expected = (
                    expected_explanation_matches(vectors, firing, uid, dead_and_dense)
                    if metric == "explanation"
                    else expected_matches(weights, firing, uid, metric, dead_and_dense)
                )
                assert {m.uid: m.score for m in found} == pytest.approx(expected), (uid, metric)
                if not dead_and_dense:
                    assert not {m.uid for m in found} & dead_or_dense
    best = similar(store, "gpt2-small/L0/res-jb/F37", top=3)
    assert [m.score for m in best] == sorted((m.score for m in best), reverse=True)
    # explanations: a feature's commonest words are not walked where a first estimate
    # shows no feature sharing only those could be among the best; the best are the same
    walks = {}  # each feature's last walk: the one its answer comes from
    sharing_words = store.features_sharing_words

    def walked(uid, mine, walk, *args, **kwargs):
        walks[uid] = (len(walk), len(mine))
        return sharing_words(uid, mine, walk, *args, **kwargs)

    monkeypatch.setattr(store, "features_sharing_words", walked)
    for index in range(5, 1000, 99):
        uid = f"gpt2-small/L0/res-jb/F{index}"
        expected = sorted(expected_explanation_matches(vectors, firing, uid, False).values())
        found = similar(store, uid, metric="explanation", top=5)
        assert [m.score for m in found] == pytest.approx(expected[::-1][:5]), uid
    assert any(n < of for n, of in walks.values()), walks
    from circuitbase.queries import feature_matches

    monkeypatch.setattr(feature_matches, "FIRST_CANDIDATES", 1)
    reads = []
    read = store.feature_logits
    monkeypatch.setattr(store, "feature_logits", lambda uids: reads.append(len(uids)) or read(uids))
    for index in range(3, 1000, 142):
        uid = f"gpt2-small/L0/res-jb/F{index}"
        for metric in (*TOKEN_METRICS, "explanation"):
            expected = sorted(
                expected_explanation_matches(vectors, firing, uid, False).values()
                if metric == "explanation"
                else expected_matches(weights, firing, uid, metric, False).values()
            )
            found = similar(store, uid, metric=metric, top=5)
            assert [m.score for m in found] == pytest.approx(expected[::-1][:5]), (uid, metric)
            best = similar(store, uid, metric=metric, per_model=True)
            assert [m.score for m in best] == pytest.approx(expected[-1:]), (uid, metric)
    # read a batch at a time, not every feature that shares a token
    sharing: dict[str, set[str]] = defaultdict(set)
    for row in rows["features"]:
        for token in row["pos_str"]:
            sharing[token].add(row["index"])
    busiest = max(
        rows["features"], key=lambda row: len(set().union(*(sharing[t] for t in row["pos_str"])))
    )
    shares = len(set().union(*(sharing[t] for t in busiest["pos_str"]))) - 1
    monkeypatch.setattr(feature_matches, "FIRST_CANDIDATES", 16)
    reads.clear()
    uid = f"gpt2-small/L0/res-jb/F{busiest['index']}"
    assert len(similar(store, uid, metric="logit-profile", top=5)) == 5
    assert shares > 100 and max(reads) <= 16, (shares, reads)


def test_a_token_is_shown_as_text_and_part_of_a_character_as_its_bytes() -> None:
    """The dashboards write some tokens in GPT-2's byte alphabet: `Ã¡s` is `ás`, `ĠThe`
    is ` The`, and `âĢ` (the first two bytes of a dash) has no text of its own: shown as
    its bytes, never as mojibake; text stays text (` café`, `–`)."""
    from circuitbase.schema.text import visible_token

    cases = {
        "Ã¡s": "ás",
        "ĠThe": " The",
        "âĢ¦": "…",
        "âĢ": "<0xE2><0x80>",
        " âĢ": " <0xE2><0x80>",
        " café": " café",
        "–": "–",
        "\n": "\\n",
    }
    for token, shown in cases.items():
        assert visible_token(token) == shown, token
    tokens = set()
    for path in DASHBOARDS:
        for feature in json.loads(path.read_text())["features"]:
            tokens |= set(feature["pos_str"]) | set(feature["neg_str"])
    byte_only = {c for c in _BYTE if ord(c) >= 256}  # the alphabet's stand-ins (`Ġ`, `Ģ`)
    shown = {token: visible_token(token) for token in tokens}
    assert any(t != s for t, s in shown.items())  # the shipped dashboards hold such tokens
    for token, text in shown.items():
        assert not set(text) & byte_only, (token, text)  # never mojibake
        assert text == decoded(token) or "<0x" in text, (token, text)


def test_the_side_by_side_page_of_two_features_shows_each_metric_s_evidence(store) -> None:
    """The web explorer's side-by-side view of a feature and its best match: each feature
    metric's score and every shared token or word, as `similar` gives them."""
    from urllib.parse import urlencode

    from markupsafe import escape

    from circuitbase.schema.text import visible_token
    from circuitbase.web.app import create_app

    code, out = cli(store.location, "ingest", "features", *map(str, DASHBOARDS))
    assert code == 0, out
    [best] = similar(store, "gpt2-small/L0/res-jb/F0", top=1, dead_and_dense=True)
    query = {"kind": "Feature", "key": "gpt2-small/L0/res-jb/F0", "other": best.uid}
    page = create_app(store, "t").test_client().get("/t/compare?" + urlencode(query))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f'id="evidence-{best.metric}"' in text
    assert f"{best.score:.4g}" in text
    for e in best.evidence:
        assert f"<th>{escape(visible_token(e['token']))}</th>" in text
    # the page scores the pair alone, as `similar` scores it among every feature
    everyone = similar(store, "gpt2-small/L0/res-jb/F0", top=1000, dead_and_dense=True)
    expected = {(m.metric, round(m.score, 9)) for m in everyone if m.uid == best.uid}
    pair = between(store, "gpt2-small/L0/res-jb/F0", best.uid)
    assert {(m.metric, round(m.score, 9)) for m in pair} == expected


def _with_decoder_neighbours(rows: dict, k: int, seed: int) -> dict[str, list[float]]:
    """Give each generated feature Neuronpedia's nearest decoder directions: random unit
    directions of 16 numbers, each odd feature a slightly turned copy of the even one
    before it (a planted pair), and the top `k` cosines (itself among them, as the
    export lists it), rounded as the export writes them. Returns the directions."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(rows["features"])
    directions = rng.normal(size=(n, 16))
    directions[1::2] = directions[0::2][: n // 2] + 0.1 * rng.normal(size=(n // 2, 16))
    unit = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    cosines = unit @ unit.T
    for i, row in enumerate(rows["features"]):
        nearest = np.argsort(-cosines[i], kind="stable")[:k]
        row["topkCosSimIndices"] = [int(j) for j in nearest]
        row["topkCosSimValues"] = [round(float(cosines[i, j]), 6) for j in nearest]
    return {str(i): unit[i].tolist() for i in range(n)}


def test_neuronpedia_s_nearest_decoder_directions_are_matches(store, tmp_path) -> None:
    """An export's `topkCosSimIndices`/`topkCosSimValues` answer `similar --metric decoder`
    as the file lists them: each listed feature but itself, a pair listed from both ends
    once at the larger cosine; the planted near-copy of a feature is its best match."""
    rows = feature_rows(40, seed=11)
    _with_decoder_neighbours(rows, 6, seed=11)
    folder = write_rows(tmp_path / "export", rows)
    code, out = cli(store.location, "ingest", "features", str(folder))
    assert code == 0, out
    listed: dict[tuple[int, int], float] = {}
    for row in read_export(folder)["features"]:  # the file, not the store
        me = int(row["index"])
        for other, cosine in zip(row["topkCosSimIndices"], row["topkCosSimValues"]):
            if other != me:
                pair = (min(me, other), max(me, other))
                listed[pair] = max(listed.get(pair, -2.0), cosine)
    for index in range(40):
        uid = f"gpt2-small/L0/res-jb/F{index}"
        expected = {
            f"gpt2-small/L0/res-jb/F{b if a == index else a}": cosine
            for (a, b), cosine in listed.items()
            if index in (a, b)
        }
        found = similar(store, uid, metric="decoder", top=100)
        assert {m.uid: m.score for m in found} == pytest.approx(expected), uid
        assert {(m.source, *m.analyses) for m in found} == {
            ("stored", "neuronpedia/gpt2-small/0-res-jb")
        }
        assert found[0].uid == f"gpt2-small/L0/res-jb/F{index ^ 1}"  # its planted copy
    # the default metrics include the source's matches
    assert any(m.metric == "decoder" for m in similar(store, "gpt2-small/L0/res-jb/F4"))


def test_neighbour_lists_that_do_not_pair_up_are_refused(store, tmp_path) -> None:
    rows = feature_rows(6, seed=2)
    _with_decoder_neighbours(rows, 3, seed=2)
    rows["features"][4]["topkCosSimValues"].pop()
    folder = write_rows(tmp_path / "export", rows)
    code, out = cli(store.location, "ingest", "features", str(folder))
    assert code == 1
    assert "line 5" in out and "topkCosSimValues" in out and "pair up" in out, out
    assert len(out.strip().splitlines()) == 1, out
    rows["features"][4]["topkCosSimValues"].append(0.5)
    listed = rows["features"][2]["topkCosSimIndices"]
    listed[:] = [str(i) for i in listed]  # text, where the export has feature indices
    folder = write_rows(tmp_path / "export2", rows)
    code, out = cli(store.location, "ingest", "features", str(folder))
    assert code == 1 and "topkCosSimIndices[0]" in out and "line 3" in out, out
    assert store.read("MATCH (n) RETURN count(n) AS n")[0]["n"] == 0


def test_explanations_are_weighed_by_what_is_stored_now(store, tmp_path) -> None:
    """A word's weight counts the features whose explanations use it, as stored now: the
    same whichever export went in first, and recounted when one is removed."""
    first, second = feature_rows(160, seed=21), feature_rows(100, seed=22)
    for rows in (first, second):  # the second export is another dictionary's
        for kind in rows.values():
            for row in kind:
                row["layer"] = "0-res-jb" if rows is first else "1-res-jb"
    folders = [write_rows(tmp_path / name, rows) for name, rows in (("a", first), ("b", second))]
    probes = ["gpt2-small/L0/res-jb/F7", "gpt2-small/L0/res-jb/F150"]
    answers = []
    for order in (folders, folders[::-1]):
        store.clear()
        for folder in order:
            code, out = cli(store.location, "ingest", "features", str(folder))
            assert code == 0, out
        answers.append(
            [
                {m.uid: m.score for m in similar(store, p, metric="explanation", top=2000)}
                for p in probes
            ]
        )
    both = explanation_vectors([first, second])
    firing = expected_weights([], [first, second])[1]
    assert answers[0] == answers[1]
    for probe, found in zip(probes, answers[0]):
        assert found == pytest.approx(expected_explanation_matches(both, firing, probe, False))
    code, out = cli(
        store.location, "analysis", "remove", "neuronpedia/gpt2-small/1-res-jb", "--yes"
    )
    assert code == 0, out
    alone = explanation_vectors([first])
    for probe in probes:
        found = {m.uid: m.score for m in similar(store, probe, metric="explanation", top=2000)}
        assert found == pytest.approx(expected_explanation_matches(alone, firing, probe, False))
