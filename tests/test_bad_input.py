"""The bad-input corpus that cuts across formats: duplicates, unicode, very long strings,
Cypher injection through values, uids and labels, and fuzzed files.

Each format's own malformed rows, NaN/inf, wrong types and out-of-range indices are
in its own test module (test_probes, test_n2g, test_heads, test_circuits); here
every case also checks the graph is exactly as it was (a content hash) afterwards.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import cli, count, graph_fingerprint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from n2g_fixtures import CONFIG, MODEL, VOCAB, write_fixtures

from circuitbase.ingest import ingest
from circuitbase.ingest.pipeline import ingest_files
from circuitbase.queries import run_template
from circuitbase.schema import ModelSpec, RecordError
from circuitbase.sources.circuits import circuit_records
from circuitbase.sources.heads import heads_records
from circuitbase.sources.models import model_records
from circuitbase.sources.n2g.records import n2g_records
from circuitbase.sources.probes import probe_records

PROBES_HEADER = "model,layer,neuron,feature,category,k,precision,recall,f1,accuracy,mcc,dataset\n"
INJECTION = "x'}) MATCH (n) DETACH DELETE n //"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def baseline(store, tmp_path):
    """A store with some facts in it, so that 'nothing changed' means something."""
    ingest_files(
        store,
        [write(tmp_path, "base.csv", PROBES_HEADER + "pythia-70m,1,5,de,lang,1,,,0.8,,,\n")],
        probe_records,
    )
    return store


CORPUS = [
    # (reader, file name, content, what the error must say)
    (
        probe_records,
        "dupe.csv",
        PROBES_HEADER + "pythia-70m,1,2,fr,lang,1,,,0.9,,,\npythia-70m,1,2,fr,lang,1,,,0.7,,,\n",
        r"dupe\.csv, line 3.*duplicate ENCODES.*different values",
    ),
    (
        probe_records,
        "long.csv",
        PROBES_HEADER + f"pythia-70m,1,2,{'x' * 5000},lang,1,,,0.9,,,\n",
        r"long\.csv.*line 2.*feature.*at most 200 characters",
    ),
    (probe_records, "latin1.csv", None, r"latin1\.csv.*not UTF-8"),
    (
        probe_records,
        "negative.csv",
        PROBES_HEADER + "pythia-70m,-1,2,fr,lang,1,,,0.9,,,\n",
        r"negative\.csv.*line 2.*layer",
    ),
    (
        heads_records,
        "types.json",
        json.dumps(
            {
                "heads": [
                    {
                        "model": "gpt2-small",
                        "layer": 5,
                        "head": 1,
                        "role": "induction",
                        "score": "high",
                    }
                ]
            }
        ),
        r"types\.json.*heads\[0\].*score",
    ),
    (
        heads_records,
        "inf.json",
        '{"heads": [{"model": "gpt2-small", "layer": 5, "head": 1, '
        '"role": "induction", "score": Infinity}]}',
        r"inf\.json.*Infinity",
    ),
    (
        circuit_records,
        "uid.json",
        json.dumps(
            {
                "model": "gpt2-small",
                "task": {"name": "t"},
                "output_nodes": [{"component": "L1H1" + INJECTION}],
            }
        ),
        r"uid\.json.*output_nodes\[0\].*component.*not a component uid",
    ),
    (
        circuit_records,
        "truncated.json",
        '{"model": "gpt2-small", "task": {"name": "t"}, "outp',
        r"truncated\.json.*malformed JSON",
    ),
    (circuit_records, "list.json", "[1, 2, 3]", r"list\.json"),
]


@pytest.mark.parametrize("reader, name, content, message", CORPUS, ids=[case[1] for case in CORPUS])
def test_bad_input_is_refused_and_the_graph_is_exactly_as_it_was(
    baseline, tmp_path, reader, name, content, message
) -> None:
    path = tmp_path / name
    if content is None:  # not UTF-8
        path.write_bytes(
            (PROBES_HEADER + "pythia-70m,1,2,caf\xe9,lang,1,,,0.9,,,\n").encode("latin-1")
        )
    else:
        path.write_text(content, encoding="utf-8")
    before = graph_fingerprint(baseline)
    with pytest.raises(RecordError, match=message):
        ingest_files(baseline, [path], reader)
    assert graph_fingerprint(baseline) == before


def test_every_bad_file_among_many_is_named_and_a_disagreement_by_its_own_file(
    baseline, tmp_path
) -> None:
    """Records of small files are checked in batches that span files: a record that
    disagrees with one of an earlier file is still reported with its own file, beside
    every file that could not be read, and nothing is written."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    row = "pythia-70m,1,{},f{},lang,1,,,0.9,,,\n"
    paths = [write(tmp_path, f"ok{i:02}.csv", PROBES_HEADER + row.format(i, i)) for i in range(30)]
    # the same file name in two folders: one analysis uid, two contents
    paths.insert(0, write(tmp_path / "a", "probes.csv", PROBES_HEADER + row.format(2, "x")))
    paths.append(write(tmp_path / "b", "probes.csv", PROBES_HEADER + row.format(3, "y")))
    unreadable = tmp_path / "unreadable.csv"
    unreadable.write_bytes((PROBES_HEADER + row.format(2, "caf\xe9")).encode("latin-1"))
    paths.insert(10, unreadable)
    before = graph_fingerprint(baseline)
    with pytest.raises(RecordError) as refused:
        ingest_files(baseline, paths, probe_records)
    lines = str(refused.value).splitlines()
    assert lines[0].startswith("2 file(s) rejected"), lines
    assert "unreadable.csv" in lines[1] and "not UTF-8" in lines[1]
    assert lines[2].lstrip().startswith(f"file {tmp_path / 'b' / 'probes.csv'}, "), lines[2]
    assert "duplicate Analysis" in lines[2] and "different values" in lines[2]
    assert graph_fingerprint(baseline) == before


def test_the_same_record_twice_is_one_fact(baseline, tmp_path) -> None:
    row = "pythia-70m,1,2,fr,lang,1,,,0.9,,,\n"
    ingest_files(baseline, [write(tmp_path, "twice.csv", PROBES_HEADER + row + row)], probe_records)
    assert count(baseline, "(:Neuron {uid: 'pythia-70m/L1/N2'})-[:ENCODES]->(:Concept)") == 1


def test_unicode_and_injection_in_values_are_stored_as_data(baseline, tmp_path) -> None:
    """Values travel as parameters: a feature named like a Cypher payload is just a name."""
    nodes = count(baseline, "(n)")
    names = ["日本語 ✓", "emoji 🧠", INJECTION, "back`tick", 'quote"s']
    text = io.StringIO()
    csv.writer(text).writerows(
        [
            ["pythia-70m", 2, i, name, "lang", 1, "", "", 0.9, "", "", ""]
            for i, name in enumerate(names)
        ]
    )
    ingest_files(
        baseline, [write(tmp_path, "odd.csv", PROBES_HEADER + text.getvalue())], probe_records
    )
    stored = {r["name"] for r in baseline.read("MATCH (c:Concept) RETURN c.name AS name")}
    assert set(names) <= stored
    assert count(baseline, "(n)") == nodes + len(names) * 2 + 1  # concepts, neurons, analysis
    rows = run_template(baseline, "concept_neurons", {"concept": INJECTION})
    assert [r["neuron"] for r in rows] == ["pythia-70m/L2/N2"]


def test_crafted_labels_uids_and_parameters_on_the_command_line(
    baseline, store_uri, tmp_path
) -> None:
    before = graph_fingerprint(baseline)
    out_file = str(tmp_path / "x.graphml")
    code, out = cli(
        store_uri,
        "export",
        "--around",
        "pythia-70m/L1/N5",
        "--label",
        "Neuron) DETACH DELETE (n",
        "--format",
        "graphml",
        "--out",
        out_file,
    )
    assert code != 0 and "is not one of" in out
    code, out = cli(store_uri, "similar", "pythia-70m/L1/N5" + INJECTION)
    assert code != 0 and "not a component uid" in out
    code, out = cli(store_uri, "similar", "pythia-70m/L1/N6")
    assert code != 0 and "pythia-70m/L1/N6 is not in the store" in out
    code, out = cli(
        store_uri,
        "query",
        "run",
        "neuron_concepts",
        "--param",
        f"uid={INJECTION}",
        "--format",
        "json",
    )
    assert code == 1 and "not a component uid" in out  # a value, parsed: never Cypher
    code, out = cli(store_uri, "ingest", "probes", str(tmp_path / "missing.csv"))
    assert code != 0
    code, out = cli(
        store_uri,
        "ingest",
        "probes",
        "--analysis",
        "a}) DETACH DELETE (n",
        str(write(tmp_path, "ok.csv", PROBES_HEADER + "pythia-70m,1,7,fr,lang,1,,,0.9,,,\n")),
    )
    assert code != 0 and "uid" in out
    assert graph_fingerprint(baseline) == before


# Fuzzing: whatever bytes a file holds, reading it gives records or a RecordError,
# never another exception (a crash would leave the user with a traceback, not a message).
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "model",
                    "task",
                    "heads",
                    "probes",
                    "output_nodes",
                    "edges",
                    "layer",
                    "head",
                    "role",
                    "score",
                    "component",
                    "name",
                    "neurons",
                    "feature",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def _read_or_refuse(reader, path: Path) -> None:
    try:
        list(reader(path))
    except RecordError:
        pass


@FUZZ
@given(text=st.text(max_size=300))
def test_fuzzed_csv_is_read_or_refused(tmp_path, text: str) -> None:
    path = write(tmp_path, "fuzz.csv", PROBES_HEADER + text)
    _read_or_refuse(probe_records, path)
    _read_or_refuse(
        heads_records,
        write(tmp_path, "fuzz_heads.csv", "model,layer,head,role,score,method\n" + text),
    )


@FUZZ
@given(value=JSON_VALUES)
def test_fuzzed_json_is_read_or_refused(tmp_path, value) -> None:
    path = write(tmp_path, "fuzz.json", json.dumps(value))
    for reader in (probe_records, heads_records, circuit_records):
        _read_or_refuse(reader, path)


def test_n2g_tokens_in_any_script_are_kept_exactly_and_huge_ones_refused(store, tmp_path) -> None:
    files = write_fixtures(tmp_path)
    ingest(store, model_records(ModelSpec.from_tl_config(CONFIG)))
    graph = files["graphs"] / "1_42.json"
    odd = [
        " Pa\u0301ris 🧠" if t == " Paris" else "\u3000東京" if t == " London" else t for t in VOCAB
    ]
    ingest_files(store, [graph], lambda p: n2g_records(p, vocab=odd, model=MODEL))
    texts = {r["text"] for r in store.read("MATCH (t:Token) RETURN t.text AS text")}
    assert {" Pa\u0301ris 🧠", "\u3000東京"} <= texts and " Paris" not in texts

    before = graph_fingerprint(store)
    huge = [("x" * 5000 if t == " Paris" else t) for t in VOCAB]
    with pytest.raises(RecordError, match=r"1_42\.json.*at most 1000 characters"):
        ingest_files(store, [graph], lambda p: n2g_records(p, vocab=huge, model=MODEL))
    assert graph_fingerprint(store) == before
