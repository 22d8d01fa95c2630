"""The catalog of node labels and relationship types (`NodeSpec` and `RelSpec` in
schema/graph.py): a label or a type defined there alone, with a model checking it, goes
through every room: ingest, show, export (GraphML, Cypher, a figure), import and
removal, on both backends."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import ClassVar

import pytest
from helpers import cli, count, graph_fingerprint
from pydantic import BaseModel, Field

from circuitbase.errors import RecordError
from circuitbase.ingest import ingest
from circuitbase.schema.catalog import known_models
from circuitbase.schema.graph import (
    NODE_SPECS,
    NodeLabel,
    NodeSpec,
    RelSpec,
    RelType,
    defined_node_label,
    defined_rel_type,
    rel_spec,
)
from circuitbase.schema.nodes import Analysis, HeadRole
from circuitbase.schema.records import NodeRecord, node, ref
from circuitbase.schema.relationships import Fact
from circuitbase.schema.uids import ComponentKind
from circuitbase.sources.models import model_records

HEAD = "pythia-70m/L2/H3"
COLOUR = "#117733"
SPEC = RelSpec("VOUCHES_FOR", identity=("analysis",), score=("strength",), colour=COLOUR)


def test_a_relationship_type_defined_in_the_catalog_alone_goes_through_every_room(
    store, store_uri, tmp_path
) -> None:
    ingest(store, model_records(known_models()["pythia-70m"], {ComponentKind.HEAD}))
    without = graph_fingerprint(store)
    with defined_rel_type(SPEC) as vouches:

        class VouchesFor(Fact):
            TYPE: ClassVar[RelType] = vouches
            strength: float = Field(ge=0, le=1)

        analysis = Analysis(
            uid="throwaway/vouching",
            kind="heads",
            method="a reviewer's word",
            models=["pythia-70m"],
        )
        role = HeadRole(name="vouched-for").record()
        fact = VouchesFor(analysis=analysis.uid, strength=0.75).record(
            ref(NodeLabel.HEAD, HEAD), role.ref
        )
        records = [*analysis.records(), role, fact]
        ingest(store, records)
        ingest(store, records)  # merged on its ends and the catalog's identity: still one
        assert (
            count(store, "(:AttentionHead {uid: $h})-[:VOUCHES_FOR {strength: 0.75}]->()", h=HEAD)
            == 1
        )

        code, out = cli(store_uri, "show", HEAD, "--format", "json")
        assert code == 0, out
        [shown] = json.loads(out)["relationships"]["VOUCHES_FOR"]
        assert shown["other"] == "vouched-for" and shown["strength"] == 0.75

        graphml, script, svg = (tmp_path / f"around.{ext}" for ext in ("graphml", "cypher", "svg"))
        for path in (graphml, script, svg):  # what the analysis found, with the analysis
            fmt = path.suffix[1:]
            code, out = cli(
                store_uri, "export", "--analysis", analysis.uid, "--format", fmt, "--out", str(path)
            )
            assert code == 0, out
        assert "VOUCHES_FOR" in graphml.read_text() and "VOUCHES_FOR" in script.read_text()
        strokes = {
            stroke
            for group in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}g")
            if group.get("id", "").startswith("edge-VOUCHES_FOR-")
            for item in group.iter("{http://www.w3.org/2000/svg}path")
            for stroke in re.findall(r"stroke: (#[0-9a-f]{6})", item.get("style", ""))
        }
        assert strokes == {COLOUR.lower()}  # drawn, in the colour its entry gives

        code, out = cli(store_uri, "analysis", "remove", analysis.uid, "--yes")
        assert code == 0, out
        assert graph_fingerprint(store) == without  # its fact, analysis and role all gone

        # an import rebuilds it through its fact model: with its analysis stored again (an
        # export cites analyses, it does not carry them), the script brings it back ...
        ingest(store, analysis.records())
        code, out = cli(store_uri, "import", "cypher", str(script))
        assert code == 0, out
        assert count(store, "()-[:VOUCHES_FOR {strength: 0.75}]->()") == 1
        # ... and a value the model refuses is refused, naming the field, writing nothing
        before = graph_fingerprint(store)
        tampered = tmp_path / "tampered.graphml"
        tampered.write_text(graphml.read_text().replace(">0.75<", ">7.5<"))
        code, out = cli(store_uri, "import", "graphml", str(tampered))
        assert code == 1 and "strength" in out, out
        assert graph_fingerprint(store) == before
    with pytest.raises(ValueError, match="not a valid RelType"):
        RelType("VOUCHES_FOR")  # gone from the allow-list with its block


def test_the_allow_list_refuses_names_it_does_not_define() -> None:
    for name in ("ENCODES` ]->() DETACH DELETE n //", "encodes", "", "NOT_A_TYPE"):
        with pytest.raises(ValueError):
            RelType(name)
    with pytest.raises(ValueError, match="UPPER_CASE"):
        with defined_rel_type(RelSpec("BAD-NAME`")):
            pass
    with pytest.raises(ValueError, match="already exists"):
        with defined_rel_type(RelSpec("ENCODES")):
            pass
    assert rel_spec("ENCODES").identity == ("analysis", "k", "dataset")
    assert [t.value for t in RelType][:2] == ["IN_MODEL", "ABOUT"]


class Benchmark(BaseModel):
    """A throwaway label's model: a benchmark a head was evaluated on, by name."""

    name: str = Field(min_length=1, max_length=50)
    suite: str = Field(pattern=r"^[a-z]+$")

    def record(self) -> NodeRecord:
        return node(NodeLabel("Benchmark"), self.name, suite=self.suite)


BENCHMARK = NodeSpec("Benchmark", "#44AA99", key="name", shared=True, named=True, model=Benchmark)
EVALUATED = RelSpec("EVALUATED_ON", identity=("analysis",), score=("accuracy",))


def test_a_node_label_defined_in_the_catalog_alone_goes_through_every_room(
    store, store_uri, tmp_path
) -> None:
    ingest(store, model_records(known_models()["pythia-70m"], {ComponentKind.HEAD}))
    without = graph_fingerprint(store)
    with defined_node_label(BENCHMARK) as label, defined_rel_type(EVALUATED) as evaluated:

        class EvaluatedOn(Fact):
            TYPE: ClassVar[RelType] = evaluated
            accuracy: float = Field(ge=0, le=1)

        analysis = Analysis(
            uid="throwaway/benchmarks", kind="heads", method="an eval", models=["pythia-70m"]
        )
        bench = Benchmark(name="copy-suite-1", suite="copying").record()
        fact = EvaluatedOn(analysis=analysis.uid, accuracy=0.5).record(
            ref(NodeLabel.HEAD, HEAD), bench.ref
        )
        records = [*analysis.records(), bench, fact]
        ingest(store, records)
        ingest(store, records)  # merged on the key its entry gives: still one
        assert count(store, "(b:Benchmark {name: 'copy-suite-1', suite: 'copying'})") == 1

        code, out = cli(store_uri, "show", "copy-suite-1", "--format", "json")  # `named`
        assert code == 0, out
        shown = json.loads(out)
        assert shown["kind"] == "Benchmark" and shown["properties"]["suite"] == "copying"
        [cited] = shown["relationships"]["EVALUATED_ON"]
        assert cited["other"] == HEAD and cited["accuracy"] == 0.5

        graphml, script = (tmp_path / f"bench.{ext}" for ext in ("graphml", "cypher"))
        for path in (graphml, script):
            code, out = cli(
                store_uri,
                "export",
                "--analysis",
                analysis.uid,
                "--format",
                path.suffix[1:],
                "--out",
                str(path),
            )
            assert code == 0, out
        assert "Benchmark" in graphml.read_text() and "copy-suite-1" in script.read_text()

        code, out = cli(store_uri, "analysis", "remove", analysis.uid, "--yes")
        assert code == 0, out
        assert graph_fingerprint(store) == without  # `shared`: swept once nothing cites it

        ingest(store, analysis.records())
        code, out = cli(store_uri, "import", "graphml", str(graphml))
        assert code == 0, out
        assert (
            count(store, "(:AttentionHead)-[:EVALUATED_ON]->(:Benchmark {suite: 'copying'})") == 1
        )
        # the entry's model checks an imported node: a value it refuses writes nothing
        cli(store_uri, "analysis", "remove", analysis.uid, "--yes")
        ingest(store, analysis.records())
        before = graph_fingerprint(store)
        tampered = tmp_path / "tampered.graphml"
        tampered.write_text(graphml.read_text().replace(">copying<", ">Copying!<"))
        code, out = cli(store_uri, "import", "graphml", str(tampered))
        assert code == 1 and "suite" in out, out
        assert graph_fingerprint(store) == before
        assert label in NODE_SPECS
    assert label not in NODE_SPECS
    with pytest.raises(ValueError, match="not a valid NodeLabel"):
        NodeLabel("Benchmark")  # gone from the allow-list with its block


def test_an_import_refuses_every_label_the_store_owns() -> None:
    """Summaries and N2G tries are the store's own: an import file naming one is refused
    whatever else it says, as the catalog's `made_by` says."""
    from circuitbase.schema.imported import checked

    owned = [label for label in NodeLabel if label.spec.made_by != "input"]
    assert {NodeLabel.SIMILARITY_SUMMARY, NodeLabel.PATTERN, NodeLabel.PATTERN_NODE} <= set(owned)
    for label in owned:
        with pytest.raises(RecordError, match="derived by circuitbase"):
            checked([NodeRecord(label, "x", {}, origin="file.graphml, node 1")])


def test_the_node_allow_list_refuses_names_it_does_not_define() -> None:
    for name in ("Concept` DETACH DELETE n //", "concept", "", "Component", "NotALabel"):
        with pytest.raises(ValueError):
            NodeLabel(name)
    with pytest.raises(ValueError, match="CamelCase"):
        with defined_node_label(NodeSpec("Bad`Label", "#000000")):
            pass
    with pytest.raises(ValueError, match="already exists"):
        with defined_node_label(NodeSpec("Concept", "#000000")):
            pass


def test_every_label_and_type_has_its_entry() -> None:
    assert set(NODE_SPECS) == set(NodeLabel)
    assert {t.value for t in RelType} == {t.spec.name for t in RelType}
    # the shared labels are those a removal sweeps: every one is merged on a name, a text
    # or what it derives from
    assert {label for label, spec in NODE_SPECS.items() if spec.shared} == {
        NodeLabel.CONCEPT,
        NodeLabel.TASK,
        NodeLabel.HEAD_ROLE,
        NodeLabel.NEURON_FAMILY,
        NodeLabel.TOKEN,
        NodeLabel.EXPLANATION,
        NodeLabel.WORD,
        NodeLabel.EMBEDDING,  # one per explanation and analysis: swept with them
    }
