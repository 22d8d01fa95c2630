"""Compact features (issue #45, item 2): the lists of a feature's evidence (logits,
histograms, each activation example's tokens and values) are stored one text each
(schema/packing.py), without loss, and every reader above the store sees lists as before.

The round trip is checked on every kind of value a list may hold (hypothesis), the real
export and dashboards against their files read directly, on both backends; the raw store
holds texts (what `query run --cypher` shows); and a text that would read back as a list
is refused, one line, nothing written."""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

from conftest import DATA
from helpers import cli, graph_fingerprint
from hypothesis import given
from hypothesis import strategies as st

from circuitbase.queries.show import show
from circuitbase.schema.packing import MARK, pack, unpack

EXPORT = Path(__file__).parent.parent / "circuitbase/examples/tour/neuronpedia-export"
SOURCE = EXPORT / "gpt2-small" / "0-res-jb"
DASHBOARD = DATA / "saedashboard" / "batch-0.json"

_text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))
_lists = st.one_of(
    st.lists(st.floats(allow_nan=False, allow_infinity=False)),
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    st.lists(_text),
    st.lists(st.booleans()),
)


def _same(a: object, b: object) -> bool:
    """Equal, of the same types, and -0.0 kept as -0.0."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), _lists), st.integers())
def test_every_list_reads_back_as_it_was(lists: dict[str, list], number: int) -> None:
    props = {**lists, "number": number, "text": "kept as it is"}
    stored = pack(props)
    assert all(isinstance(v, str) and v.startswith(MARK) for k, v in stored.items() if k in lists)
    assert _same(unpack(stored), props)


def _examples() -> dict[str, dict]:
    with gzip.open(SOURCE / "activations" / "batch-0.jsonl.gz", "rt") as handle:
        return {row["id"]: row for row in map(json.loads, handle)}


def test_an_export_s_examples_are_stored_packed_and_shown_as_the_file_has_them(
    store, store_uri
) -> None:
    code, out = cli(store_uri, "ingest", "features", str(SOURCE))
    assert code == 0, out
    raw = store.read(
        "MATCH (:Feature)-[x:HAS_EXAMPLE]->() RETURN x.tokens AS tokens, x.values AS values LIMIT 5"
    )
    assert raw and all(r["tokens"].startswith(MARK + "s[") for r in raw)
    assert all(r["values"].startswith(MARK + "f") for r in raw)
    examples = _examples()
    checked = 0
    for index in sorted({row["index"] for row in examples.values()}):
        found = show(store, f"gpt2-small/L0/res-jb/F{index}")["evidence"]
        for shown in found["examples"]:
            row = examples[shown["example"]]
            assert shown["tokens"] == row["tokens"] and shown["values"] == row["values"]
            assert shown["max_index"] == row["maxValueTokenIndex"]
            checked += 1
        stats = found["statistics"][0]
        assert isinstance(stats["pos_str"], list) and isinstance(stats["pos_values"], list)
    assert checked == len(examples)


def test_a_text_that_would_read_back_as_a_list_is_refused(store, store_uri, tmp_path) -> None:
    """A dashboard example's free text (`prompt`) beginning with ASCII's record
    separator: stored, it would be read back as a list. Refused, one line naming the
    file, record and field; nothing written."""
    rows = json.loads(DASHBOARD.read_text())
    rows["features"][0]["activations"][0]["prompt"] = MARK + "f1,2,3"
    bad = tmp_path / "batch-0.json"
    bad.write_text(json.dumps(rows))
    before = graph_fingerprint(store)
    code, out = cli(store_uri, "ingest", "features", str(bad))
    assert code == 1 and out.count("error:") == 1, out
    assert "batch-0.json" in out and "prompt" in out and "record separator" in out, out
    assert graph_fingerprint(store) == before


def test_a_feature_s_export_goes_back_into_its_store_and_an_edited_one_is_refused(
    store, store_uri, tmp_path
) -> None:
    """An export of a feature imported into the store it came from changes nothing (it
    used to be refused on FalkorDB: a total the planner derives again was compared with
    the 15 digits the store reads back). The same file with one example's value changed
    is refused, naming the field and showing the lists, not their packed texts."""
    assert cli(store_uri, "ingest", "features", str(SOURCE))[0] == 0
    exported = tmp_path / "f3.cypher"
    args = ["export", "--around", "gpt2-small/L0/res-jb/F3", "--format", "cypher"]
    assert cli(store_uri, *args, "--out", str(exported))[0] == 0
    before = graph_fingerprint(store)
    code, out = cli(store_uri, "import", "cypher", str(exported))
    assert code == 0, out
    assert graph_fingerprint(store) == before
    lines = exported.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if ":HAS_EXAMPLE " in line)
    lines[at] = re.sub(r"(, values: \[)[^,\]]+", r"\g<1>9.5", lines[at], count=1)
    exported.write_text("\n".join(lines) + "\n")
    code, out = cli(store_uri, "import", "cypher", str(exported))
    assert code == 1 and out.count("error:") == 1, out
    assert "field 'values'" in out and "[9.5" in out and MARK not in out, out
    assert graph_fingerprint(store) == before
