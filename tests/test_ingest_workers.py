"""Reading an ingest's files in worker processes (`ingest.workers`): the plan is the one a
read in the command's own process makes, row for row, on the real files of several
formats; the graph written is the same on both backends; bad files are reported the
same way, all of them, and nothing is written; an error keeps its place when it crosses
from a worker."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import cli, count, graph_rows
from test_evidence import write_export

from circuitbase.errors import IngestErrors, RecordError, SettingError
from circuitbase.ingest import workers
from circuitbase.ingest.pipeline import expand, plan_files
from circuitbase.ingest.scratch import NothingStored, Plan
from circuitbase.schema.uids import ComponentKind
from circuitbase.settings import ingest_workers
from circuitbase.sources.features import SUFFIXES, feature_records
from circuitbase.sources.models import model_records, read_model_config
from circuitbase.sources.n2g.records import n2g_records
from circuitbase.sources.n2g.vocab import load_vocab

DATA = Path(__file__).parent / "data"
N2G = DATA / "n2g"


@pytest.fixture
def in_workers(monkeypatch):
    """Ingests read their files in two worker processes, a file per task (so that even
    the small test files go to different workers)."""
    monkeypatch.setenv("CIRCUITBASE_INGEST_WORKERS", "2")
    monkeypatch.setattr(workers, "TASK_BYTES", 1)


def contents(plan: Plan) -> tuple[list, list, list]:
    """Everything a plan holds, in the order it holds it (the nodes' creation times left
    out: two reads are two runs)."""
    nodes = list(plan.select("SELECT label, key, props, origin FROM nodes ORDER BY rowid"))
    rels = list(plan.select("SELECT * FROM rels ORDER BY rowid"))
    return nodes, rels, [(s.spec.name, sorted(s.kinds)) for s in plan.component_sets()]


def planned(paths: list[Path], reader, monkeypatch, workers_: str) -> tuple[list, list, list]:
    monkeypatch.setenv("CIRCUITBASE_INGEST_WORKERS", workers_)
    assert workers.worker_count(paths) == int(workers_)
    with plan_files(NothingStored(), paths, reader) as plan:
        return contents(plan)


def export_files(root: Path) -> list[Path]:
    return expand([write_export(root, 3, features_per_batch=6, examples=3)], SUFFIXES)


def n2g_reader(vocab: list[str]):
    """A closure, as the CLI makes one (a forked worker needs no pickled reader); each
    file with its model's records, as the plan is checked against an empty store."""
    spec = read_model_config(N2G / "config.json")
    return lambda path: [
        *model_records(spec, {ComponentKind.NEURON}),
        *n2g_records(path, vocab=vocab, model="toy-6l"),
    ]


@pytest.mark.parametrize("source", ["neuronpedia export", "saedashboard", "n2g"])
def test_workers_plan_what_one_process_plans(source, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(workers, "TASK_BYTES", 1)
    if source == "neuronpedia export":
        paths, reader = export_files(tmp_path), feature_records
    elif source == "saedashboard":
        paths, reader = sorted((DATA / "saedashboard").glob("batch-*.json")), feature_records
    else:
        paths = sorted((N2G / "neuron_graphs" / "toy-6l").glob("*.json"))
        reader = n2g_reader(load_vocab(N2G / "vocab.json"))
    assert len(paths) >= 2
    one = planned(paths, reader, monkeypatch, "1")
    two = planned(paths, reader, monkeypatch, "2")
    assert one[0] and one[1]  # the files hold records
    assert two == one


def test_workers_take_several_small_files_at_a_time(tmp_path, monkeypatch) -> None:
    paths = export_files(tmp_path)
    tasks = list(workers._tasks(paths))
    assert [p for task in tasks for p in task] == paths and len(tasks) == 1
    monkeypatch.setattr(workers, "TASK_BYTES", 1)
    assert list(workers._tasks(paths)) == [[p] for p in paths]
    assert planned(paths, feature_records, monkeypatch, "2") == planned(
        paths, feature_records, monkeypatch, "1"
    )


def test_an_ingest_in_workers_writes_the_same_graph(store, store_uri, tmp_path, in_workers):
    root = tmp_path / "exports"
    export_files(root)
    code, out = cli(store_uri, "ingest", "features", str(root))
    assert code == 0, out
    written = graph_rows(store, ignore=("created_at",))
    assert count(store, "(:Feature)") == 18
    store.clear()
    with pytest.MonkeyPatch.context() as serial:
        serial.setenv("CIRCUITBASE_INGEST_WORKERS", "1")
        code, out = cli(store_uri, "ingest", "features", str(root))
    assert code == 0, out
    assert graph_rows(store, ignore=("created_at",)) == written


def export_of(tmp_path: Path, kind: str) -> tuple[Path, list[Path], list[Path]]:
    """A generated export: its folder, all its files, and those of one kind."""
    root = tmp_path / "exports"
    paths = export_files(root)
    return root, paths, [p for p in paths if p.parent.name == kind]


def _break_line(path: Path, line: int, field: str, value: object) -> None:
    rows = [json.loads(text) for text in gzip.open(path, "rt")]
    rows[line - 1][field] = value
    with gzip.open(path, "wt") as out:
        out.write("".join(json.dumps(row) + "\n" for row in rows))


def test_every_bad_file_is_reported_as_one_process_reports_it(
    store, store_uri, tmp_path, monkeypatch
) -> None:
    root, paths, activations = export_of(tmp_path, "activations")
    _break_line(activations[0], 2, "values", [1.0, "x"])
    _break_line(activations[2], 1, "tokens", "not a list")
    messages = {}
    for count_ in ("1", "2"):
        monkeypatch.setenv("CIRCUITBASE_INGEST_WORKERS", count_)
        monkeypatch.setattr(workers, "TASK_BYTES", 1)
        with pytest.raises(IngestErrors) as caught:
            plan_files(NothingStored(), paths, feature_records)
        messages[count_] = str(caught.value)
        code, out = cli(store_uri, "ingest", "features", str(root))
        assert code == 1 and str(activations[0]) in out and str(activations[2]) in out, out
        assert "line 2" in out and "line 1" in out
        assert count(store, "(n)") == 0  # nothing written
    assert messages["2"] == messages["1"]


def test_records_that_disagree_across_files_are_refused_in_workers(
    store, store_uri, tmp_path, in_workers
) -> None:
    root, _, features = export_of(tmp_path, "features")
    first = json.loads(gzip.open(features[0], "rt").readline())
    _break_line(features[2], 1, "index", first["index"])  # a feature given twice
    _break_line(features[2], 1, "frac_nonzero", 0.123456)
    code, out = cli(store_uri, "ingest", "features", str(root))
    assert code == 1 and "duplicate" in out and str(features[2]) in out, out
    assert count(store, "(n)") == 0


def test_an_error_keeps_its_file_record_and_field_across_processes() -> None:
    error = RecordError("not a number", file="a.jsonl", record="line 3", field="values")
    again = pickle.loads(pickle.dumps(error))
    assert (again.file, again.record, again.field, again.reason) == (
        "a.jsonl",
        "line 3",
        "values",
        "not a number",
    )
    assert str(again.located(file="b.jsonl")) == str(error)


def test_the_worker_count_is_a_checked_setting(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CIRCUITBASE_INGEST_WORKERS", "none")
    with pytest.raises(SettingError, match="CIRCUITBASE_INGEST_WORKERS"):
        ingest_workers()
    monkeypatch.setenv("CIRCUITBASE_INGEST_WORKERS", "3")
    paths = export_files(tmp_path)
    assert workers.worker_count(paths) == 3
    assert workers.worker_count(paths[:1]) == 1  # one file: one reader
    monkeypatch.delenv("CIRCUITBASE_INGEST_WORKERS")
    assert workers.worker_count(paths) == 1  # small input: read here


def test_ctrl_c_while_workers_read_is_one_line_and_writes_nothing(store, tmp_path) -> None:
    """A terminal's Ctrl-C reaches the whole process group: the workers leave it to the
    command, which ends with its one line (exit 130), writes nothing, and leaves no
    worker and none of their files behind."""
    neo4j = store.backend == "neo4j"
    uri = store.location if neo4j else str(tmp_path / "kb")
    root = tmp_path / "exports"
    write_export(root, 4, features_per_batch=1024, examples=3, same_features=False)
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "CIRCUITBASE_INGEST_WORKERS": "2"}
    argv = [sys.executable, "-m", "circuitbase", "--db", uri, "ingest", "features", str(root)]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(temp.glob("circuitbase-rows-*/*.rows")):
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()[0]  # still reading
    os.killpg(process.pid, signal.SIGINT)
    try:
        out = process.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"still running 30 s after Ctrl-C: {process.communicate()[0]!r}")
    assert process.returncode == 130, out
    assert out.strip().splitlines()[-1].startswith("interrupted") and "Traceback" not in out, out
    assert not list(temp.glob("circuitbase-rows-*")), "the workers' folder was left behind"
    with pytest.raises(ProcessLookupError):  # the group: the command and its workers
        os.killpg(process.pid, 0)
    code, out = cli(uri, "stats")
    assert code == 0 and "Feature" not in out, out


def test_a_worker_that_dies_is_one_error_naming_the_files_in_flight(tmp_path, in_workers) -> None:
    """A worker killed (the kernel's out-of-memory killer, say) ends the read with one
    error naming the files then being read, that one among them, not a broken pool's
    traceback."""
    paths = export_files(tmp_path)
    parent = os.getpid()

    def dying(path: Path):
        if os.getpid() != parent and path == paths[1]:
            os._exit(9)
        return feature_records(path)

    with pytest.raises(RecordError, match="the process reading it") as caught:
        plan_files(NothingStored(), paths, dying)
    assert str(paths[1]) in str(caught.value)
