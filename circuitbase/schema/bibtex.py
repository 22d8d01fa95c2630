"""A user's citation given as a BibTeX entry: parsed, checked and written anew.

An entry is read with pybtex and kept only as what it says (type, key, fields, people),
never as the text it came as: a second entry, a `@preamble` (which LaTeX runs), a
`@string` macro, text around the entry, or a field that calls a TeX command beyond
accents and escapes (`\\input{/etc/passwd}` would typeset a local file into a paper) is
refused. The key keeps to a safe alphabet, so it can be spliced into `\\cite{...}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:.+-]{0,99}")
_KIND = re.compile(r"[A-Za-z]{1,40}")
_DIRECTIVE = re.compile(r"@\s*(preamble|string|comment)\b", re.IGNORECASE)
_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)
# What a bibliography needs of TeX: accents, escaped specials, a few letters and styles.
SAFE_COMMANDS = frozenset(
    "' ` ^ \" ~ = . , ; : ! - & % $ # _ { } / @ \\ u v H c d b t r k "
    "ss o O l L ae AE oe OE aa AA i j dh DH th TH ng NG "
    "emph textit textbf textsc textrm textsf texttt textsuperscript textsubscript "
    "textendash textemdash textquoteleft textquoteright ldots dots LaTeX TeX BibTeX "
    "mathrm mathit mathbf mathcal alpha beta gamma delta epsilon lambda mu sigma pi "
    "times cdot leq geq ell url".split()
)


@dataclass(frozen=True)
class BibEntry:
    kind: str
    key: str
    fields: tuple[tuple[str, str], ...]  # people fields ("author", "editor") included


def _checked_value(name: str, value: str) -> str:
    for command in _COMMAND.findall(value):
        if command not in SAFE_COMMANDS:
            raise ValueError(
                f"BibTeX field {name!r} calls the TeX command \\{command[:40]}, "
                "which a citation may not (only accents, escapes and text styles)"
            )
    if "^^" in value:
        raise ValueError(f"BibTeX field {name!r} holds a TeX character code (^^)")
    if not _balanced(value):
        raise ValueError(f"BibTeX field {name!r} has unbalanced braces")
    return value


def _balanced(text: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def parse_entry(text: str) -> BibEntry:
    """The one BibTeX entry `text` is; ValueError saying why it is not one we can write."""
    from pybtex.database import parse_string
    from pybtex.scanner import PybtexError

    if not _balanced(text):
        raise ValueError(
            "a citation that starts with @ must be one whole BibTeX entry "
            "(@type{key, field = {...}, ...} with balanced braces)"
        )
    if found := _DIRECTIVE.search(text):
        raise ValueError(f"a citation may not hold @{found.group(1).lower()} (one entry only)")
    try:
        data = parse_string(text, "bibtex")
    except (PybtexError, ValueError, IndexError, KeyError) as err:
        raise ValueError(
            f"not a BibTeX entry pybtex can read: {str(err).splitlines()[0][:200]}"
        ) from None
    if len(data.entries) != 1:
        raise ValueError(f"a BibTeX citation is one entry, this text has {len(data.entries)}")
    key, entry = next(iter(data.entries.items()))
    if SAFE_KEY.fullmatch(key) is None:
        raise ValueError(
            f"BibTeX key {key[:60]!r} must be letters, digits and _:.+- "
            "(it goes into \\cite{...})"
        )
    if _KIND.fullmatch(entry.type) is None:
        raise ValueError(f"BibTeX entry type {entry.type[:40]!r} is not a word")
    fields: list[tuple[str, str]] = []
    for role, people in entry.persons.items():
        fields.append((role.lower(), " and ".join(str(person) for person in people)))
    fields += [(name.lower(), str(value)) for name, value in entry.fields.items()]
    for name, value in fields:
        if _KIND.fullmatch(name.replace("_", "").replace("-", "")) is None:
            raise ValueError(f"BibTeX field name {name[:40]!r} is not a word")
        _checked_value(name, value)
    return BibEntry(entry.type.lower(), key, tuple(fields))


def format_entry(entry: BibEntry, key: str | None = None) -> str:
    """The entry written anew from its parts (under `key` if given)."""
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in entry.fields)
    return f"@{entry.kind}{{{key or entry.key},\n{body}\n}}\n"
