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
    """A token as one line shows it: as text (`readable_token`: part of a character as
    its bytes), a newline, return or tab written `\\n`, `\\r`, `\\t` (a token that is a
    newline would otherwise break the example it sits in), every other control escaped."""
    shown = readable_token(token)
    return escape_controls("".join(_TOKEN_WHITESPACE.get(char, char) for char in shown))


def _byte_alphabet() -> dict[str, int]:
    """GPT-2's byte-level BPE alphabet (its `bytes_to_unicode`), inverted: the character
    that stands for each byte in a token as the tokenizer stores it (`Ġ` for a space)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    chars = {byte: byte for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in chars:
            chars[byte] = 256 + extra
            extra += 1
    return {chr(char): byte for byte, char in chars.items()}


_BYTE_OF = _byte_alphabet()
_BYTE_ONLY = frozenset(char for char in _BYTE_OF if ord(char) >= 256)  # `Ġ`, `Ģ`, ... `Ń`


def _token_bytes(token: str) -> bytes | None:
    """The bytes a token written in GPT-2's byte alphabet stands for (ASCII as itself, as
    sources that decode spaces write it); None for a token with any other character."""
    if token.isascii():
        return token.encode("ascii")
    out = bytearray()
    for char in token:
        if ord(char) < 128:
            out.append(ord(char))
        elif char in _BYTE_OF:
            out.append(_BYTE_OF[char])
        else:
            return None
    return bytes(out)


def decoded_token(token: str) -> str:
    """A token as text: one written in GPT-2's byte alphabet (`Ã¡s`, `ĠThe`, as some
    dashboards give it) decoded (`ás`, ` The`), so two sources of one vocabulary name a
    token alike; a token that is already text, or holds only part of a character, as it is."""
    raw = _token_bytes(token)
    return token if raw is None else _decoded(raw, token)


def _decoded(raw: bytes, token: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return token


def readable_token(token: str) -> str:
    """`decoded_token`, and a token holding part of a multibyte character (`âĢ`: the
    first two bytes of a dash) shown as its bytes, `<0xE2><0x80>`, never as the
    characters of GPT-2's byte alphabet (mojibake)."""
    raw = _token_bytes(token)
    if raw is None:
        return token
    text = _decoded(raw, token)
    if text != token or not any(c in _BYTE_ONLY for c in token):
        return text
    return "".join(chr(b) if b < 128 else f"<0x{b:02X}>" for b in raw)


_WORD = re.compile(r"[a-z0-9]+")


def explanation_words(text: str) -> dict[str, int]:
    """How often each word (a run of lowercase letters and digits, the text lowercased)
    occurs in an explanation: what `similar --metric explanation` compares."""
    counts: dict[str, int] = {}
    for word in _WORD.findall(text.lower()):
        counts[word] = counts.get(word, 0) + 1
    return counts
