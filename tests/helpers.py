"""Helpers the test modules share: the command line run as a user runs it, a fingerprint of
the whole graph (to prove nothing changed), counts, and killing a server."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys

from click.testing import CliRunner

from circuitbase.cli import main
from circuitbase.store.base import GraphStore


def cli(uri: str, *args: str) -> tuple[int, str]:
    """`circuitbase --db URI ARGS...`: its exit code and everything it printed."""
    result = CliRunner().invoke(main, ["--db", uri, *args], catch_exceptions=False)
    return result.exit_code, result.output


def run_circuitbase(
    db: object, *args: str, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess:
    """`circuitbase --db DB ARGS` in its own process, as a user runs it, its output on
    pipes. One that outlives `timeout` fails the test with its Python stack (faulthandler
    prints it on SIGABRT), so a hang says where it waits."""
    argv = [sys.executable, "-m", "circuitbase", "--db", str(db), *args]
    env = {**os.environ, **env, "PYTHONFAULTHANDLER": "1"}
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            out, err = process.communicate()
            raise AssertionError(
                f"{' '.join(argv[3:])} still ran after {timeout:.0f} s:\n{err}"
            ) from None
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def graph_rows(store: GraphStore, ignore: tuple[str, ...] = ()) -> list[str]:
    """Every node (labels, properties) and relationship (type, ends, properties) as
    canonical JSON, sorted: two graphs are equal when these are; a failing comparison of
    them shows what differs.

    `ignore` names properties left out, such as `created_at`, which differs between
    two separate runs of the same ingest (a re-run keeps the first one's)."""
    nodes = store.read("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
    # a relationship's ends by their labels and keys (every label's key is uid or name):
    # the nodes themselves are listed above, and reading every end's properties again
    # took most of the time on large graphs
    rels = store.read(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, [labels(a), a.uid, a.name] AS a, "
        "[labels(b), b.uid, b.name] AS b, properties(r) AS props"
    )
    for row in nodes + rels:
        for name in ignore:
            (row.get("props") or {}).pop(name, None)
    # labels as a set: each backend lists a node's labels in the order it first made them
    # (a bulk load makes them in another order), and no query of circuitbase depends on it
    for row in nodes:
        row["labels"] = sorted(row["labels"])
    for row in rels:
        row["a"][0], row["b"][0] = sorted(row["a"][0]), sorted(row["b"][0])
    return sorted(json.dumps(row, sort_keys=True, default=str) for row in nodes + rels)


def graph_fingerprint(store: GraphStore, ignore: tuple[str, ...] = ()) -> str:
    """A hash of `graph_rows`: every node and relationship with its properties."""
    return hashlib.sha256("\n".join(graph_rows(store, ignore)).encode()).hexdigest()


def count(store: GraphStore, pattern: str, **params: object) -> int:
    return store.read(f"MATCH {pattern} RETURN count(*) AS n", params)[0]["n"]


def refuses_file(
    store: GraphStore, store_uri: str, command: list[str], path, data: object, says: str
) -> None:
    """`data` written as JSON to `path` and given to `circuitbase <command>` must be refused
    with a message naming the file and saying `says`, and leave the graph as it was."""

    path.write_text(json.dumps(data))
    before = graph_fingerprint(store)
    code, out = cli(store_uri, *command, str(path))
    assert code == 1 and says in out and str(path) in out, out
    assert graph_fingerprint(store) == before


def kill_server(data_dir) -> None:
    """SIGKILL the embedded server of `data_dir` and wait until it has gone (it is nobody's
    child: it runs detached)."""
    import os
    import signal
    import time
    from pathlib import Path

    from circuitbase.store.falkor_server import pid_alive

    pid = int((Path(data_dir) / "falkordb.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid)
