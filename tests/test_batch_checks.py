"""Checks made on a whole list or a whole text at once (#45) say what the checks of one
value at a time say: the same values kept, the same ones refused (then named by the
per-value path). Compared here against the per-value checks themselves, on generated
values including every edge the per-value checks know (NUL, surrogates, control
characters, 64-bit bounds, NaN, infinity, the largest readable double)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuitbase.errors import RecordError
from circuitbase.schema.records import INT64, LARGEST_READABLE_FLOAT, check_property, check_text
from circuitbase.sources import files

EDGE_TEXT = st.sampled_from(["", "a", "\x00", "\ud800", "\x1b[31m", "\x7f", "é", " the"])
EDGE_NUMBERS = st.sampled_from(
    [0, 1, -1, *INT64, INT64[1] + 1, INT64[0] - 1, 0.5, math.nan, math.inf, -math.inf]
    + [LARGEST_READABLE_FLOAT, 1.7976931348623157e308, True, False]
)
VALUES = st.one_of(
    st.text(max_size=6), EDGE_TEXT, st.integers(), st.floats(), EDGE_NUMBERS, st.booleans()
)


def one_at_a_time(name: str, values: list) -> list | str:
    """The per-value rules, applied item by item (what check_property did for every list)."""
    try:
        items = [check_property(name, v) for v in values]  # each scalar by the scalar rules
    except RecordError as err:
        return f"refused: {err.reason}"
    kinds = {
        "bool" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "str"
        for v in items
    }
    if len(kinds) > 1:
        return "refused: mixed"
    return [float(v) for v in items] if any(isinstance(v, float) for v in items) else items


@settings(max_examples=400, deadline=None)
@given(st.lists(VALUES, max_size=8), st.sampled_from(["name", "text"]))
def test_a_list_checked_whole_keeps_and_refuses_what_each_value_would(values, name) -> None:
    expected = one_at_a_time(name, values)
    try:
        found: list | str = check_property(name, values)  # type: ignore[assignment]
    except RecordError as err:
        found = f"refused: {err.reason}"
    if isinstance(expected, str):
        assert isinstance(found, str), (values, found)
    else:
        assert found == expected and [type(v) for v in found] == [type(v) for v in expected]


NUMBER_TEXTS = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1e308", "1e309", "-1e400", "1E+308", "2e-400", "9223372036854775807"]).map(
        str
    ),
    st.sampled_from(["9223372036854775808", "-9223372036854775809", "1" + "0" * 400]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(NUMBER_TEXTS, max_size=5), st.sampled_from(["[{}]", '{{"a": [{}]}}']))
def test_numbers_read_whole_are_the_numbers_read_one_by_one(numbers, shape) -> None:
    text = shape.format(", ".join(numbers)).encode()
    try:
        expected = files._checking_decoder().decode(text.decode())
    except ValueError as err:
        expected = f"refused: {err}"
    try:
        found = files.parse_json(text, "numbers.json")  # type: ignore[arg-type]
    except RecordError as err:
        found = f"refused: {err.reason}"
    if isinstance(expected, str):
        assert found == expected  # the same refusal, naming the same number
    else:
        assert json.dumps(found) == json.dumps(expected)


def test_a_refused_list_names_the_value_that_failed() -> None:
    with pytest.raises(RecordError, match="NUL"):
        check_property("name", ["fine", "bad\x00", "fine"])
    with pytest.raises(RecordError, match="does not fit in 64 bits"):
        check_property("values", [1, 2**63])
    with pytest.raises(RecordError, match="not a finite number"):
        check_property("values", [0.5, math.inf])
    assert check_text("ok", "name") == "ok"
