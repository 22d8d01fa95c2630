"""Free text on its way out: what may be printed of text a store holds.

Kept apart from the records (and free of pydantic) because every command's output goes
through it, including those that must start fast.
"""

from __future__ import annotations

import re

_PRINTED_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """`text` with each C0 control (but newline and tab), DEL and C1 control written as
    `\\uXXXX`: what a terminal or log shows of free text, which may hold any character
    (an escape sequence printed raw would rewrite the terminal). `\\uXXXX` is also a
    valid escape inside a JSON string, so printed JSON stays JSON."""
    return _PRINTED_CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


_TOKEN_WHITESPACE = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible_token(token: str) -> str:
    """A token as one line shows it: a newline, return or tab written `\\n`, `\\r`, `\\t`
    (a token that is a newline would otherwise break the example it sits in), every other
    control escaped."""
    return escape_controls("".join(_TOKEN_WHITESPACE.get(char, char) for char in token))
