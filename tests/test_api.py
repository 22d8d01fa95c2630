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


# each command that asks or changes the knowledge, the method it wraps, and (where
# running it needs a model, a GPU or N2G graphs) the rows the spy answers with instead:
# the command's own printing runs on them either way. `{tmp}`: the test's folder.
CHANGED = {
    "what": "x",
    "files": 0,
    "nodes_checked": 1,
    "relationships_checked": 1,
    "nodes_created": 0,
    "relationships_created": 0,
    "relationships_deleted": 0,
}
COMMANDS: dict[str, tuple[list[str], str, list[dict] | None]] = {
    "similar": (["similar", "gpt2-small/L5/H5"], "similar", None),
    "show": (["show", "gpt2-small/L5/H5"], "show", None),
    "search": (["search", "induction"], "search", None),
    "query run": (["query", "run", "strongest_heads"], "query", None),
    "query run --cypher": (["query", "run", "--cypher", "RETURN 1 AS one"], "cypher", None),
    "model list": (["model", "list"], "models", None),
    "analysis list": (["analysis", "list"], "analyses", None),
    "model remove": (["model", "remove", "gpt2-small", "--yes"], "remove_model", None),
    "analysis remove": (
        ["analysis", "remove", "heads/gpt2-small/gpt2-small_strongest_heads", "--yes"],
        "remove_analysis",
        None,
    ),
    "ingest heads": (["ingest", "heads", str(HEADS_CSV)], "ingest", None),
    "ingest vectors": (
        ["ingest", "vectors", "{tmp}/vectors.json", "--model", "gpt2-small"],
        "ingest_vectors",
        None,
    ),
    "import graphml": (["import", "graphml", "{tmp}/heads.graphml"], "import_", None),
    "export": (
        ["export", "--around", "gpt2-small/L5/H5", "--format", "json", "--out", "{tmp}/o.json"],
        "export",
        None,
    ),
    "model add": (["model", "add", "pythia-70m"], "add_model", None),
    "stats": (["stats"], "stats", None),
    "check": (["check"], "check", None),
    "similarity compute": (
        ["similarity", "compute", "--models", "gpt2-small", "pythia-70m", "--metric", "tokens"],
        "compute_similarity",
        [CHANGED],
    ),
    "similarity fine-tuning": (
        ["similarity", "fine-tuning", "gpt2-small", "--base", "gpt2"],
        "fine_tuning",
        [{"model": "gpt2-small", "base": "gpt2", "fraction": 1.0}],
    ),
    "n2g predict": (
        ["n2g", "predict", "gpt2-small/L1/N42", "--tokens", '[" Paris"]'],
        "predict",
        [{"position": 0, "token": " Paris", "activation": 0.5}],
    ),
    "analyze heads": (["analyze", "heads", "gpt2-small"], "analyze_heads", [CHANGED]),
    "analyze probe": (
        ["analyze", "probe", "gpt2-small", "--concept-data", str(HEADS_CSV)],
        "analyze_probe",
        [CHANGED],
    ),
    "analyze correlate": (
        ["analyze", "correlate", "gpt2-small", "pythia-70m", "--text-data", str(HEADS_CSV)],
        "analyze_correlate",
        [CHANGED],
    ),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_is_a_thin_wrapper_over_its_method(
    command, store_uri, tmp_path, monkeypatch
) -> None:
    assert cli(store_uri, "ingest", "heads", str(HEADS_CSV))[0] == 0
    (tmp_path / "vectors.json").write_text(json.dumps({"vectors": {"L5H5": [1.0, 0.0]}}))
    exported = ["export", "--around", "gpt2-small/L5/H5", "--format", "graphml"]
    assert cli(store_uri, *exported, "--out", str(tmp_path / "heads.graphml"))[0] == 0
    args, method, answer = COMMANDS[command]
    called = []
    original = getattr(KnowledgeBase, method)

    def spy(self, *a, **k):  # type: ignore[no-untyped-def]
        called.append(method)
        return Rows(answer) if answer is not None else original(self, *a, **k)

    monkeypatch.setattr(KnowledgeBase, method, spy)
    code, out = cli(store_uri, *(arg.replace("{tmp}", str(tmp_path)) for arg in args))
    assert code == 0, out
    assert called == [method]


def test_every_knowledge_command_is_held_to_a_method() -> None:
    """A new command that asks or changes the knowledge joins COMMANDS (and so has its
    method); only these stay outside: the servers, the schema listing, store setup and
    the demo."""
    from circuitbase.cli import main

    def leaves(group, prefix=()):  # type: ignore[no-untyped-def]
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from leaves(command, (*prefix, name))
            else:
                yield " ".join((*prefix, name))

    outside = {"server", "serve", "schema", "init", "demo"}
    held = {c.split(" --")[0] for c in COMMANDS}
    wanted = {c for c in leaves(main) if c.split()[0] not in outside}
    formats_ = {c for c in wanted if c.split()[0] in ("ingest", "import")}
    assert wanted - formats_ <= held, sorted(wanted - formats_ - held)
    assert {"ingest heads", "ingest vectors", "import graphml"} <= held


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


def test_vectors_go_in_as_arrays_checked_as_a_files_are(store, store_uri) -> None:
    numpy = pytest.importorskip("numpy")
    decoder = numpy.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    with cb.open(store_uri) as kb:
        kb.add_model("gpt2-small")
        done = kb.ingest_vectors(decoder, "gpt2-small", components=["L5H5", "L5H1"])
        assert done[0]["components"] == 2 and done[0]["dimension"] == 3
        before = graph_fingerprint(store)
        bad = decoder.copy()
        bad[1, 2] = float("nan")
        with pytest.raises(RecordError, match="row 1"):
            kb.ingest_vectors(bad, "gpt2-small", components=["L5H5", "L5H2"])
        with pytest.raises(RecordError, match="one row per component"):
            kb.ingest_vectors(decoder, "gpt2-small", components=["L5H5"])
        with pytest.raises(RecordError, match="layer 99 is out of range"):
            kb.ingest_vectors({"L99H5": numpy.ones(3)}, "gpt2-small")
        assert graph_fingerprint(store) == before


def test_a_typed_option_is_named_not_ignored(store_uri) -> None:
    with cb.open(store_uri) as kb, pytest.raises(RecordError, match="analysis_uid"):
        kb.ingest(HEADS_CSV, format="heads", analysis_id="heads/mine")


def test_long_work_shows_its_phases_in_a_notebook(store_uri, monkeypatch, capsys) -> None:
    """In Jupyter without widgets each phase prints a line as it ends (with widgets,
    rich draws its bar in the cell); in a terminal the bar goes to stderr."""
    from circuitbase.api import progress

    monkeypatch.setattr(progress, "in_jupyter", lambda: True)
    monkeypatch.setattr(progress, "_has_widgets", lambda: False)
    with cb.open(store_uri) as kb:
        kb.ingest(HEADS_CSV, format="heads", progress=True)
    shown = capsys.readouterr().out.splitlines()
    assert any(line.startswith("reading and checking") for line in shown), shown
    writing = [line for line in shown if line.startswith("writing")]
    assert writing and writing[0].endswith("done") and "0 done" not in writing[0]


def test_an_export_is_named_by_its_file(kb, tmp_path) -> None:
    written = kb.export(tmp_path / "l5h5.graphml", around="gpt2-small/L5/H5")
    assert [row["wrote"] for row in written][0].endswith("l5h5.graphml")
    assert written.note and written.note.split()[0].isdigit()
    with pytest.raises(RecordError, match="fmt is one of"):
        kb.export(tmp_path / "l5h5.docx", around="gpt2-small/L5/H5")


def test_an_saelens_sae_goes_in_as_its_dictionary_and_decoder(store, store_uri) -> None:
    """An SAE a notebook holds (SAELens's own class, built here without the hub): its
    Dictionary named as Neuronpedia names it, and each feature's decoder direction as its
    vector, row for row; an SAE its metadata cannot name is refused until named."""
    pytest.importorskip("sae_lens", reason="needs the [saelens] extra")
    import torch
    from sae_lens import StandardSAE, StandardSAEConfig
    from sae_lens.saes.sae import SAEMetadata

    def make(**metadata):  # type: ignore[no-untyped-def]
        sae = StandardSAE(StandardSAEConfig(d_in=8, d_sae=6, metadata=SAEMetadata(**metadata)))
        with torch.no_grad():
            sae.W_dec.copy_(torch.randn(6, 8, generator=torch.Generator().manual_seed(0)))
        return sae

    named = make(
        model_name="gpt2-small",
        hook_name="blocks.5.hook_resid_pre",
        neuronpedia_id="gpt2-small/5-res-jb",
    )
    with cb.open(store_uri) as kb:
        kb.add_model("gpt2-small")
        done = kb.ingest(named)
        assert done[0]["dictionary"] == "gpt2-small/L5/res-jb" and done[0]["features"] == 6
        shown = kb.show("gpt2-small/L5/res-jb")["properties"]
        assert shown["hook"] == "blocks.5.hook_resid_pre" and shown["width"] == 6
        assert shown["d_in"] == 8 and shown["architecture"] == "standard"
        stored = kb.cypher(
            "MATCH (f:Feature)-[:IN_DICTIONARY]->(:Dictionary {uid: $d}) "
            "RETURN f.uid AS uid, f.index AS i, f.embedding AS v ORDER BY i",
            {"d": "gpt2-small/L5/res-jb"},
        )
        expected = named.W_dec.detach().tolist()
        assert [row["i"] for row in stored] == list(range(6))
        for row in stored:
            assert row["v"] == pytest.approx(expected[row["i"]], abs=1e-6)
        unnamed = make(model_name="gpt2-small", hook_name="blocks.3.hook_resid_post")
        before = graph_fingerprint(store)
        broken = make(model_name="gpt2-small", neuronpedia_id="gpt2-small/6-res-jb")
        with torch.no_grad():
            broken.W_dec[4, 2] = float("nan")
        with pytest.raises(RecordError, match="row 4"):
            kb.ingest(broken)  # neither its directions nor its Dictionary go in
        assert graph_fingerprint(store) == before
        with pytest.raises(RecordError, match="release= and sae_id="):
            kb.ingest(unnamed)
        assert graph_fingerprint(store) == before
        kb.ingest(unnamed, name="my-sae", vectors=False)
        assert kb.show("gpt2-small/L3/my-sae")["properties"]["width"] == 6


def test_a_feature_finds_its_counterparts_by_decoder_direction(store, store_uri) -> None:
    """`similar --metric decoder`: the features whose decoder rows point the way this
    one's does, by cosine, nearest first, among the models that share its residual
    basis (its own, its checkpoints; never another model's space); numpy computes the
    expected order and cosines from the same matrices, and both backends give them."""
    numpy = pytest.importorskip("numpy")
    rng = numpy.random.default_rng(0)
    narrow = rng.normal(size=(8, 16))
    wide = rng.normal(size=(12, 16))
    wide[5] = narrow[2] + 0.05 * rng.normal(size=16)  # the wider SAE splits F2's direction
    early = 2.0 * narrow[2:3]  # a checkpoint's SAE: the same direction, another length
    other_model = numpy.vstack([narrow[2]] * 3)  # the same numbers, another model's space
    with cb.open(store_uri) as kb:
        for model in ("gpt2-small", "pythia-70m"):
            kb.add_model(model)
        kb.add_model("gpt2-small@ckpt-a", step=100)
        given = {
            "gpt2-small/L5/narrow": narrow,
            "gpt2-small/L5/wide": wide,
            "gpt2-small@ckpt-a/L5/early": early,
            "pythia-70m/L2/p": other_model,
        }
        for dictionary, matrix in given.items():
            kb.ingest_vectors(
                matrix,
                dictionary.split("/")[0],
                components=[f"{dictionary}/F{i}" for i in range(len(matrix))],
            )
        found = kb.similar("gpt2-small/L5/narrow/F2", metric="decoder", top=5)
        assert kb.similar("gpt2-small/L5/narrow/F2", "pythia-70m", metric="decoder").rows == []
    mine = narrow[2] / numpy.linalg.norm(narrow[2])
    names, vectors = [], []
    for dictionary, matrix in given.items():
        if not dictionary.startswith("pythia"):
            names += [f"{dictionary}/F{i}" for i in range(len(matrix))]
            vectors.append(matrix)
    stacked = numpy.vstack(vectors)
    cosines = stacked @ mine / numpy.linalg.norm(stacked, axis=1)
    expected = sorted(
        (round(float(c), 6), n)
        for c, n in zip(cosines, names)
        if n != "gpt2-small/L5/narrow/F2" and c > 0
    )[::-1][:5]
    assert [row["match"] for row in found] == [n for _, n in expected]
    assert [row["score"] for row in found] == pytest.approx([c for c, _ in expected], abs=2e-6)
    assert found[0]["match"] == "gpt2-small@ckpt-a/L5/early/F0" and found[0]["metric"] == "decoder"
    assert "pythia-70m" not in {row["model"] for row in found}  # never another model's space
    assert found[1]["evidence"][0] == {
        "measure": "dictionary",
        "this": "gpt2-small/L5/narrow",
        "that": "gpt2-small/L5/wide",
    }


def test_a_decoder_file_goes_in_as_its_dictionarys_directions(store, store_uri, tmp_path) -> None:
    """`ingest vectors W --dictionary NAME`: a .npy matrix, or SAELens's safetensors and its
    W_dec, row i feature i; then `similar --metric decoder` answers from it as numpy does.
    A file without a dictionary, of the wrong shape, holding pickles or no W_dec is one
    line naming the file, and nothing is written."""
    numpy = pytest.importorskip("numpy")
    rng = numpy.random.default_rng(1)
    decoder = rng.normal(size=(6, 8)).astype("float32")
    decoder[4] = decoder[1] * 3 + 0.01
    numpy.save(tmp_path / "W_dec.npy", decoder)
    assert cli(store_uri, "model", "add", "gpt2-small")[0] == 0
    args = ["ingest", "vectors", str(tmp_path / "W_dec.npy"), "--model", "gpt2-small"]
    code, out = cli(store_uri, *args, "--dictionary", "L5/mine")
    assert code == 0, out
    code, out = cli(
        store_uri, "similar", "gpt2-small/L5/mine/F1", "--metric", "decoder", "--format", "json"
    )
    assert code == 0, out
    rows = json.loads(out)
    unit = decoder / numpy.linalg.norm(decoder, axis=1, keepdims=True)
    cosines = unit @ unit[1]
    best = max((c, i) for i, c in enumerate(cosines) if i != 1)
    assert rows[0]["match"] == f"gpt2-small/L5/mine/F{best[1]}" == "gpt2-small/L5/mine/F4"
    assert rows[0]["score"] == pytest.approx(float(best[0]), abs=1e-5)
    before = graph_fingerprint(store)
    numpy.save(tmp_path / "flat.npy", decoder[0])
    numpy.save(tmp_path / "pickled.npy", numpy.array([{"a": 1}], dtype=object))
    bad = [
        (args, "needs --dictionary"),
        ([*args[:2], str(tmp_path / "flat.npy"), *args[3:], "--dictionary", "L5/x"], "2-D"),
        ([*args[:2], str(tmp_path / "pickled.npy"), *args[3:], "--dictionary", "L5/x"], "NumPy"),
    ]
    safetensors = pytest.importorskip("safetensors.numpy")
    safetensors.save_file({"W_enc": decoder.T.copy()}, str(tmp_path / "sae.safetensors"))
    no_decoder = [*args[:2], str(tmp_path / "sae.safetensors"), *args[3:], "--dictionary", "L5/y"]
    bad.append((no_decoder, "no W_dec"))
    for command, said in bad:
        code, out = cli(store_uri, *command)
        assert code == 1 and said in out and len(out.strip().splitlines()) == 1, out
    assert graph_fingerprint(store) == before
    safetensors.save_file({"W_dec": decoder}, str(tmp_path / "sae_weights.safetensors"))
    weights = [*args[:2], str(tmp_path / "sae_weights.safetensors"), *args[3:]]
    assert cli(store_uri, *weights, "--dictionary", "gpt2-small/L5/saelens")[0] == 0
    code, out = cli(
        store_uri, "similar", "gpt2-small/L5/saelens/F1", "--metric", "decoder", "--format", "json"
    )
    assert json.loads(out)[0]["score"] == pytest.approx(1.0, abs=1e-5)  # mine/F1, the same row


def test_a_circuit_goes_in_as_dataframes(store, store_uri) -> None:
    """A circuit a notebook computed: a DataFrame of output nodes and one of edges, with
    the model and task, goes in as the interchange JSON would, each value kept; a bad row
    is named by its table and row, and nothing is written."""
    nodes = pandas.DataFrame(
        {
            "component": ["L9H9", "L10H0", "L9H6"],
            "category": ["name mover", "name mover", None],
            "direct_effect": [1.25, 0.5, float("nan")],
        }
    )
    edges = pandas.DataFrame(
        {"source": ["L7H3", "L8H6"], "target": ["L9H9", "L9H9"], "weight": [0.75, 0.25]}
    )
    with cb.open(store_uri) as kb:
        kb.add_model("gpt2-small")
        kb.ingest(
            nodes,
            format="circuit",
            edges=edges,
            model="gpt2-small",
            task="ioi-notebook",
            analysis_uid="notebook/ioi",
        )
        stored = kb.cypher(
            "MATCH (c)-[r:OUTPUT_NODE {analysis: 'notebook/ioi'}]->(:Task {name: 'ioi-notebook'}) "
            "RETURN c.uid AS uid, r.category AS category, r.direct_effect AS effect ORDER BY uid"
        )
        assert [(r["uid"], r["category"], r["effect"]) for r in stored] == sorted(
            [
                ("gpt2-small/L10/H0", "name mover", 0.5),
                ("gpt2-small/L9/H6", None, None),
                ("gpt2-small/L9/H9", "name mover", 1.25),
            ]
        )
        weights = kb.cypher(
            "MATCH (a)-[r:CIRCUIT_EDGE {analysis: 'notebook/ioi'}]->(b) "
            "RETURN a.uid AS a, b.uid AS b, r.weight AS w ORDER BY a"
        )
        assert [(r["a"], r["b"], r["w"]) for r in weights] == [
            ("gpt2-small/L7/H3", "gpt2-small/L9/H9", 0.75),
            ("gpt2-small/L8/H6", "gpt2-small/L9/H9", 0.25),
        ]
        before = graph_fingerprint(store)
        bad = edges.copy()
        bad.loc[1, "target"] = None
        with pytest.raises(RecordError) as raised:
            kb.ingest(nodes, format="circuit", edges=bad, model="gpt2-small", task="ioi-2")
        said = str(raised.value)
        assert "DataFrame" in said and "edges row 1" in said and "target" in said, said
        assert graph_fingerprint(store) == before
