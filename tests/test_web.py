"""`circuitbase serve` (issue #21, item 4): the read-only web explorer.

The pages are checked through Flask's test client on both backends against direct
queries; one test drives the real server in a headless Chromium as a person would.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import networkx as nx
import pytest
from helpers import cli, graph_fingerprint
from test_evidence import strongest_example

from circuitbase.ingest import ingest
from circuitbase.schema import Analysis, Concept, Encodes, NodeLabel, RelType, ref, rel
from circuitbase.schema.relationships import SimilarTo
from circuitbase.store import open_store
from circuitbase.web import create_app

EXAMPLES = Path(__file__).parent.parent / "circuitbase" / "examples"
PROBES = [EXAMPLES / "probes" / f"{m}_top_mono_neurons.csv" for m in ("pythia-70m", "pythia-160m")]
HEADS = [
    EXAMPLES / "head-metrics" / f
    for f in (
        "openai-community-gpt2-monology-pile-uncopyrighted.json",
        "google-gemma-3-270m-monology-pile-uncopyrighted.json",
        "EleutherAI-pythia-70m-deduped-monology-pile-uncopyrighted.json",
    )
]
TOKEN = "t" * 43
MATCH = Analysis(
    uid="test/hand-made-matches",
    kind="similarity",
    method="by hand",
    models=["pythia-70m", "pythia-160m", "gpt2-small", "pythia-70m-deduped"],
)
HOSTILE = '<script>alert("x")</script> & "quotes"'
DASHBOARDS = [Path(__file__).parent / "data" / "saedashboard" / f"batch-{i}.json" for i in (0, 1)]


def DASHBOARD_FEATURES() -> list[dict]:  # noqa: N802
    import json

    return [f for path in DASHBOARDS for f in json.loads(path.read_text())["features"]]


def best(store, sql_concept: str, model: str) -> str:
    return store.read(
        "MATCH (n:Neuron {model: $m})-[e:ENCODES]->(:Concept {name: $c}) "
        "RETURN n.uid AS n ORDER BY e.f1 DESC, n.uid LIMIT 1",
        {"m": model, "c": sql_concept},
    )[0]["n"]


def strongest_induction(store, model: str) -> str:
    return store.read(
        "MATCH (h:AttentionHead {model: $m})-[r:HAS_ROLE]->(:HeadRole {name: 'induction'}) "
        "RETURN h.uid AS h ORDER BY r.score DESC, h.uid LIMIT 1",
        {"m": model},
    )[0]["h"]


def explored(store, store_uri: str) -> dict[str, str]:
    """Probes of two Pythias, head metrics of two models, and hand-made SIMILAR_TO matches
    between the best Gender_Fem neurons and between the strongest induction heads."""
    for path in PROBES:
        assert cli(store_uri, "ingest", "probes", str(path))[0] == 0
    for path in HEADS:
        assert cli(store_uri, "ingest", "heads", str(path))[0] == 0
    names = {
        "neuron": best(store, "Gender_Fem", "pythia-70m"),
        "neuron_match": best(store, "Gender_Fem", "pythia-160m"),
        "head": strongest_induction(store, "gpt2-small"),
        "head_match": strongest_induction(store, "pythia-70m-deduped"),
    }
    records = [
        MATCH.record(),
        Concept(name=HOSTILE).record(),
        Encodes(analysis=MATCH.uid, k=1, f1=0.5).record(
            ref(NodeLabel.NEURON, names["neuron"]), ref(NodeLabel.CONCEPT, HOSTILE)
        ),
    ]
    for a, b, label, score in (
        (names["neuron"], names["neuron_match"], NodeLabel.NEURON, 0.91),
        (names["head"], names["head_match"], NodeLabel.HEAD, 0.77),
    ):
        records.append(
            SimilarTo(analysis=MATCH.uid, score=score, metric="by-hand").record(
                ref(label, a), ref(label, b)
            )
        )
    records += [
        rel(RelType.ABOUT, MATCH.record().ref, ref(NodeLabel.MODEL, m)) for m in MATCH.models
    ]
    ingest(store, records)
    return names


@pytest.fixture
def site(store, store_uri):
    names = explored(store, store_uri)
    client = create_app(store, TOKEN).test_client()
    return store, client, names


def HEADS_SCORED(store) -> list[dict]:  # noqa: N802
    return store.read(
        "MATCH (h:AttentionHead)-[:HAS_ROLE]->(:HeadRole {name: 'induction'}) RETURN h.uid AS uid"
    )


def page(client, path: str, **params: str) -> str:
    response = client.get(f"/{TOKEN}/{path}" + ("?" + urlencode(params) if params else ""))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def links(text: str) -> list[tuple[str, str]]:
    """(kind, key) of every link to a node page."""
    found = []
    for href in re.findall(r'href="([^"]*node\?[^"]*)"', text):
        query = parse_qs(urlparse(html.unescape(href)).query)
        found.append((query["kind"][0], query["key"][0]))
    return found


def test_every_page_needs_this_launchs_token(site) -> None:
    store, client, names = site
    assert client.get(f"/{TOKEN}/").status_code == 200
    for path in (
        "/",
        "/search?q=gender",
        f"/{'u' * 43}/",
        f"/{TOKEN[:-1]}/node?kind=Neuron&key=x",
        f"/{TOKEN}x/",
        "/static/x",
    ):
        response = client.get(path)
        assert response.status_code == 404 and TOKEN not in response.get_data(as_text=True), path
    headers = client.get(f"/{TOKEN}/").headers
    assert "default-src 'none'" in headers["Content-Security-Policy"]  # no script can run
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Frame-Options"] == "DENY"
    # nothing is written: no method but GET, no upload
    assert client.post(f"/{TOKEN}/search", data={"q": "x"}).status_code == 405


def test_search_page_shows_the_stores_hits_and_jumps_to_a_uid(site) -> None:
    store, client, names = site
    text = page(client, "search", q="gender")
    expected = store.search("gender", (), 100)
    assert expected and links(text)[-len(expected) :] == [(h["kind"], h["key"]) for h in expected]
    only = page(client, "search", q="induction", kind="HeadRole")
    assert ("HeadRole", "induction") in links(only) and ("Concept", "Gender_Fem") not in links(only)
    jump = client.get(f"/{TOKEN}/search?" + urlencode({"q": names["head"]}))  # a uid: its page
    target = urlparse(jump.headers["Location"])
    assert jump.status_code == 302 and target.path == f"/{TOKEN}/node"
    assert parse_qs(target.query) == {"kind": ["AttentionHead"], "key": [names["head"]]}
    exact = page(client, "search", q="Gender_Fem")  # a name: its link first, then the hits
    assert 'id="exact"' in exact and ("Concept", "Gender_Fem") in links(exact)
    assert 'id="no-hits"' not in exact
    assert 'id="no-hits"' in page(client, "search", q="zzzz-nothing")


def test_a_roles_page_lists_the_strongest_first_pages_on_and_filters(site, monkeypatch) -> None:
    """Compared with the store's scores read directly, not with what the page computed
    (pages of 50 here: the test store's 192 heads fill four)."""
    store, client, names = site
    from circuitbase.web import app

    MAX_FACTS_SHOWN = 50
    monkeypatch.setattr(app, "MAX_FACTS_SHOWN", MAX_FACTS_SHOWN)

    scores = store.read(
        "MATCH (h:AttentionHead)-[r:HAS_ROLE]->(:HeadRole {name: 'induction'}) "
        "RETURN h.uid AS uid, h.model AS model, r.score AS score"
    )
    assert len(scores) > MAX_FACTS_SHOWN  # there is a second page
    ranked = sorted(scores, key=lambda r: -r["score"])
    text = page(client, "node", kind="HeadRole", key="induction")
    table = re.search(r'data-type="HAS_ROLE">(.*?)</table>', text, re.S).group(1)
    first = [key for kind, key in links(table)][0]
    assert dict((r["uid"], r["score"]) for r in scores)[first] == ranked[0]["score"]
    second = page(client, "node", kind="HeadRole", key="induction", type="HAS_ROLE", page="2")
    table = re.search(r'data-type="HAS_ROLE">(.*?)</table>', second, re.S).group(1)
    shown = [key for kind, key in links(table) if kind == "AttentionHead"]
    assert len(shown) == min(MAX_FACTS_SHOWN, len(scores) - MAX_FACTS_SHOWN)
    assert {dict((r["uid"], r["score"]) for r in scores)[u] for u in shown} <= {
        r["score"] for r in ranked[MAX_FACTS_SHOWN - 1 : 2 * MAX_FACTS_SHOWN + 1]
    }
    model = sorted({r["model"] for r in scores})[0]
    only = page(client, "node", kind="HeadRole", key="induction", model=model)
    table = re.search(r'data-type="HAS_ROLE">(.*?)</table>', only, re.S).group(1)
    kept = {key for kind, key in links(table) if kind == "AttentionHead"}
    assert kept and all(key.startswith(model + "/") for key in kept)


def test_a_heads_page_shows_what_show_prints(site) -> None:
    store, client, names = site
    from circuitbase.queries.show import show

    data = show(store, names["head"])
    text = page(client, "node", kind="AttentionHead", key=names["head"])
    shown = set(links(text))
    for type_, facts in data["relationships"].items():
        assert f'data-type="{type_}"' in text
        for fact in facts:
            assert (fact["other_kind"], fact["other"]) in shown
    roles = store.read(
        "MATCH (:AttentionHead {uid: $h})-[r:HAS_ROLE]->(x) RETURN x.name AS role, "
        "r.score AS score",
        {"h": names["head"]},
    )
    for row in roles:
        assert f"{row['score']:.4g}" in text
    # the most similar head in the other model, with a side-by-side view
    assert ("AttentionHead", names["head_match"]) in shown
    compare = next(
        link
        for link in map(html.unescape, re.findall(r'href="([^"]*compare\?[^"]*)"', text))
        if parse_qs(urlparse(link).query).get("other") == [names["head_match"]]
    )
    side = client.get(compare).get_data(as_text=True)
    assert names["head"] in side and names["head_match"] in side and "0.77" in side
    # the neighbourhood drawing: one link per neighbour, the centre last
    svg = re.search(r"<svg.*?</svg>", text, re.S).group(0)
    drawn = links(svg)
    assert drawn[-1] == ("AttentionHead", names["head"])
    assert set(drawn[:-1]) == {
        (f["other_kind"], f["other"]) for facts in data["relationships"].values() for f in facts
    }
    ET.fromstring(svg)  # well-formed SVG, labels as <text>
    assert "<text" in svg


def test_a_concept_page_lists_every_neuron_and_escapes_what_it_shows(site) -> None:
    store, client, names = site
    text = page(client, "node", kind="Concept", key="Gender_Fem")
    neurons = {
        r["n"]
        for r in store.read(
            "MATCH (n:Neuron)-[:ENCODES]->(:Concept {name: 'Gender_Fem'}) RETURN n.uid AS n"
        )
    }
    assert neurons and {k for kind, k in links(text) if kind == "Neuron"} == neurons
    hostile = page(client, "node", kind="Neuron", key=names["neuron"])
    assert "<script>" not in hostile and "&lt;script&gt;alert(" in hostile
    missing = client.get(f"/{TOKEN}/node?kind=Neuron&key=pythia-70m/L0/N999999")
    assert missing.status_code == 400 and "not in the store" in missing.get_data(as_text=True)
    assert client.get(f"/{TOKEN}/node?kind=Evil&key=x").status_code == 404


def test_exports_of_what_is_on_screen(site, tmp_path) -> None:
    store, client, names = site
    before = graph_fingerprint(store)
    query = {"kind": "Neuron", "key": names["neuron"]}
    graphml = client.get(f"/{TOKEN}/export?" + urlencode({**query, "format": "graphml"}))
    assert graphml.status_code == 200 and "attachment" in graphml.headers["Content-Disposition"]
    graph = nx.read_graphml(io.BytesIO(graphml.data))
    concepts = {
        r["c"]
        for r in store.read(
            "MATCH (:Neuron {uid: $n})-[:ENCODES]->(c) RETURN c.name AS c", {"n": names["neuron"]}
        )
    }
    assert {f"Concept:{c}" for c in concepts} <= set(graph.nodes)
    svg = client.get(f"/{TOKEN}/export?" + urlencode({**query, "format": "svg"}))
    assert svg.status_code == 200 and svg.data.lstrip().startswith((b"<?xml", b"<svg"))
    png = client.get(f"/{TOKEN}/export?" + urlencode({**query, "format": "png"}))
    assert png.data[:8] == b"\x89PNG\r\n\x1a\n"
    bib = client.get(f"/{TOKEN}/export?" + urlencode({**query, "format": "bib"})).get_data(
        as_text=True
    )
    cited = {
        r["a"]
        for r in store.read(
            "MATCH (:Neuron {uid: $n})-[r]-() WHERE r.analysis IS NOT NULL "
            "RETURN DISTINCT r.analysis AS a",
            {"n": names["neuron"]},
        )
    }
    assert bib.count("@") == len(cited) >= 2
    assert (
        client.get(f"/{TOKEN}/export?" + urlencode({**query, "format": "cypher"})).status_code
        == 404
    )
    assert graph_fingerprint(store) == before  # browsing and exporting wrote nothing


# --- a person in a browser ------------------------------------------------------------------

REQUIRE_BROWSER = "CIRCUITBASE_REQUIRE_BROWSER"  # set by .ci/run, which installs Chromium


def browser_or_skip():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        from selenium import webdriver
    except ImportError:
        webdriver = None
    if not (chromium and driver and webdriver):
        reason = (
            "no headless browser: install Debian's chromium and chromium-driver "
            "(.ci/run does) and selenium (the [test] extra)"
        )
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def test_a_person_searches_opens_a_head_and_follows_a_similar_component(tmp_path) -> None:
    """Once, on an embedded store of its own (the pages are the same on both backends:
    the test-client tests above run on each)."""
    browser = browser_or_skip()
    browser.implicitly_wait(10)
    store_uri = str(tmp_path / "kb")
    with open_store(store_uri) as store:
        names = explored(store, store_uri)
        heads = len(HEADS_SCORED(store))
    assert cli(store_uri, "ingest", "features", *map(str, DASHBOARDS))[0] == 0
    server = subprocess.Popen(
        [sys.executable, "-m", "circuitbase", "--db", store_uri, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/[\w-]+/", line)
        assert url, line
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as shows
        from selenium.webdriver.support.ui import WebDriverWait

        def on_page_of(key: str) -> None:
            WebDriverWait(browser, 10).until(
                shows.text_to_be_present_in_element((By.ID, "key"), key)
            )
            assert browser.find_element(By.ID, "key").text == key

        browser.get(url.group(0))
        assert "pythia-70m" in browser.find_element(By.ID, "models").text
        browser.find_element(By.LINK_TEXT, "gpt2-small").click()  # a model: its heads drawn
        on_page_of("gpt2-small")
        heatmap = browser.find_element(By.CSS_SELECTOR, "#heatmap svg")
        assert heatmap.size["width"] > 300 and "induction_score" in heatmap.get_attribute(
            "innerHTML"
        )
        browser.back()
        box = browser.find_element(By.NAME, "q")
        box.send_keys("induction")
        box.submit()
        browser.find_element(By.LINK_TEXT, "induction").click()
        on_page_of("induction")
        facts = browser.find_element(By.CSS_SELECTOR, 'table[data-type="HAS_ROLE"]')
        assert facts.find_elements(By.TAG_NAME, "a")[0].text == names["head"]  # strongest first
        from circuitbase.web.app import MAX_FACTS_SHOWN

        assert heads > MAX_FACTS_SHOWN  # more than a page: the rest is a click away
        browser.find_element(By.CSS_SELECTOR, "a.next").click()
        WebDriverWait(browser, 10).until(
            shows.presence_of_element_located((By.CSS_SELECTOR, "a.previous"))
        )
        facts = browser.find_element(By.CSS_SELECTOR, 'table[data-type="HAS_ROLE"]')
        shown = [a.text for a in facts.find_elements(By.TAG_NAME, "a") if "/H" in a.text]
        assert len(shown) == heads - MAX_FACTS_SHOWN and names["head"] not in shown
        browser.back()
        browser.save_screenshot(str(tmp_path / "role.png"))
        browser.find_element(By.LINK_TEXT, names["head"]).click()
        on_page_of(names["head"])
        assert "HAS_ROLE" in browser.page_source
        browser.save_screenshot(str(tmp_path / "head.png"))
        similar = browser.find_element(By.ID, "similar")
        assert "pythia-70m-deduped" in similar.text and "0.77" in similar.text
        similar.find_element(By.LINK_TEXT, names["head_match"]).click()
        on_page_of(names["head_match"])
        # a neuron: from a concept's drawing to the similar neuron in the bigger model
        box = browser.find_element(By.NAME, "q")
        box.send_keys("Gender_Fem")
        box.submit()
        browser.find_element(By.CSS_SELECTOR, "#exact a").click()
        browser.find_element(By.CSS_SELECTOR, f'svg a[data-key="{names["neuron"]}"]').click()
        on_page_of(names["neuron"])
        browser.find_element(By.LINK_TEXT, names["neuron_match"]).click()
        on_page_of(names["neuron_match"])
        assert "pythia-160m" in browser.find_element(By.ID, "properties").text
        browser.save_screenshot(str(tmp_path / "neuron.png"))
        box = browser.find_element(By.NAME, "q")  # a uid typed in the box: its page
        box.send_keys(names["head_match"])
        box.submit()
        on_page_of(names["head_match"])
        box = browser.find_element(By.NAME, "q")  # a feature by its Neuronpedia name
        box.send_keys("gpt2-small/0-res-jb/3")
        box.submit()
        on_page_of("gpt2-small/L0/res-jb/F3")
        peak, token = strongest_example(DASHBOARD_FEATURES()[3])
        first = browser.find_element(By.CSS_SELECTOR, "#examples p.example")
        marked = first.find_element(By.CSS_SELECTOR, "span.tok.max")
        assert marked.text == token and marked.get_attribute("title") == f"{peak:.4g}"
        assert marked.value_of_css_property("background-color") == "rgba(230, 97, 0, 1)"
        shades = {
            t.value_of_css_property("background-color")
            for t in browser.find_elements(By.CSS_SELECTOR, "#examples span.tok")
        }
        assert "rgba(230, 97, 0, 0)" in shades and len(shades) > 2  # shaded by activation
        assert (
            browser.find_element(By.ID, "neuronpedia").get_attribute("href")
            == "https://www.neuronpedia.org/gpt2-small/0-res-jb/3"
        )
        browser.save_screenshot(str(tmp_path / "feature.png"))
        if shots := os.environ.get("CIRCUITBASE_SCREENSHOTS"):
            for shot in tmp_path.glob("*.png"):
                shutil.copy(shot, Path(shots) / shot.name)
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=30)


def test_a_features_page_shows_its_examples_shaded_and_its_logits(store, store_uri) -> None:
    assert cli(store_uri, "ingest", "features", *map(str, DASHBOARDS))[0] == 0
    client = create_app(store, TOKEN).test_client()
    text = page(client, "node", kind="Feature", key="gpt2-small/L0/res-jb/F3")
    feature = DASHBOARD_FEATURES()[3]
    for token in feature["pos_str"] + feature["neg_str"]:  # both logit lists, beside the examples
        assert html.escape(token) in text
    examples = re.findall(r'<p class="example">(.*?)</p>', text, re.S)
    peak, token = strongest_example(feature)
    assert len(examples) == min(10, len(feature["activations"]))
    assert (
        f'<span class="tok max" style="background: rgba(230, 97, 0, 1.0)" title="{peak:.4g}">'
        f"{html.escape(token)}</span>" in examples[0]
    )
    assert 'href="https://www.neuronpedia.org/gpt2-small/0-res-jb/3"' in text


def test_an_analysis_page_shows_what_it_found_strongest_first(site) -> None:
    """Its facts against the published table read with csv alone: as many, the best F1 first."""
    import csv

    store, client, names = site
    table = PROBES[0]
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    uid = next(a["uid"] for a in store.analysis_list() if a["uid"].endswith(Path(table).stem))
    text = page(client, "node", kind="Analysis", key=uid)
    assert f"({len(rows)} facts" in text
    found = re.search(r'<table id="found".*?</table>', text, re.S).group(0)
    first = re.findall(r"<tr><td>ENCODES</td>.*?</tr>", found, re.S)[0]
    top = max(float(r["test_f1_score"]) for r in rows)
    assert any(
        f"/L{r['layer']}/N{r['neuron']}<" in first for r in rows if float(r["test_f1_score"]) == top
    )
    assert 'id="finding"' in text and "<svg" in text  # a hundred facts: drawn too
