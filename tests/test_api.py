"""`circuitbase.open()` (#44, part 1): the object a notebook opens. Its answers are the
command line's (the commands are thin wrappers over its methods, held to them here), its
results show as tables and DataFrames, and a DataFrame goes in with the same checks as a
file, on both backends."""

from __future__ import annotations

import json

import pytest
from helpers import cli, count, graph_fingerprint

import circuitbase as cb
from circuitbase.api import KnowledgeBase, Rows
from circuitbase.api.tables import render
from circuitbase.cli.demo import examples_dir
from circuitbase.errors import ReadOnlyViolation, RecordError
from circuitbase.queries import run_template

pandas = pytest.importorskip("pandas", reason="the [pandas] extra")

HEADS_CSV = examples_dir() / "tour" / "gpt2-small_strongest_heads.csv"
HEADVIS = examples_dir() / "head-metrics"


@pytest.fixture
def kb(store, store_uri):
    assert cli(store_uri, "ingest", "heads", str(HEADVIS))[0] == 0
    with cb.open(store_uri) as opened:
        yield opened


def test_a_notebook_gets_the_answers_the_commands_print(kb, store, store_uri) -> None:
    params = {"role": "induction", "source": "neuronpedia-headvis/"}
    heads = kb.query("strongest_heads", **params)
    assert isinstance(heads, Rows) and heads.rows == run_template(store, "strongest_heads", params)
    assert str(heads).splitlines()[-1] == f"({len(heads)} rows)"
    frame = heads.to_pandas()
    assert list(frame.columns) == heads.columns and len(frame) == len(heads) == 14
    code, out = cli(store_uri, "similar", "gpt2-small/L5/H5", "--per-model", "--format", "json")
    assert code == 0
    assert json.loads(out) == json.loads(
        render(kb.similar("gpt2-small/L5/H5", per_model=True).rows, "json")
    )
    code, out = cli(store_uri, "show", "L5H5", "--model", "gpt2", "--format", "json")
    assert json.loads(out) == json.loads(json.dumps(dict(kb.show("L5H5", "gpt2")), default=str))
    assert [row["model"] for row in kb.models()] == [m["uid"] for m in store.models()]
    assert kb.search("induction", kind="HeadRole")[0]["key"] == "induction"
    graph = kb.subgraph(around="gpt2-small/L5/H5").to_networkx()
    assert graph.number_of_nodes() > 1 and "gpt2-small/L5/H5" in str(list(graph.nodes))


def test_results_show_as_html_tables_and_say_why_nothing_answers(kb) -> None:
    rows = Rows([{"name": "<script>alert(1)</script>", "score": 0.123456}], title="a & b")
    shown = rows._repr_html_()
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "0.1235" in shown
    assert "a &amp; b" in shown and "(1 row)" in shown
    nothing = kb.similar("gpt2-small/L5/H5", "gpt2-small")  # no other head of its own model
    assert len(nothing) == 0 and nothing.note and nothing.note in str(nothing)
    page = kb.show("gpt2-small/L5/H5")._repr_html_()
    assert "MEASURED_BY" in page and "induction_score" in page


def test_a_dataframe_goes_in_with_the_files_checks(store, store_uri) -> None:
    frame = pandas.read_csv(HEADS_CSV)
    with cb.open(store_uri) as kb:
        done = kb.ingest(frame, format="heads", analysis_uid="heads/from-a-notebook")
        assert done[0]["relationships_created"] > 0
        stored = count(
            store, "()-[r:HAS_ROLE]->() WHERE r.analysis = $a", a="heads/from-a-notebook"
        )
        assert stored == len(frame)
        before = graph_fingerprint(store)
        for column, value, row in (("score", float("nan"), 3), ("layer", 99, 5)):
            bad = frame.copy()
            bad.loc[row, column] = value
            with pytest.raises(RecordError) as raised:
                kb.ingest(bad, format="heads", analysis_uid="heads/bad")
            said = str(raised.value)
            assert "DataFrame" in said and f"row {row}" in said, said
        with pytest.raises(RecordError, match="format= is one of"):
            kb.ingest(frame, format="head")
        assert graph_fingerprint(store) == before


def test_read_only_refuses_every_change(store, store_uri) -> None:
    assert cli(store_uri, "ingest", "heads", str(HEADS_CSV))[0] == 0
    before = graph_fingerprint(store)
    with cb.open(store_uri, read_only=True) as kb:
        assert kb.query("strongest_heads", role="previous-token")
        with pytest.raises(ReadOnlyViolation):
            kb.ingest(HEADS_CSV, format="heads")
        with pytest.raises(ReadOnlyViolation):
            kb.remove_analysis("heads/gpt2-small/gpt2-small_strongest_heads")
    assert graph_fingerprint(store) == before


# each command that asks or changes the knowledge, and the method it wraps
COMMANDS = {
    "similar": (["similar", "gpt2-small/L5/H5"], "similar"),
    "show": (["show", "gpt2-small/L5/H5"], "show"),
    "search": (["search", "induction"], "search"),
    "query run": (["query", "run", "strongest_heads"], "query"),
    "query run --cypher": (["query", "run", "--cypher", "RETURN 1 AS one"], "cypher"),
    "model list": (["model", "list"], "models"),
    "analysis list": (["analysis", "list"], "analyses"),
    "model remove": (["model", "remove", "gpt2-small", "--yes"], "remove_model"),
    "analysis remove": (
        ["analysis", "remove", "heads/gpt2-small/gpt2-small_strongest_heads", "--yes"],
        "remove_analysis",
    ),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_is_a_thin_wrapper_over_its_method(command, store_uri, monkeypatch) -> None:
    assert cli(store_uri, "ingest", "heads", str(HEADS_CSV))[0] == 0
    args, method = COMMANDS[command]
    called = []
    original = getattr(KnowledgeBase, method)

    def spy(self, *a, **k):  # type: ignore[no-untyped-def]
        called.append(method)
        return original(self, *a, **k)

    monkeypatch.setattr(KnowledgeBase, method, spy)
    code, out = cli(store_uri, *args)
    assert code == 0, out
    assert called == [method]


def test_a_transformerlens_model_goes_in_as_its_shape(store, store_uri) -> None:
    pytest.importorskip("transformer_lens", reason="needs the [analysis] extra")
    from transformer_lens import HookedTransformerConfig

    cfg = HookedTransformerConfig(
        n_layers=2,
        d_model=16,
        n_ctx=8,
        d_head=4,
        n_heads=4,
        d_mlp=32,
        d_vocab=20,
        act_fn="relu",
        model_name="toy-notebook",
    )
    with cb.open(store_uri) as kb:
        kb.ingest(cfg, components="heads")
        kb.ingest(cfg, name="toy-notebook", revision="step5")
        with pytest.raises(RecordError, match="components= takes"):
            kb.ingest(cfg, components="head")
    stored = {m["uid"]: m for m in store.models()}
    assert stored["toy-notebook"]["n_layers"] == 2 and stored["toy-notebook"]["d_mlp"] == 32
    assert stored["toy-notebook@step5"]["step"] == 5
    assert count(store, "(:AttentionHead {model: 'toy-notebook'})") == 8
