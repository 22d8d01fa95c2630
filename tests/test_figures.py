"""Figures a paper can use as they come out (issue #20): what can be measured of them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import cli
from PIL import Image

from circuitbase.export import SINGLE_COLUMN, FigureStyle, figure, subgraph, write
from circuitbase.export.figure import ROLE_COLOURS, model_size
from circuitbase.export.palette import NODE_COLOURS, edge_colour
from circuitbase.ingest.pipeline import ingest_files
from circuitbase.schema import NodeLabel, RelType
from circuitbase.sources.circuits import circuit_records
from circuitbase.sources.probes import probe_records

EXAMPLES = Path(__file__).parent.parent / "circuitbase" / "examples"
PROBES = sorted((EXAMPLES / "probes").glob("*.csv"))
CIRCUITS = sorted((EXAMPLES / "circuits").glob("*.json"))
CENTRE = "pythia-70m/L3/N897"
IOI = "acdc-canonical/gpt2-small/ioi"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def papers(store):
    ingest_files(store, PROBES, probe_records)
    ingest_files(store, CIRCUITS, circuit_records)
    return store


def readme_example(store, **options):
    return subgraph(
        store, around=CENTRE, hops=2, rel_types=[RelType.ENCODES, RelType.IN_MODEL], **options
    )


def label_boxes(fig) -> list[tuple[str, object]]:
    """(text, display-space box) of every drawn node label (the rounded box around its text)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [
        (t.get_text(), t.get_bbox_patch().get_window_extent(renderer))
        for t in fig.axes[0].texts
        if t.get_bbox_patch() is not None
    ]


def arrows(fig, type_: str = "") -> list:
    """The edges drawn: annotations whose gid is edge-<TYPE>-<i>."""
    return [t for t in fig.axes[0].texts if (t.get_gid() or "").startswith(f"edge-{type_}")]


def test_the_readme_example_draws_the_neurons_their_concept_and_models_only(papers) -> None:
    graph = readme_example(papers)
    concepts = {
        r["c"]
        for r in papers.read(
            "MATCH (:Neuron {uid: $n})-[:ENCODES]->(c:Concept) RETURN c.name AS c", {"n": CENTRE}
        )
    }
    neurons = {
        r["n"]
        for r in papers.read(
            "MATCH (n:Neuron)-[:ENCODES]->(c:Concept) WHERE c.name IN $cs RETURN n.uid AS n",
            {"cs": sorted(concepts)},
        )
    }
    models = {n.split("/")[0] for n in neurons}
    assert concepts == {"Gender_Fem"} and len(neurons) == 4
    assert set(graph) == (
        {f"Neuron:{n}" for n in neurons}
        | {f"Concept:{c}" for c in concepts}
        | {f"Model:{m}" for m in models}
    )
    # asked for, the second hop goes on through the models: every stored neuron of each
    expanded = readme_example(papers, expand_structural=True)
    stored = papers.read("MATCH (n:Neuron {model: 'pythia-70m'}) RETURN count(n) AS n")[0]["n"]
    assert sum(1 for n in expanded if n.startswith("Neuron:")) == stored + 3 > 7


def test_figures_keep_text_as_text_and_one_colour_per_relationship_type(papers, tmp_path) -> None:
    first = write(papers, readme_example(papers), "svg", tmp_path / "a.svg", title="Gender_Fem")
    other = subgraph(papers, template="concept_neurons", params={"concept": "prime-factors"})
    second = write(papers, other, "svg", tmp_path / "b.svg")
    colours = []
    for path in (first[0], second[0]):
        root = ET.parse(path).getroot()
        assert list(root.iter(f"{SVG}text")), path  # labels are text, not glyph outlines
        strokes = set()
        for group in root.iter(f"{SVG}g"):
            if group.get("id", "").startswith("edge-ENCODES-"):
                for item in group.iter(f"{SVG}path"):
                    strokes |= set(re.findall(r"stroke: (#[0-9a-f]{6})", item.get("style", "")))
        colours.append(strokes)
    assert colours[0] == colours[1] == {edge_colour(RelType.ENCODES).lower()}
    root = ET.parse(first[0]).getroot()
    labels = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert {"L3N897", "L5N99", "Gender_Fem", "pythia-70m"} <= set(labels)


def test_models_run_from_the_smallest_and_edges_are_as_wide_as_their_score(papers) -> None:
    fig = figure(papers, readme_example(papers))
    axes = fig.axes[0]
    titles = {t.get_text(): t.get_position()[1] for t in axes.texts if t.get_fontweight() == "bold"}
    order = sorted(titles, key=titles.get)  # y grows downwards
    assert order == sorted(titles, key=lambda m: (model_size(m), m))
    assert order == ["pythia-70m", "pythia-160m", "pythia-410m", "pythia-1b"]
    f1 = {
        r["n"].split("/", 1)[1].replace("/", ""): r["f1"]
        for r in papers.read(
            "MATCH (n:Neuron)-[e:ENCODES]->(:Concept {name: 'Gender_Fem'}) RETURN n.uid AS n, e.f1 AS f1"
        )
    }
    widths = sorted(a.arrow_patch.get_linewidth() for a in arrows(fig, "ENCODES-"))
    assert widths == pytest.approx(sorted(0.3 + 1.7 * v / max(f1.values()) for v in f1.values()))
    assert len(set(widths)) == 4
    drawn = [text for text, _ in label_boxes(fig)]
    assert sorted(drawn) == sorted([*f1, "Gender_Fem"])  # the bands name the models


@pytest.mark.parametrize("kind", ["neighbourhood", "circuit", "model"])
def test_no_labels_overlap(papers, kind) -> None:
    if kind == "neighbourhood":
        graph = readme_example(papers)
    elif kind == "circuit":
        graph = subgraph(papers, analysis=IOI)
    else:  # every head of a model: dense rows
        graph = subgraph(
            papers,
            around="gpt2-small",
            hops=1,
            rel_types=[RelType.IN_MODEL],
            labels=[NodeLabel.HEAD],
        )
    for style in (FigureStyle(), FigureStyle(width=SINGLE_COLUMN, font_size=8)):
        boxes = [box for _, box in label_boxes(figure(papers, graph, style=style))]
        assert len(boxes) >= 4
        overlapping = [
            (i, j)
            for i in range(len(boxes))
            for j in range(i + 1, len(boxes))
            if boxes[i].overlaps(boxes[j])
        ]
        assert overlapping == []


def test_a_circuit_is_drawn_layer_by_layer_coloured_by_role_with_arrowheads_showing(papers) -> None:
    graph = subgraph(papers, analysis=IOI)
    fig = figure(papers, graph, title="IOI")
    boxes = dict(label_boxes(fig))
    assert len(boxes) == len(label_boxes(fig))  # one model: every label names one node
    roles = {
        r["h"]: r["role"]
        for r in papers.read(
            "MATCH (h:AttentionHead)-[r:HAS_ROLE {analysis: $a}]->(x) RETURN h.name AS h, x.name AS role",
            {"a": IOI},
        )
    }
    assert roles
    for text in fig.axes[0].texts:
        if text.get_text() in roles:
            fill = "#{:02X}{:02X}{:02X}".format(
                *(round(c * 255) for c in text.get_bbox_patch().get_facecolor()[:3])
            )
            assert fill == ROLE_COLOURS[roles[text.get_text()]], text.get_text()
    # input at the bottom: a later layer is never below an earlier one (display y grows upwards)
    layer = {n: int(re.match(r"L(\d+)", n).group(1)) for n in roles}
    for a in layer:
        for b in layer:
            if layer[a] < layer[b]:
                assert boxes[a].y0 < boxes[b].y0
    # every arrow ends outside the label it points at, so its head shows
    drawn = arrows(fig)
    for arrow in drawn:
        target = fig.axes[0].transData.transform(arrow.xy)
        box = next(b for b in boxes.values() if b.contains(*target))
        path = arrow.arrow_patch.get_path()
        points = arrow.arrow_patch.get_transform().transform(path.vertices)
        tip = min(points, key=lambda p: (p[0] - target[0]) ** 2 + (p[1] - target[1]) ** 2)
        assert not box.contains(*tip), arrow.get_gid()
    assert len(drawn) == sum(
        1 for *_, t in graph.edges(data="type") if t in ("CIRCUIT_EDGE", "OUTPUT_NODE")
    )


def test_size_dpi_pdf_and_the_paths_reported(papers, store_uri, tmp_path) -> None:
    code, out = cli(
        store_uri,
        "export",
        "--around",
        CENTRE,
        "--hops",
        "2",
        "--rel-type",
        "ENCODES",
        "--rel-type",
        "IN_MODEL",
        "--format",
        "png",
        "--width",
        "single",
        "--dpi",
        "200",
        "--out",
        str(tmp_path / "noext"),
    )
    assert code == 0, out
    assert f"wrote {tmp_path / 'noext'}\n" in out and f"wrote {tmp_path / 'noext.bib'}" in out
    with Image.open(tmp_path / "noext") as image:
        assert image.format == "PNG" and image.size[0] == round(3.5 * 200)
    code, out = cli(
        store_uri,
        "export",
        "--analysis",
        IOI,
        "--format",
        "pdf",
        "--out",
        str(tmp_path / "ioi.pdf"),
    )
    assert code == 0, out
    pdf = (tmp_path / "ioi.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"DejaVuSans" in pdf  # text, in an embedded TrueType font
    code, out = cli(
        store_uri,
        "export",
        "--around",
        CENTRE,
        "--format",
        "svg",
        "--width",
        "wide",
        "--out",
        str(tmp_path / "x.svg"),
    )
    assert code == 1 and "single, double or inches" in out and not (tmp_path / "x.svg").exists()
    code, out = cli(
        store_uri,
        "export",
        "--around",
        CENTRE,
        "--format",
        "svg",
        "--out",
        str(tmp_path / "no-such-dir" / "x.svg"),
    )
    assert code == 1 and "no-such-dir" in out and "Traceback" not in out


def test_colour_by_model_and_concept_follow_the_palette(papers) -> None:
    graph = readme_example(papers)
    by_model = figure(papers, graph, style=FigureStyle(colour_by="model"))
    fills = {
        t.get_text(): t.get_bbox_patch().get_facecolor()
        for t in by_model.axes[0].texts
        if t.get_bbox_patch() is not None
    }
    assert len(fills) == 5
    assert len({fills[n] for n in ("L3N897", "L5N99", "L10N557", "L8N2125")}) == 4
    by_kind = figure(papers, graph)
    concept = next(t for t in by_kind.axes[0].texts if t.get_text() == "Gender_Fem")
    colour = "#{:02X}{:02X}{:02X}".format(
        *(round(c * 255) for c in concept.get_bbox_patch().get_facecolor()[:3])
    )
    assert colour == NODE_COLOURS[NodeLabel.CONCEPT]


def test_a_models_heads_are_drawn_as_the_published_file_measures_them(
    store, store_uri, tmp_path
) -> None:
    """Each heatmap's cells are the file's [layer][head] values, read with json alone."""
    import json as json_module

    from circuitbase.cli.demo import examples_dir
    from circuitbase.export.heatmap import head_grids

    path = (
        examples_dir() / "head-metrics" / "openai-community-gpt2-monology-pile-uncopyrighted.json"
    )
    code, out = cli(store_uri, "ingest", "heads", str(path))
    assert code == 0, out
    published = json_module.loads(path.read_text())["metrics"]
    grids = {grid.title: grid for grid in head_grids(store, "gpt2-small")}
    for metric, table in published.items():
        if metric != "counts":
            flat = [v for layer in grids[metric].values for v in layer]
            assert flat == pytest.approx([v for layer in table for v in layer], rel=1e-12), metric
    roles = [v for layer in grids["role: induction"].values for v in layer]
    assert roles == pytest.approx([v for layer in published["induction_score"] for v in layer])
    out_file = tmp_path / "heads.svg"
    code, out = cli(
        store_uri, "export", "--heads", "gpt2", "--format", "svg", "--out", str(out_file)
    )
    assert code == 0, out
    svg = out_file.read_text()
    assert all(f">{metric}<" in svg or metric in svg for metric in published if metric != "counts")
    assert "neuronpedia" in out_file.with_suffix(".bib").read_text().lower()
    code, out = cli(
        store_uri,
        "export",
        "--heads",
        "gpt2-smal",
        "--format",
        "svg",
        "--out",
        str(tmp_path / "x.svg"),
    )
    assert code == 1 and "gpt2-small" in out and not (tmp_path / "x.svg").exists()


def test_a_circuit_has_a_layer_axis_and_drops_weak_edges_on_request(papers) -> None:
    graph = subgraph(papers, analysis=IOI)
    fig = figure(papers, graph)
    labels = dict(label_boxes(fig))
    axis = {
        t.get_text(): t
        for t in fig.axes[0].texts
        if t.get_bbox_patch() is None and re.fullmatch(r"L\d+", t.get_text())
    }
    heads = {
        text: int(re.match(r"L(\d+)", text).group(1))
        for text in labels
        if re.fullmatch(r"L\d+H\d+", text)
    }
    assert {f"L{layer}" for layer in heads.values()} <= set(axis)
    renderer = fig.canvas.get_renderer()
    for text, layer in heads.items():  # each head beside its layer's name, right of the axis
        mark = axis[f"L{layer}"].get_window_extent(renderer)
        assert mark.x1 < labels[text].x0
        if layer == min(heads.values()):
            assert abs((mark.y0 + mark.y1) / 2 - (labels[text].y0 + labels[text].y1) / 2) < 2
    # weights of our own on the circuit's edges; --min-weight keeps those at least that big
    circuit = [
        (a, b, k) for a, b, k, t in graph.edges(keys=True, data="type") if t == "CIRCUIT_EDGE"
    ]
    for i, (a, b, k) in enumerate(circuit):
        graph.edges[a, b, k]["weight"] = (-1) ** i * (i % 7) / 6
    strong = [e for e in circuit if abs(graph.edges[e]["weight"]) >= 0.5]
    assert 0 < len(strong) < len(circuit)
    fig = figure(papers, graph, style=FigureStyle(min_weight=0.5))
    assert len(arrows(fig, "CIRCUIT_EDGE")) == len(strong)
    drawn = {text for text, _ in label_boxes(fig)}
    ends = {
        graph.nodes[n]["name"] for a, b, _ in strong for n in (a, b) if graph.nodes[n].get("name")
    }
    assert ends <= drawn
