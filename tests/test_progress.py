"""Every phase of an ingest that can take a while reports progress, and what the bars
count agrees with the summary (issue #19, item 4)."""

from __future__ import annotations

from collections import defaultdict

from conftest import DATA

from circuitbase.api.session import written as change_row
from circuitbase.cli.progress import summary
from circuitbase.ingest import ingest
from circuitbase.ingest.pipeline import ingest_files, ingest_vectors
from circuitbase.schema import Analysis, NodeLabel, SimilarTo, ref
from circuitbase.schema.catalog import known_model
from circuitbase.schema.uids import ComponentKind
from circuitbase.sources.models import model_records
from circuitbase.sources.probes import probe_records


class Recorder:
    """A progress factory that remembers each phase, its total and what was counted."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.totals: dict[str, int | None] = {}
        self.counted: dict[str, int] = defaultdict(int)

    def __call__(self, phase: str, total: int | None):
        self.order.append(phase)
        self.totals[phase] = total

        def tick(done: int) -> None:
            self.counted[phase] += done

        return tick


def test_reading_and_writing_count_what_the_summary_says(store) -> None:
    records = list(
        model_records(known_model("pythia-70m"), {ComponentKind.NEURON, ComponentKind.HEAD})
    )
    seen = Recorder()
    result = ingest(store, records, progress=seen)
    assert seen.order == ["reading and checking", "writing"]
    read = 1 + 6 * 2048 + 6 * 8  # the model, its neurons and heads
    assert seen.totals["reading and checking"] == seen.counted["reading and checking"] == read
    written = result.plan.node_count + result.plan.rel_count
    assert seen.totals["writing"] == seen.counted["writing"] == written
    line = summary(change_row("pythia-70m", result)[0])
    assert (
        f"{result.plan.node_count} nodes and {result.plan.rel_count} relationships checked" in line
    )
    assert result.counts.nodes_created + result.counts.relationships_created == written


def test_files_vectors_and_similarity_have_their_phases(store, tmp_path) -> None:
    seen = Recorder()
    result = ingest_files(
        store,
        [DATA / "probes" / "pythia-70m_monosemantic_language_neurons.csv"],
        probe_records,
        progress=seen,
    )
    assert (
        seen.order == ["reading and checking", "writing"]
        and seen.counted["reading and checking"] > 0
    )
    assert seen.counted["writing"] == result.plan.node_count + result.plan.rel_count
    vectors = {f"pythia-70m/L{i // 1000}/N{i % 1000}": [1.0, float(i)] for i in range(2500)}
    seen = Recorder()
    ingest_vectors(store, vectors, progress=seen)
    assert seen.order == [
        "reading and checking",
        "writing",
        "storing vectors",
        "building the Neuron vector index",
    ]
    assert seen.totals["storing vectors"] == seen.counted["storing vectors"] == 2500
    hand = Analysis(
        uid="test/similar",
        kind="similarity",
        method="by hand",
        models=["pythia-70m", "pythia-160m"],
    )
    seen = Recorder()
    ingest(
        store,
        [
            *hand.records(),
            SimilarTo(analysis=hand.uid, score=0.5, metric="m").record(
                ref(NodeLabel.NEURON, "pythia-70m/L0/N1"),
                ref(NodeLabel.NEURON, "pythia-160m/L0/N1"),
            ),
        ],
        progress=seen,
        replaces=hand.uid,
    )
    assert seen.order == [
        "reading and checking",
        "writing",
        "retracting what the rerun no longer finds",
        "summarising similarity",
    ]
    assert seen.totals["summarising similarity"] == seen.counted["summarising similarity"] == 1


def test_model_add_knows_its_total_before_reading(store_uri, monkeypatch) -> None:
    """`model add` shows how many records it will read before it reads them (a model's
    shape says), and the bar ends where its count ends."""
    from helpers import cli

    from circuitbase.api import progress

    assert cli(store_uri, "model", "add", "pythia-70m-deduped")[0] == 0
    seen = Recorder()
    monkeypatch.setattr(progress, "phases", lambda what: _Phases(seen))
    code, out = cli(
        store_uri,
        "model",
        "add",
        "pythia-70m",
        "--components",
        "heads,neurons",
        "--base",
        "pythia-70m-deduped",
    )
    assert code == 0, out
    expected = 1 + 6 * 8 + 6 * 2048 + 1  # the model, its heads and neurons, its base link
    assert seen.totals["reading and checking"] == seen.counted["reading and checking"] == expected


class _Phases:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def __enter__(self) -> Recorder:
        return self.recorder

    def __exit__(self, *exc: object) -> None:
        return None
