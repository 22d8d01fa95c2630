"""Run the explorer: on loopback unless another address is asked for by name."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from werkzeug.serving import WSGIRequestHandler, make_server

from ..errors import CircuitbaseError
from ..schema.text import escape_controls
from ..store.base import GraphStore
from .app import create_app, new_token

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    store: GraphStore,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    token: str | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until interrupted; `announce` gets the address to open (with its token)."""
    secret = token or new_token()

    class Redacting(WSGIRequestHandler):
        """The access log without the token: a log line is read by whoever reads the
        terminal or its scrollback, and the token is the key to the store."""

        def log(self, type: str, message: str, *args: object) -> None:
            text = (message % args).replace(secret, "<token>")
            super().log(type, "%s", escape_controls(text))

    try:
        server = make_server(
            host, port, create_app(store, secret), threaded=True, request_handler=Redacting
        )
    except OSError as err:
        raise CircuitbaseError(
            f"cannot listen on {host}:{port}: {err.strerror or err} "
            "(another --port, or --port 0 for any free one)"
        ) from err
    shown = f"[{host}]" if ":" in host else host
    announce(f"http://{shown}:{server.server_port}/{secret}/")
    try:
        server.serve_forever()
    finally:
        server.server_close()
