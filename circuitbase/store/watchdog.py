"""Stop an embedded server that no circuitbase client has used for a while.

Started detached by `EmbeddedServer` next to the server it starts:
`python -m circuitbase.store.watchdog DATA_DIR PID IDLE_SECONDS`. It forks away at once
(its starter returns, and it is nobody's child), writes its pid to `watchdog.pid` (a
command that finds the watchdog gone starts another), then looks at the server's clients
every few seconds; after IDLE_SECONDS without a circuitbase client it takes the store's
lock (so no command connects meanwhile), saves and stops the server.

It follows the server by its pid and the identity of the files it keeps, not by paths
or pid files: a renamed store is still watched, a pid reused by another process is not
the server, and a server whose store was deleted is stopped at once (there is nothing
to save and nobody can reach it). It ends with the server.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .clients import load_falkordb

if TYPE_CHECKING:
    import redis
else:
    _, redis = load_falkordb()

from .base import StoreError  # noqa: E402 (after the clients are loaded without OpenTelemetry)
from .falkor_server import (  # noqa: E402
    CLIENT_PREFIX,
    EmbeddedServer,
    is_server_of,
    pid_alive,
    process_cwd_identity,
    store_identity,
)


def busy(client: redis.Redis) -> bool:
    return any(c.get("name", "").startswith(CLIENT_PREFIX) for c in client.client_list())


def _where(pid: int, fallback: Path) -> Path:
    """The store's directory now (it may have been renamed since the server started)."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return fallback


def watch(data_dir: Path, pid: int, idle: float) -> None:
    identity = store_identity(data_dir)
    if identity is None or not is_server_of(pid, identity):
        return
    poll = max(0.2, min(5.0, idle / 5))
    quiet_since = time.monotonic()
    client: redis.Redis | None = None
    while True:
        time.sleep(poll)
        cwd = process_cwd_identity(pid)
        if cwd is not None and cwd[:2] == identity and cwd[2] == 0:
            # its store was deleted: nothing left to keep. SIGKILL, not SIGTERM: a server
            # that shuts down removes its pid file and socket by path, and a store made
            # again at that path may already have a new server there
            os.kill(pid, signal.SIGKILL)
            return
        if not pid_alive(pid) or not is_server_of(pid, identity):
            return
        server = EmbeddedServer(_where(pid, data_dir))
        try:
            if client is None:
                client = redis.Redis(
                    unix_socket_path=str(server.socket_path), client_name="watchdog"
                )
            if busy(client):
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since < idle:
                continue
            with server.lock():
                if busy(client):
                    continue
                server.shut_down_through(client)
                return
        except (redis.exceptions.ConnectionError, OSError):
            # its socket moved or was removed: look again next time; a server nobody can
            # reach for a whole idle spell is stopped (every write saved when it finished)
            client = None
            if time.monotonic() - quiet_since >= idle and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)  # as above: its paths may be another's now
                return
        except StoreError:
            quiet_since = time.monotonic()  # it could not save: try again after another idle spell


def main() -> None:
    data_dir, pid, idle = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    if os.fork():
        os._exit(0)  # the starter waits only for this
    os.setsid()
    try:
        pid_file = data_dir / "watchdog.pid"
        pid_file.write_text(str(os.getpid()))
        pid_file.chmod(0o600)
    except OSError:
        pass
    watch(data_dir, pid, idle)


if __name__ == "__main__":
    main()
