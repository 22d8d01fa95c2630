"""The explorer's pages: a Flask app over one open store, read-only.

Every page lives under `/<token>/`, the random token of this launch (as Jupyter's), so
another local user who finds the port still cannot read a private store through it; any
other path is a 404 that says nothing. Pages are rendered on the server, no script runs
in them (the Content-Security-Policy forbids it), and the store is only read: the pages
call `show()`, `search()` and the exports, never a write.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, url_for
from markupsafe import Markup

from .. import export
from ..errors import CircuitbaseError
from ..export.citations import bibtex
from ..export.figure import svg_text
from ..export.heatmap import heatmap_svg
from ..export.palette import NODE_COLOURS, edge_colour
from ..export.trajectory import page_trajectories
from ..queries.show import resolve, show, strongest_first
from ..queries.similar import between as live_between
from ..schema.checkpoints import split_checkpoint
from ..schema.graph import COMPONENT_LABELS, NodeLabel, RelType, primary_label
from ..schema.text import visible_token
from ..schema.uids import model_of
from ..store.base import GraphStore
from ..store.driver import search_fields
from . import neighbourhood

EXPORTS = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "graphml": "application/xml",
    "bib": "application/x-bibtex",
}
SEARCH_LIMIT = 100
MAX_FACTS_SHOWN = 200  # per relationship type on a page; the rest is counted
MAX_DRAWN_FACTS = 400  # an analysis with more facts is listed, not drawn
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


COMPONENT_KINDS = {label.value for label in COMPONENT_LABELS}
DOWNLOADS_AT_ONCE = 2  # figure renders take a core each; pages never wait for them
DOWNLOAD_WAIT_S = 30.0


def new_token() -> str:
    return secrets.token_urlsafe(32)


class SerialStore:
    """The store with each of its calls made one at a time (the threaded server's requests
    share one connection), holding the lock for the call alone, never for the rendering
    that follows it."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if not callable(found):
            return found

        def serial(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return found(*args, **kwargs)

        return serial


def create_app(store: GraphStore, token: str) -> Flask:
    """The explorer for `store`, answering only under `/<token>/`."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 0  # nothing is ever uploaded
    pages = Blueprint("pages", __name__, url_prefix="/<token>")
    # One store call at a time, whatever the server's threads; but only the store call:
    # a page that renders a figure or a download does not hold up the others.
    store = SerialStore(store)  # type: ignore[assignment]
    _guard(app, pages, token)
    app.jinja_env.globals.update(
        node_url=node_url,
        caption=caption,
        visible_token=visible_token,
        node_colours={label.value: colour for label, colour in NODE_COLOURS.items()},
    )
    _browsing(pages, store)
    _downloads(pages, store, threading.BoundedSemaphore(DOWNLOADS_AT_ONCE))
    app.register_blueprint(pages)

    @app.route("/")
    def bare() -> Any:
        abort(404)

    return app


def _guard(app: Flask, pages: Blueprint, token: str) -> None:
    """Every page only under its token (compared in constant time), with the security
    headers; a refusal is an error page, a wrong address a bare 404."""

    @pages.url_value_preprocessor
    def check_token(endpoint: str | None, values: dict[str, Any] | None) -> None:
        given = (values or {}).pop("token", "")
        if not secrets.compare_digest(given.encode(), token.encode()):
            abort(404)

    @pages.url_defaults
    def add_token(endpoint: str, values: dict[str, Any]) -> None:
        values.setdefault("token", token)

    @app.after_request
    def protect(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.errorhandler(CircuitbaseError)
    def refused(err: CircuitbaseError) -> tuple[str, int]:
        return render_template("error.html", message=str(err)), 400

    @app.errorhandler(404)
    def missing(err: Exception) -> Response:
        # plain: the site's pages link with the token, and a wrong address must not learn it
        return Response("not found\n", 404, mimetype="text/plain")


def node_url(kind: str, key: str) -> str:
    return url_for("pages.node", kind=kind, key=key)


def caption(kind: str, key: str) -> str:
    return key.strip('"') if kind == NodeLabel.TOKEN.value else key


def _browsing(pages: Blueprint, store: GraphStore) -> None:
    """The pages: home, search, a node, two nodes compared."""

    @pages.route("/", strict_slashes=False)
    def home() -> str:
        stats = store.stats()
        return render_template(
            "home.html", models=store.models(), stats=stats, analyses=store.analysis_list()
        )

    @pages.route("/search")
    def search() -> Any:
        text = request.args.get("q", "").strip()
        kind = request.args.get("kind") or None
        if kind is not None and kind not in _searchable(store):
            abort(404)
        hits: list[dict[str, Any]] = []
        exact = None
        if text:
            try:
                label, key = resolve(store, text, request.args.get("model") or None)
                if store.has_node(label, key):
                    exact = {"kind": label.value, "key": key}
            except CircuitbaseError:
                pass
            if exact and NodeLabel(exact["kind"]) in COMPONENT_LABELS:  # a uid: its page
                return redirect(node_url(exact["kind"], exact["key"]))
            hits = store.search(text, [NodeLabel(kind)] if kind else (), SEARCH_LIMIT)
        return render_template(
            "search.html", text=text, kind=kind, hits=hits, exact=exact, kinds=_searchable(store)
        )

    @pages.route("/node")
    def node() -> str:
        kind, key = _kind_and_key()
        data = show(store, key, kind=kind)
        drawing = neighbourhood.svg(
            data["kind"], data["key"], data["relationships"], node_url, caption
        )
        types = sorted(
            {t for n in neighbourhood.neighbours(data["relationships"]) for t in n.types}
        )
        wanted = FactFilter.from_request(data["relationships"])
        is_model = data["kind"] == NodeLabel.MODEL.value
        heatmap = heatmap_svg(store, key) if is_model else None
        trajectories = [
            (metric, source, Markup(svg))
            for metric, source, svg in (page_trajectories(store, key) if is_model else [])
        ]
        found = _findings(store, key) if data["kind"] == NodeLabel.ANALYSIS.value else None
        return render_template(
            "node.html",
            data=data,
            drawing=Markup(drawing),
            examples=shaded_examples(data.get("evidence", {}).get("examples", [])),
            facts=_fact_tables(data["relationships"], wanted),
            wanted=wanted,
            per_page=MAX_FACTS_SHOWN,
            heatmap=Markup(heatmap) if heatmap else None,
            trajectories=trajectories,
            final_model=split_checkpoint(key)[0],
            found=found,
            page_url=lambda **change: _query(**wanted.query(kind, key, **change)),
            legend=[(t, edge_colour(t)) for t in types],
            exports=[(fmt, _query(kind=kind, key=key, format=fmt)) for fmt in EXPORTS],
        )

    @pages.route("/compare")
    def compare() -> str:
        kind, key = _kind_and_key()
        other_kind = request.args.get("other_kind", kind)
        other = request.args.get("other", "")
        if other_kind not in _labels() or not other:
            abort(404)
        left, right = show(store, key, kind=kind), show(store, other, kind=other_kind)
        between = [
            f
            for f in left["relationships"].get(RelType.SIMILAR_TO.value, [])
            if f["other"] == other
        ]
        live = (
            live_between(store, key, other)
            if kind in COMPONENT_KINDS and other_kind in COMPONENT_KINDS
            else []
        )
        rows = sorted(set(left["properties"]) | set(right["properties"]))
        return render_template(
            "compare.html",
            left=left,
            right=right,
            between=between,
            live=live,
            rows=rows,
            counts=_counts(left, right),
        )


def _downloads(pages: Blueprint, store: GraphStore, downloads: threading.BoundedSemaphore) -> None:
    """A node's neighbourhood (or its analyses' BibTeX) as a file; a few at once, so that
    rendering figures cannot hold up the pages."""

    @pages.route("/export")
    def download() -> Response:
        kind, key = _kind_and_key()
        fmt = request.args.get("format", "")
        if fmt not in EXPORTS:
            abort(404)
        if not downloads.acquire(timeout=DOWNLOAD_WAIT_S):  # the pages stay free meanwhile
            return Response(
                "too many downloads at once; try again shortly\n",
                503,
                mimetype="text/plain",
                headers={"Retry-After": "5"},
            )
        try:
            return _download(kind, key, fmt)
        finally:
            downloads.release()

    def _download(kind: str, key: str, fmt: str) -> Response:
        data = show(store, key, kind=kind)
        # a header is Latin-1: the plain name is ASCII, the exact one travels as RFC 5987's
        # filename* (a non-Latin-1 character in the header dropped the connection)
        name = "".join(c if c.isascii() and (c.isalnum() or c in "-.") else "_" for c in key)
        name = name[:80] or "export"
        exact = quote(f"{key[:80]}.{fmt}", safe="")
        if fmt == "bib":
            body = bibtex(store, {a["uid"] for a in data["analyses"]}).encode()
        else:
            graph = export.subgraph(
                store,
                around=key,
                hops=1,
                rel_types=[t for t in RelType if t is not RelType.IN_MODEL]
                if kind == NodeLabel.MODEL.value
                else (),
            )
            with tempfile.TemporaryDirectory(prefix="circuitbase-web-") as tmp:
                written = export.write(
                    store, graph, fmt, Path(tmp) / f"{name}.{fmt}", title=f"{kind} {key}"
                )
                body = written[0].read_bytes()
        return Response(
            body,
            mimetype=EXPORTS[fmt],
            headers={
                "Content-Disposition": f"attachment; filename=\"{name}.{fmt}\"; "
                f"filename*=UTF-8''{exact}"
            },
        )


EXAMPLES_SHOWN = 10
WINDOW = (32, 16)  # tokens shown before and after an example's maximum


def shaded_examples(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The strongest examples around their maxima, each token with the opacity of its
    shading: its value over the largest shown (negative values unshaded)."""
    shown = examples[:EXAMPLES_SHOWN]
    top = max((e["max_value"] for e in shown), default=0.0) or 1.0
    pages = []
    for example in shown:
        tokens, values, peak = example["tokens"], example["values"], example["max_index"]
        start, end = max(0, peak - WINDOW[0]), min(len(tokens), peak + WINDOW[1] + 1)
        pages.append(
            {
                "analysis": example["analysis"],
                "max_value": example["max_value"],
                "cut_start": start > 0,
                "cut_end": end < len(tokens),
                "tokens": [
                    {
                        "text": visible_token(tokens[i]),
                        "value": values[i],
                        "alpha": round(min(1.0, max(0.0, values[i] / top)), 3),
                        "max": i == peak,
                    }
                    for i in range(start, end)
                ],
            }
        )
    return pages


def _labels() -> set[str]:
    return {label.value for label in NodeLabel}


def _searchable(store: GraphStore) -> list[str]:
    return [label.value for label in search_fields()]


def _kind_and_key() -> tuple[str, str]:
    kind, key = request.args.get("kind", ""), request.args.get("key", "")
    if kind not in _labels() or not key:
        abort(404)
    return kind, key


def _query(**params: str) -> str:
    return "?" + urlencode(params)


@dataclass(frozen=True)
class FactFilter:
    """Which facts a node's page lists: of one relationship type and one model (the other
    side's), a page of MAX_FACTS_SHOWN at a time, strongest first (as `show` orders them)."""

    type: str | None = None
    model: str | None = None
    page: int = 1
    types: tuple[str, ...] = ()
    models: tuple[str, ...] = ()

    @classmethod
    def from_request(cls, relationships: dict[str, list[dict[str, Any]]]) -> FactFilter:
        models = sorted(
            {
                model
                for facts in relationships.values()
                for f in facts
                if (model := model_of(f["other"])) is not None
            }
        )
        type_ = request.args.get("type") or None
        model = request.args.get("model") or None
        try:
            page = max(1, int(request.args.get("page", "1")))
        except ValueError:
            page = 1
        return cls(
            type_ if type_ in relationships else None,
            model if model in models else None,
            page,
            tuple(relationships),
            tuple(models),
        )

    def keeps(self, type_: str, fact: dict[str, Any]) -> bool:
        return (self.type is None or type_ == self.type) and (
            self.model is None or model_of(fact["other"]) == self.model
        )

    def query(self, kind: str, key: str, **change: Any) -> dict[str, str]:
        values = {
            "kind": kind,
            "key": key,
            "type": self.type,
            "model": self.model,
            "page": self.page,
        } | change
        return {
            k: str(v) for k, v in values.items() if v not in (None, "", 1) or k in ("kind", "key")
        }


def _fact_tables(
    relationships: dict[str, list[dict[str, Any]]], wanted: FactFilter = FactFilter()
) -> list[dict[str, Any]]:
    """Per relationship type the filter keeps: its columns, one page of its facts, how
    many there are and whether more pages follow."""
    tables = []
    for type_, facts in relationships.items():
        kept = [f for f in facts if wanted.keeps(type_, f)]
        if not kept:
            continue
        start = (wanted.page - 1) * MAX_FACTS_SHOWN
        shown = kept[start : start + MAX_FACTS_SHOWN]
        fixed = ["direction", "other", "other_kind", "analysis"]
        columns = list(dict.fromkeys(k for f in shown for k in f if k not in fixed))
        tables.append(
            {
                "type": type_,
                "colour": edge_colour(type_),
                "facts": shown,
                "columns": columns,
                "total": len(kept),
                "first": start + 1,
                "more": start + MAX_FACTS_SHOWN < len(kept),
            }
        )
    return tables


def _findings(store: GraphStore, analysis: str) -> dict[str, Any]:
    """What an analysis found: its facts, strongest first (a page of them), and, when they
    are few enough to read as a picture (a circuit), their drawing."""
    facts = [
        {
            "type": row["type"],
            "from": row["start"],
            "from_kind": primary_label(row["start_labels"]).value,
            "to": row["end"],
            **{k: v for k, v in row["props"].items() if k != "analysis" and v is not None},
        }
        for row in store.facts_of(analysis)
    ]
    facts.sort(key=lambda f: strongest_first({**f, "analysis": None}, f["type"]))
    drawing = None
    if 0 < len(facts) <= MAX_DRAWN_FACTS:
        try:
            drawing = svg_text(export.figure(store, export.subgraph(store, analysis=analysis)))
        except CircuitbaseError:  # too many nodes for a legible figure
            drawing = None
    columns = list(
        dict.fromkeys(
            k
            for f in facts[:MAX_FACTS_SHOWN]
            for k in f
            if k not in ("type", "from", "from_kind", "to")
        )
    )
    return {
        "facts": facts[:MAX_FACTS_SHOWN],
        "total": len(facts),
        "columns": columns,
        "drawing": Markup(drawing) if drawing else None,
    }


def _counts(left: dict[str, Any], right: dict[str, Any]) -> list[tuple[str, int, int]]:
    types = sorted(set(left["relationships"]) | set(right["relationships"]))
    return [
        (t, len(left["relationships"].get(t, [])), len(right["relationships"].get(t, [])))
        for t in types
    ]
