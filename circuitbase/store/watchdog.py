"""Stop an embedded server that no circuitbase client has used for a while.

Started detached by `EmbeddedServer` next to the server it starts:
`python -m circuitbase.store.watchdog DATA_DIR PID IDLE_SECONDS`. It forks away at once
(its starter returns, and it is nobody's child), then looks at the server's clients
every few seconds; after IDLE_SECONDS without a circuitbase client it takes the store's
lock (so no command connects meanwhile), saves and stops the server. It ends with the
server, or when another server (another PID) keeps the directory.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import redis

from .base import StoreError
from .falkor_server import CLIENT_PREFIX, EmbeddedServer, pid_alive


def busy(client: redis.Redis) -> bool:
    return any(c.get("name", "").startswith(CLIENT_PREFIX) for c in client.client_list())


def watch(data_dir: Path, pid: int, idle: float) -> None:
    server = EmbeddedServer(data_dir)
    client = redis.Redis(unix_socket_path=str(server.socket_path), client_name="watchdog")
    poll = max(0.2, min(5.0, idle / 5))
    quiet_since = time.monotonic()
    while True:
        time.sleep(poll)
        if server.pid() != pid or not pid_alive(pid):
            return
        try:
            if busy(client):
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since < idle:
                continue
            with server.lock():
                if server.pid() != pid or busy(client):
                    continue
                server.shut_down_through(client)
                return
        except (redis.exceptions.ConnectionError, OSError):
            return  # the server went (killed, or stopped by `server stop`)
        except StoreError:
            quiet_since = time.monotonic()  # it could not save: try again after another idle spell


def main() -> None:
    data_dir, pid, idle = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    if os.fork():
        os._exit(0)  # the starter waits only for this
    os.setsid()
    watch(data_dir, pid, idle)


if __name__ == "__main__":
    main()
