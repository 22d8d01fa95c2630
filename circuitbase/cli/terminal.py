"""What reaches a terminal: control characters in stored text shown, never obeyed.

A token's text may hold any character (a newline, an escape sequence); printed raw, an
escape sequence rewrites the terminal (its title, its colours, what a line seems to
say). Everything a command prints goes through `escape_controls`, which writes each C0
control (but newline and tab), DEL and C1 control as `\\uXXXX`: readable, and a valid
escape inside the JSON strings `--format json` prints, so JSON stays JSON.
"""

from __future__ import annotations

import io
import sys
from typing import TextIO

from ..schema.text import escape_controls


class EscapingStream(io.TextIOBase):
    """A text stream that escapes control characters on their way to `inner`."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(escape_controls(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None)


def escape_stdout() -> None:
    """From here on, what this command prints on stdout has its controls escaped."""
    if not isinstance(sys.stdout, EscapingStream):
        sys.stdout = EscapingStream(sys.stdout)
