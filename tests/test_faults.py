"""Faults a real user meets: a killed ingest, two ingests at once, a killed server.

Each runs the `circuitbase` command in its own process, as a user would, so that
killing it is a real kill and two of them really share the embedded server.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from helpers import count, graph_fingerprint, kill_server

from circuitbase.cli.demo import examples_dir
from circuitbase.store import open_store

PROBE_FILES = sorted(str(p) for p in (examples_dir() / "probes").glob("*.csv"))


def start(uri: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "circuitbase", "--db", uri, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(uri: str, *args: str) -> str:
    process = start(uri, *args)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, out + err
    return out


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, (
            f"finished before the condition held: {process.stderr.read()}"
        )
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_ingest_killed_halfway_then_run_again_ends_as_an_uninterrupted_run(
    store, store_uri
) -> None:
    add = ("model", "add", "pythia-160m", "--components", "all", "--no-bulk")  # 36,864 neurons,
    # in batches of the writer
    run(store_uri, *add)
    uninterrupted = graph_fingerprint(store)
    components = count(store, "(:Component)")
    store.clear()

    process = start(store_uri, *add)
    wait_until(lambda: count(store, "(:Neuron)") > 0, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert count(store, "(:Component)-[:IN_MODEL]->()") < components  # really halfway

    run(store_uri, *add)
    assert graph_fingerprint(store) == uninterrupted


def test_two_ingests_at_once_into_a_new_store_both_land(tmp_path: Path) -> None:
    """Both processes find no server; one starts it, the other uses it; the shared
    Concept nodes are merged, not duplicated; the last one out stops the server."""
    together, one_by_one = str(tmp_path / "together"), str(tmp_path / "one-by-one")
    halves = (PROBE_FILES[:2], PROBE_FILES[2:])
    processes = [start(together, "ingest", "probes", *half) for half in halves]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, out + err
    for half in halves:
        run(one_by_one, "ingest", "probes", *half)
    with open_store(together) as a, open_store(one_by_one) as b:
        assert count(a, "(:Analysis)") == len(PROBE_FILES)
        assert graph_fingerprint(a, ignore=("created_at",)) == graph_fingerprint(
            b, ignore=("created_at",)
        )


def test_a_killed_server_loses_nothing_that_a_finished_ingest_reported(tmp_path: Path) -> None:
    db = tmp_path / "kb"
    with open_store(db) as store:
        out = run(str(db), "ingest", "probes", *PROBE_FILES)
        assert "written" in out or "created" in out, out
        reported = graph_fingerprint(store)
        assert count(store, "(:Neuron)-[:ENCODES]->(:Concept)") > 0
        kill_server(db)
    with open_store(db) as restarted:
        assert graph_fingerprint(restarted) == reported
