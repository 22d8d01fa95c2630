"""`circuitbase.open()`: the one object a notebook opens, with a method per question or
change the command line offers (the commands are thin wrappers over these), results as
`Rows`, `Node` and `Graph` (api/results.py).

    import circuitbase as cb
    with cb.open() as kb:            # $CIRCUITBASE_URI, else the default store
        kb.similar("gpt2-small/L5/H5", per_model=True).to_pandas()
        kb.query("strongest_heads", role="induction")
        kb.ingest(frame, format="heads")  # a DataFrame with the interchange columns

Names are the names a researcher knows: uids, `L5H1` with `model=`, Neuronpedia's and
SAELens's feature names, any of a model's names, `MODEL@REVISION` for a checkpoint.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import IngestErrors, ReadOnlyViolation, RecordError
from ..ingest.pipeline import expand, ingest, ingest_files
from ..ingest.scratch import PlanRules
from ..queries.names import checked_component, checked_model, checked_value
from ..queries.registry import get_template
from ..queries.show import show
from ..queries.similar import no_comparison
from ..queries.similar import similar as find_similar
from ..schema.checkpoints import with_revision
from ..schema.graph import NodeLabel
from ..schema.nodes import ModelSpec
from ..sources.models import component_kinds, model_records
from ..sources.registry import formats
from ..store import open_store
from ..store.base import GraphStore
from .results import Graph, Node, Rows

MODEL_COLUMNS = ("family", "n_layers", "d_model", "n_heads", "d_mlp", "revision", "step")


class KnowledgeBase:
    """The store and every question and change circuitbase offers on it."""

    def __init__(self, store: GraphStore, *, read_only: bool = False) -> None:
        self._store = store
        self.read_only = read_only

    @classmethod
    def open(
        cls,
        uri: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        create: bool = True,
    ) -> KnowledgeBase:
        """The store at `uri` (the command line's rules: a directory, falkordb://,
        bolt:// or neo4j://; $CIRCUITBASE_URI, else the default store). `read_only`: a
        shared store this notebook only reads (an ingest or removal is refused)."""
        return cls(open_store(uri, create=create and not read_only), read_only=read_only)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def location(self) -> str:
        return self._store.location

    # -- questions -------------------------------------------------------------------------

    def models(self) -> Rows:
        """The stored models and their shapes (checkpoints with their revision and step)."""
        return Rows(
            [
                {"model": m["uid"], **{k: m.get(k) for k in MODEL_COLUMNS}}
                for m in self._store.models()
            ]
        )

    def show(self, name: str, model: str | None = None) -> Node:
        """Everything known about NAME: a uid, a short form with `model`, a concept, a
        role, an analysis, a model."""
        return Node(show(self._store, name, model))

    def search(self, text: str, kind: str | Sequence[str] = (), limit: int = 20) -> Rows:
        """Nodes whose names hold every word of `text`, best first; `kind`: labels."""
        kinds = [kind] if isinstance(kind, str) else list(kind)
        return Rows(self._store.search(text, [NodeLabel(k) for k in kinds], limit))

    def query(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        max_rows: int | None = None,
        max_bytes: int | None = None,
        template_dir: Path | None = None,
        **keywords: Any,
    ) -> Rows:
        """A query template by name (`circuitbase query list`; `template_dir` adds your
        own), its parameters as keywords (or `params`); read-only, stopped after
        `timeout` seconds, at most `max_rows` rows (`cut` says where a result was cut)."""
        rows = get_template(name, template_dir).run(
            self._store,
            timeout=timeout,
            max_rows=max_rows,
            max_bytes=max_bytes,
            **(params or {}),
            **keywords,
        )
        return Rows(list(rows), title=name, cut=getattr(rows, "cut", None))

    def cypher(
        self,
        text: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        max_rows: int | None = None,
        max_bytes: int | None = None,
    ) -> Rows:
        """An ad hoc Cypher query, read-only (a write is refused), with its parameters."""
        rows = self._store.read(
            text,
            params or {},
            untrusted=True,
            timeout=timeout,
            max_rows=max_rows,
            max_bytes=max_bytes,
        )
        return Rows(list(rows), cut=getattr(rows, "cut", None))

    def similar(
        self,
        uid: str,
        in_: str | None = None,
        *,
        metric: str | None = None,
        top: int = 10,
        per_model: bool = False,
        dead_and_dense: bool = False,
        timeout: float | None = None,
    ) -> Rows:
        """Components of other models like `uid` (in `in_` only), best first, each with
        its metric, the analyses behind it and its evidence; none: `note` says what the
        component has and which command would compare it."""
        uid = str(checked_component(self._store, uid))
        matches = find_similar(
            self._store,
            uid,
            model=in_,
            metric=metric,
            top=top,
            per_model=per_model,
            timeout=timeout,
            dead_and_dense=dead_and_dense,
        )
        note = None
        if not matches:
            note = no_comparison(self._store, uid) + (f" (asked in {in_})" if in_ else "")
        return Rows([m.row() for m in matches], title=f"similar to {uid}", note=note)

    # -- changes ----------------------------------------------------------------------------

    def ingest(
        self, source: Any, format: str | None = None, *, revision: str | None = None, **options: Any
    ) -> Rows:
        """Put analyses in: files or folders of a `format` (`circuitbase ingest --help`
        lists them; `options` are its options, by keyword), a pandas DataFrame with a
        format's interchange columns, records, or a TransformerLens HookedTransformer or
        its cfg (the model's shape; `name=`, `components=`). `revision`: a training
        checkpoint's. Everything is checked first; nothing is written from bad input."""
        self._writable()
        if (config := _transformer_config(source)) is not None:
            return self._ingest_model(config, revision, options)
        if _is_frame(source):
            return self._ingest_frame(source, _format(format), revision, options)
        if isinstance(source, (str, os.PathLike)) or _paths(source):
            fmt = _format(format)
            given = [source] if isinstance(source, (str, os.PathLike)) else source
            rules = PlanRules(new_roles=frozenset(options.pop("new_roles", ())))
            result = ingest_files(
                self._store,
                expand(map(Path, given), fmt.suffixes, fmt.names),
                fmt.read_with(options, revision),
                rules=rules,
            )
        else:
            if format is not None or options or revision is not None:
                raise RecordError("records go in as they are: no format, options or revision")
            result = ingest(self._store, source)
        counts = result.counts
        return Rows(
            [
                {
                    "nodes_created": counts.nodes_created,
                    "relationships_created": counts.relationships_created,
                }
            ]
        )

    def _ingest_frame(
        self, frame: Any, fmt: Any, revision: str | None, options: dict[str, Any]
    ) -> Rows:
        """A DataFrame as the format's interchange CSV, read by the format's own reader:
        the same checks, the error naming the row (counted from 0) and column."""
        if ".csv" not in fmt.suffixes:
            raise RecordError(f"a DataFrame goes in as CSV; {fmt.name} reads no CSV")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "DataFrame.csv"
            frame.to_csv(path, index=False)
            try:
                return self.ingest(path, fmt.name, revision=revision, **options)
            except RecordError as err:
                raise _in_frame(err, path) from None

    def _ingest_model(
        self, config: dict[str, Any], revision: str | None, options: dict[str, Any]
    ) -> Rows:
        """A TransformerLens model's shape (`name=` names it, else its cfg's model_name;
        `components=` "heads", "neurons", ... or "all" adds its components)."""
        name = with_revision(str(options.pop("name", None) or config.get("model_name")), revision)
        wanted = options.pop("components", ())
        if options:
            raise RecordError(f"a model goes in with name= and components= only, not {options}")
        spec = ModelSpec.from_tl_config({**config, "model_name": name})
        kinds = component_kinds([wanted] if isinstance(wanted, str) else wanted, "components=")
        counts = ingest(self._store, model_records(spec, kinds)).counts
        return Rows(
            [
                {
                    "model": spec.name,
                    "nodes_created": counts.nodes_created,
                    "relationships_created": counts.relationships_created,
                }
            ]
        )

    def remove_analysis(self, uid: str) -> Rows:
        """Retract analysis `uid` and every fact it brought."""
        self._writable()
        checked_value(self._store, NodeLabel.ANALYSIS, None, uid, "analysis")
        result = self._store.remove_analysis(uid)
        return Rows(
            [
                {
                    "analysis": uid,
                    "relationships_deleted": result.relationships_deleted,
                    "nodes_deleted": result.nodes_deleted,
                }
            ]
        )

    def remove_model(self, model: str) -> Rows:
        """Remove `model` (a checkpoint leaves its final model and other checkpoints): its
        components with every fact about them, the analyses about it alone, and what
        nothing refers to any more."""
        self._writable()
        name = checked_model(self._store, model) or model
        result = self._store.remove_model(name)
        return Rows(
            [
                {
                    "model": name,
                    "nodes_deleted": result.nodes_deleted,
                    "relationships_deleted": result.relationships_deleted,
                }
            ]
        )

    def analyses(self) -> Rows:
        """Every stored analysis with its kind, method and models."""
        return Rows(self._store.analysis_list())

    # -- export -----------------------------------------------------------------------------

    def subgraph(
        self,
        *,
        template: str | None = None,
        params: dict[str, Any] | None = None,
        around: str | None = None,
        hops: int = 1,
        analysis: str | None = None,
        model: str | None = None,
    ) -> Graph:
        """A template's results, a node's neighbourhood or an analysis's findings as a
        graph (`to_networkx()`)."""
        from ..export import subgraph

        return Graph(
            subgraph(
                self._store,
                template=template,
                params=params,
                around=around,
                hops=hops,
                analysis=analysis,
                model=model,
            )
        )

    def export(
        self, graph: Graph, fmt: str, path: str | os.PathLike[str], **style: Any
    ) -> list[Path]:
        """Write `graph` as the command line does (GraphML, JSON, CSV, Cypher, a figure;
        its BibTeX beside it); returns the paths written."""
        from ..export import write
        from ..export.figure import FigureStyle

        return write(self._store, graph.to_networkx(), fmt, Path(path), style=FigureStyle(**style))

    def figure(self, graph: Graph, title: str | None = None, **style: Any) -> Any:
        """`graph` drawn for a paper, as a matplotlib Figure."""
        from ..export import figure
        from ..export.figure import FigureStyle

        return figure(self._store, graph.to_networkx(), title, FigureStyle(**style))

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyViolation("this store was opened read-only (cb.open(read_only=True))")


def _format(name: str | None) -> Any:
    known = formats()
    if name not in known:
        raise RecordError(f"format= is one of {', '.join(known)} (got {name!r})")
    return known[name]


def _transformer_config(value: Any) -> dict[str, Any] | None:
    """The config (as a dict) of a TransformerLens HookedTransformer or of its cfg; None
    for anything else (checked by shape, so TransformerLens need not be imported)."""
    config = getattr(value, "cfg", value)
    if type(config).__name__ == "HookedTransformerConfig" and hasattr(config, "to_dict"):
        found: dict[str, Any] = config.to_dict()
        if getattr(value, "cfg", None) is not None and hasattr(config, "n_params"):
            found["n_params"] = config.n_params
        return found
    return None


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "to_csv")


def _paths(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(v, (str, os.PathLike)) for v in value)
    )


def _in_frame(err: RecordError, path: Path) -> RecordError:
    """The reader's error about the temporary CSV, said of the DataFrame: its line N
    (the header is line 1) is the frame's row N - 2 (counted from 0, as `frame.loc`)."""
    if isinstance(err, IngestErrors) and len(err.errors) == 1:
        err = err.errors[0]
    record = err.record
    if isinstance(record, str) and record.startswith(str(path)):
        record = record[len(str(path)) :].lstrip(", ")
    if isinstance(record, str) and record.startswith("line "):
        number = record.removeprefix("line ").split(",")[0]
        if number.isdigit():
            record = f"row {int(number) - 2}"
    return RecordError(
        f"{err.reason} (nothing written)", file="DataFrame", record=record, field=err.field
    )
