"""Reading foreign files safely: size limits, line numbers, and errors that say where.

Every adapter reads through these helpers so that a malformed file, a wrong
type or a NaN is reported the same way everywhere: file, record (line or
index) and field.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import math
import stat
import zlib
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..schema.records import INT64, RecordError, record_error
from ..settings import max_file_bytes

Model = TypeVar("Model", bound=BaseModel)


def check_size(path: Path) -> None:
    """A regular file (through links) within the size limit: a device such as /dev/zero
    reports size 0 and never ends."""
    try:
        info = Path(path).stat()
    except OSError as err:
        raise RecordError(f"cannot read: {err.strerror}", file=str(path)) from None
    if not stat.S_ISREG(info.st_mode):
        raise RecordError("not a regular file (a device, pipe or folder)", file=str(path))
    size, limit = info.st_size, max_file_bytes()
    if size > limit:
        raise RecordError(
            f"file is {size:,} bytes, over the {limit:,}-byte limit "
            "(set CIRCUITBASE_MAX_FILE_BYTES to raise it)",
            file=str(path),
        )


def read_bytes(path: Path) -> bytes:
    check_size(path)
    limit = max_file_bytes()
    with open(path, "rb") as handle:  # a file that grew since it was measured is cut off
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise RecordError(f"file is over the {limit:,}-byte limit", file=str(path))
    return data


def file_hash(path: Path) -> str:
    """`content_hash` of a file, read in pieces (a file read row by row is never held
    whole); checked like every read."""
    check_size(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while piece := handle.read(1 << 20):
            digest.update(piece)
    return "sha256:" + digest.hexdigest()


def read_text(path: Path) -> str:
    data = read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RecordError(f"not UTF-8 text: {err}", file=str(path)) from None


def read_json(path: Path) -> Any:
    return parse_json(read_bytes(path), path)


def parse_json(data: bytes, path: Path) -> Any:
    """JSON already read (when the bytes are also hashed); errors name `path`.

    Numbers are checked on the text first, all at once: a text with no run of 19 or more
    digits and no exponent of three digits holds no number past 64 bits or past a
    double's range, so the C scanner's own number parsing reads it (a Python call per
    number was a fifth of planning a feature export); a text that may hold one is read by
    the decoder that checks every number and names the one that fails."""
    try:
        text = data.decode(json.detect_encoding(data))
        decoder = _checking_decoder() if _may_overflow(text) else _decoder()
        return decoder.decode(text)
    except UnicodeDecodeError as err:
        raise RecordError(f"not UTF-8 text: {err}", file=str(path)) from None
    except json.JSONDecodeError as err:
        raise RecordError(
            f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}", file=str(path)
        ) from None
    except ValueError as err:
        raise RecordError(str(err), file=str(path)) from None
    except RecursionError:
        raise RecordError("JSON nested too deeply to read", file=str(path)) from None


MAX_LINE_BYTES = 64 << 20  # one JSON Lines record


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, value) of each line of a JSON Lines file, gzipped or not, read as a
    stream: a file of any number of lines is held a line at a time. What it unpacks to is
    held to the file size limit too (a small gzip file can unpack to terabytes)."""
    check_size(path)
    opener = gzip.open if Path(path).suffix == ".gz" else open
    unpacked, limit = 0, max_file_bytes()
    try:
        with opener(path, "rb") as handle:
            for number, line in enumerate(
                iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1
            ):
                unpacked += len(line)
                if len(line) > MAX_LINE_BYTES or unpacked > limit:
                    raise RecordError(
                        f"line {number} is over the {MAX_LINE_BYTES:,}-byte limit "
                        if len(line) > MAX_LINE_BYTES
                        else f"unpacks to over the {limit:,}-byte limit",
                        file=str(path),
                        record=f"line {number}",
                    )
                if line.strip():
                    try:
                        yield number, parse_json(line, path)
                    except RecordError as err:
                        raise err.located(record=f"line {number}") from None
    except (OSError, EOFError, zlib.error) as err:
        raise RecordError(f"cannot read: {err}", file=str(path)) from None


# Every ASCII digit as 0, so that what follows is a plain substring search (a regular
# expression over each line was a tenth of planning a feature export).
_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")
# a digit run long enough to pass 64 bits (19 digits may: 9223372036854775808), or an
# exponent of three digits or more (e308 may pass a double's range)
_MAY_OVERFLOW = ("0" * 19, "e000", "e+000", "e-000", "E000", "E+000", "E-000")


def _may_overflow(text: str) -> bool:
    """Whether `text` may hold a number past 64 bits or past a double's range: then every
    number must be checked one by one. JSON numbers are ASCII digits."""
    zeros = text.translate(_DIGITS_AS_ZERO)
    return any(pattern in zeros for pattern in _MAY_OVERFLOW)


@cache
def _decoder() -> json.JSONDecoder:
    """One decoder for every file: `json.loads` with these options builds a new one per
    call, and a file read a line at a time would build one per line. Its numbers are the
    C scanner's (ASCII digits only); NaN and Infinity are refused, as is a repeated key."""
    return json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


@cache
def _checking_decoder() -> json.JSONDecoder:
    """The decoder for text `_may_overflow` finds: every number checked as it is read."""
    return json.JSONDecoder(
        parse_constant=_reject_constant,
        parse_float=_finite_float,
        parse_int=_int64,
        object_pairs_hook=_unique_keys,
    )


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _finite_float(text: str) -> float:
    """`1e999` parses as infinity: refused like `Infinity` itself."""
    if not text.isascii():
        raise ValueError(f"{text[:40]!r} is not a number written in ASCII digits")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is not a finite number")
    return value


def _int64(text: str) -> int:
    """Every number a store keeps fits in 64 bits; a longer one is refused while reading
    (Python would happily read a million digits)."""
    if len(text) > 20:
        raise ValueError(f"the number {text[:20]}... does not fit in 64 bits")
    if not text.isascii():
        raise ValueError(f"{text!r} is not a number written in ASCII digits")
    value = int(text)
    if not INT64[0] <= value <= INT64[1]:
        raise ValueError(f"the number {text} does not fit in 64 bits")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object that names a key twice is refused: JSON readers keep one of the two
    values (Python the last), so the file would say two things and be read as one."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key[:80]!r} appears twice in one object")
            seen.add(key)
    return found


@contextmanager
def _csv_reader(path: Path) -> Iterator[csv.DictReader]:
    """A CSV reader of a checked file; decoding and CSV errors name the file. A UTF-8
    byte-order mark is allowed."""
    check_size(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            yield csv.DictReader(handle)
    except UnicodeDecodeError as err:
        raise RecordError(f"not UTF-8 text: {err}", file=str(path)) from None
    except csv.Error as err:
        raise RecordError(f"malformed CSV: {err}", file=str(path)) from None


def csv_header(path: Path) -> list[str]:
    """A CSV's column names (its first line), for adapters that tell tables apart by them."""
    with _csv_reader(path) as reader:
        return list(reader.fieldnames or [])


def read_csv(
    path: Path,
    required: set[str] | None = None,
    *,
    known: AbstractSet[str] | None = None,
    what: str = "table",
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows with their line numbers (the header is line 1). A header that names a column
    twice, or (given `known`) a column this `what` does not have, is refused: its values
    would otherwise be lost without a word."""
    with _csv_reader(path) as reader:
        header = list(reader.fieldnames or [])
        columns = set(header)
        twice = sorted({name for name in header if header.count(name) > 1})
        if twice:
            raise RecordError(
                f"column(s) {', '.join(map(repr, twice))} appear more than once in the header",
                file=str(path),
                record="line 1",
                field=twice[0],
            )
        unknown = sorted(columns - known) if known is not None else []
        if unknown:
            raise RecordError(
                f"unknown column(s) {', '.join(map(repr, unknown))} for a {what}; "
                f"its columns are {', '.join(sorted(known or ()))}",
                file=str(path),
                record="line 1",
                field=unknown[0],
            )
        missing = sorted((required or set()) - columns)
        if missing:
            raise RecordError(
                f"missing column(s) {', '.join(missing)}; the header has "
                f"{', '.join(reader.fieldnames or []) or 'nothing'}",
                file=str(path),
                record="line 1",
            )
        for row in reader:
            if None in row:
                raise RecordError(
                    f"{len(row) - 1 + len(row[None])} values for {len(columns)} columns",
                    file=str(path),
                    record=f"line {reader.line_num}",
                )
            if any(value is None for value in row.values()):
                raise RecordError(
                    "fewer values than columns (truncated row?)",
                    file=str(path),
                    record=f"line {reader.line_num}",
                )
            for name, value in row.items():
                if "\x00" in value:
                    raise RecordError(
                        "text with a NUL character (\\x00) cannot be stored",
                        file=str(path),
                        record=f"line {reader.line_num}",
                        field=name,
                    )
            yield reader.line_num, row


def validate(model: type[Model], data: Any, *, file: Path | str, record: str) -> Model:
    """Validate one record with pydantic, naming file, record and field on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise record_error(err, file=str(file), record=record) from None
