"""Dictionary features matched by what their explanations mean (issue #42): the cosine of
the embeddings Neuronpedia's export gives of each explanation's text (256 numbers),
through the vector index and rescored exactly. None can be made offline: the embeddings
here are synthetic (random directions, each odd feature's a slightly turned copy of the
even one's), and every answer is compared with numpy over the rows written, not the store.
"""

from __future__ import annotations

import numpy as np
import pytest
from feature_export import feature_rows, write_rows
from helpers import cli
from test_similar_features import read_export

from circuitbase.queries.similar import between, similar

N, DIMENSION = 40, 256
ANALYSIS = "neuronpedia/gpt2-small/0-res-jb"


def with_embeddings(rows: dict, seed: int, dimension: int = DIMENSION) -> dict:
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(len(rows["explanations"]), dimension))
    directions[1::2] = directions[0::2] + 0.2 * rng.normal(size=directions[1::2].shape)
    for row, direction in zip(rows["explanations"], directions):
        row["embedding"] = [round(float(x), 6) for x in direction]
    return rows


def expected_cosines(rows: dict, index: int) -> dict[str, float]:
    """Feature -> cosine of its explanation's embedding with feature `index`'s, from the
    rows (float32, as both stores keep vectors)."""
    vectors = {
        int(r["index"]): np.asarray(r["embedding"], dtype=np.float32) for r in rows["explanations"]
    }
    mine = vectors[index]
    return {
        f"gpt2-small/L0/res-jb/F{i}": float(v @ mine / np.linalg.norm(v) / np.linalg.norm(mine))
        for i, v in vectors.items()
        if i != index
    }


def test_explanation_embeddings_answer_as_their_cosines(store, tmp_path) -> None:
    """`similar --metric explanation-embedding` gives the nearest explanations by the
    cosine of their embeddings (the planted near-copy first) with both texts as evidence;
    the embedding stays on the explanation fact as the file gives it; the side-by-side
    page scores the pair alike; removing the analysis takes the embeddings with it."""
    folder = write_rows(tmp_path / "export", with_embeddings(feature_rows(N, seed=5), seed=5))
    code, out = cli(store.location, "ingest", "features", str(folder))
    assert code == 0, out
    rows = read_export(folder)
    texts = {f"gpt2-small/L0/res-jb/F{r['index']}": r["description"] for r in rows["explanations"]}
    for index in range(0, N, 3):
        uid = f"gpt2-small/L0/res-jb/F{index}"
        expected = expected_cosines(rows, index)
        found = similar(store, uid, metric="explanation-embedding", top=5, dead_and_dense=True)
        best = sorted((c for c in expected.values() if c > 0), reverse=True)[:5]
        assert [m.score for m in found] == pytest.approx(best, abs=1e-5), uid
        assert found[0].uid == f"gpt2-small/L0/res-jb/F{index ^ 1}"  # its planted copy
        for match in found:
            assert match.score == pytest.approx(expected[match.uid], abs=1e-5)
            assert match.evidence[0] == {
                "measure": "explanation",
                "this": texts[uid],
                "that": texts[match.uid],
            }
        pair = [m for m in between(store, uid, found[0].uid) if m.metric == found[0].metric]
        assert [m.score for m in pair] == [found[0].score]
    # every column kept: the fact holds the file's numbers
    [fact] = store.read(
        "MATCH (:Feature {uid: 'gpt2-small/L0/res-jb/F7'})-[r:EXPLAINED_BY]->() "
        "RETURN r.embedding AS embedding"
    )
    assert fact["embedding"] == pytest.approx(rows["explanations"][7]["embedding"])
    # re-ingesting changes nothing; removing the analysis takes its embeddings
    code, out = cli(store.location, "ingest", "features", str(folder))
    assert code == 0, out
    count = "MATCH (n:ExplanationEmbedding) RETURN count(n) AS n"
    assert store.read(count) == [{"n": N}]
    code, out = cli(store.location, "analysis", "remove", ANALYSIS, "--yes")
    assert code == 0, out
    assert store.read(count) == [{"n": 0}]


def test_an_embedding_of_another_length_is_refused(store, tmp_path) -> None:
    """Embeddings of one store share one vector index: an export whose embeddings have
    another length is one line naming the file and field, exit 1, nothing written."""
    first = write_rows(tmp_path / "a", with_embeddings(feature_rows(4, seed=1), seed=1))
    code, out = cli(store.location, "ingest", "features", str(first))
    assert code == 0, out
    before = store.read("MATCH (n) RETURN count(n) AS n")
    rows = with_embeddings(feature_rows(4, seed=2), seed=2, dimension=128)
    for row in rows["features"] + rows["explanations"] + rows["activations"]:
        row["layer"] = "1-res-jb"
    second = write_rows(tmp_path / "b", rows)
    code, out = cli(store.location, "ingest", "features", str(second))
    assert code == 1 and len(out.strip().splitlines()) == 1, out
    assert "'embedding'" in out and "128" in out and "256" in out and str(second) in out, out
    assert store.read("MATCH (n) RETURN count(n) AS n") == before


def test_an_embedding_of_zeros_has_no_direction_and_matches_nothing(store, tmp_path) -> None:
    """An explanation whose embedding is all zeros (the shipped test export's) has no
    cosine with anything: its feature's `similar` and `show` answer without it (Neo4j's
    index refuses such a vector as a query: the benchmark's `show` failed), and no other
    feature is matched to it."""
    rows = with_embeddings(feature_rows(N, seed=7), seed=7)
    rows["explanations"][4]["embedding"] = [0.0] * DIMENSION
    folder = write_rows(tmp_path / "export", rows)
    code, out = cli(store.location, "ingest", "features", str(folder))
    assert code == 0, out
    zero = "gpt2-small/L0/res-jb/F4"
    assert similar(store, zero, metric="explanation-embedding", dead_and_dense=True) == []
    code, out = cli(store.location, "show", zero)
    assert code == 0, out
    for index in (2, 5):
        uid = f"gpt2-small/L0/res-jb/F{index}"
        found = similar(store, uid, metric="explanation-embedding", top=50, dead_and_dense=True)
        assert found and zero not in {m.uid for m in found}, uid
