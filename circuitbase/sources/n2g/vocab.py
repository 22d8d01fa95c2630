"""Token ids to strings: N2G's JSON stores ids, the graph meets other models at strings."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from ...schema.records import RecordError
from ..files import read_json


@cache
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet (printable stand-ins such as 'Ġ' for a space) back to bytes."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes, extra = list(printable), 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes)}


def decode_byte_level(token: str) -> str:
    decoder = _byte_decoder()
    if not all(char in decoder for char in token):
        return token
    return bytes(decoder[char] for char in token).decode("utf-8", errors="replace")


def load_vocab(path: Path) -> list[str]:
    """A JSON list (index = id), or a {token: id} map as in GPT-2's vocab.json or a Hugging
    Face tokenizer.json (`model.vocab`); byte-level tokens are decoded to their text."""
    data: Any = read_json(path)
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"].get("vocab")
    if isinstance(data, list) and all(isinstance(t, str) for t in data):
        return data
    if isinstance(data, dict) and all(isinstance(i, int) for i in data.values()):
        vocab = [""] * (max(data.values(), default=-1) + 1)
        byte_level = any(token.startswith("Ġ") for token in data)
        for token, index in data.items():
            vocab[index] = decode_byte_level(token) if byte_level else token
        return vocab
    raise RecordError(
        "a vocabulary is a JSON list of token strings, or a {token: id} map "
        "(vocab.json, tokenizer.json)",
        file=str(path),
    )


def tokenize(text: str, tokenizer: Path) -> list[str]:
    """Token strings of `text` with a Hugging Face tokenizer.json (the `tokenizers` package)."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise RecordError(
            "a tokenizer needs the `tokenizers` package (in the [analysis] extra); "
            "or give the tokens as a list"
        ) from None
    encoded = Tokenizer.from_file(str(tokenizer)).encode(text, add_special_tokens=False)
    return [decode_byte_level(token) for token in encoded.tokens]
