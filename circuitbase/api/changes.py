"""The knowledge base's changes: analyses in (files, DataFrames, records, a
TransformerLens model, vectors as arrays), models added, similarity computed, analyses
run on a model, and what was put in taken out again. Every change is checked whole
before anything is written; a read-only knowledge base refuses them all."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from difflib import get_close_matches
from itertools import chain
from pathlib import Path
from typing import Any

from ..errors import IngestErrors, RecordError
from ..ingest import ingest, ingest_files, ingest_vectors
from ..ingest.pipeline import expand
from ..ingest.scratch import PlanRules, Record
from ..queries.check import check as find_problems
from ..queries.check import repair as mend
from ..queries.names import checked_model, checked_value, stored_models
from ..schema.checkpoints import split_checkpoint, with_revision
from ..schema.graph import NodeLabel, RelType
from ..schema.nodes import ModelSpec
from ..schema.records import NodeRecord, ref, rel
from ..sources.formats import Format
from ..sources.models import component_count, component_kinds, model_records, model_spec
from ..sources.registry import formats, import_formats
from ..sources.saelens import sae_dictionary
from ..sources.vectors import MATRIX_SUFFIXES, read_vector_files, vectors_from_arrays
from .progress import with_progress
from .results import Rows
from .session import Session, written


class Changes(Session):
    """What changes the knowledge: each method mirrors a command (`ingest`, `import`,
    `model add`, `similarity compute`, `analyze`, `... remove`, `check --repair`).
    `progress`: show each phase as it runs (a bar in a terminal or in Jupyter)."""

    def ingest(
        self,
        source: Any,
        format: str | None = None,
        *,
        revision: str | None = None,
        new_roles: Iterable[str] = (),
        bulk: bool | None = None,
        progress: bool = False,
        **options: Any,
    ) -> Rows:
        """Put analyses in: files or folders of a `format` (`circuitbase ingest --help`
        lists them; `options` are its options, by keyword), a pandas DataFrame with a
        format's interchange columns, records, a TransformerLens HookedTransformer or
        its cfg (the model's shape; `name=`, `components=`), or an SAELens SAE (its
        dictionary and, unless `vectors=False`, its decoder directions as its features'
        vectors; `release=`, `sae_id=` or `name=` where its metadata has no Neuronpedia
        id). `revision`: a training checkpoint's. `new_roles`: head roles that are new
        although one edit from a known one. Everything is checked first; nothing is
        written from bad input."""
        self._writable()
        if (config := _transformer_config(source)) is not None:
            return self._ingest_model(config, revision, options)
        if _is_sae(source):
            return self._ingest_sae(source, revision, progress, options)
        if _is_frame(source):
            return self._ingest_frame(
                source, _format(format, formats()), revision, new_roles, options
            )
        if (paths := _as_paths(source)) is not None:
            fmt = _format(format, formats())
            _check_options(fmt, options)
            reader = fmt.read_with(options, revision)
            return self._read(fmt, paths, reader, new_roles, bulk, progress)
        if format is not None or options or revision is not None:
            raise RecordError("records go in as they are: no format, options or revision")
        return self._ingest_records("records", source, progress)

    def import_(self, paths: Any, format: str, *, progress: bool = False) -> Rows:
        """Load a subgraph `circuitbase export` wrote (`graphml`, `cypher`): checked like
        any ingest; it adds, never changes what is stored, and only the labels and
        relationship types the schema lets an import create."""
        self._writable()
        fmt = _format(format, import_formats())
        given = _as_paths(paths)
        if given is None:
            raise RecordError("an import reads files: give a path or a list of paths")
        return self._read(fmt, given, fmt.read_with({}, None), (), None, progress)

    def _read(
        self,
        fmt: Format,
        paths: list[Path],
        reader: Any,
        new_roles: Iterable[str],
        bulk: bool | None,
        progress: bool,
    ) -> Rows:
        files = expand(paths, fmt.suffixes, fmt.names)
        rules = PlanRules(additive=fmt.additive, new_roles=frozenset(new_roles))
        what = fmt.what or fmt.name
        return written(
            what,
            with_progress(
                what,
                lambda p: ingest_files(
                    self._store, files, reader, progress=p, bulk=bulk, rules=rules
                ),
                progress,
            ),
        )

    def _ingest_frame(
        self,
        frame: Any,
        fmt: Format,
        revision: str | None,
        new_roles: Iterable[str],
        options: dict[str, Any],
    ) -> Rows:
        """A DataFrame as the format's interchange CSV (a circuit's, as its interchange
        JSON: `_circuit_file`), read by the format's own reader: the same checks, the
        error naming the row (counted from 0) and column."""
        if ".csv" not in fmt.suffixes and fmt.name != "circuit":
            raise RecordError(f"a DataFrame goes in as CSV; {fmt.name} reads no CSV")
        with tempfile.TemporaryDirectory() as folder:
            if fmt.name == "circuit":
                path = Path(folder) / "DataFrame.json"
                path.write_text(json.dumps(_circuit_file(frame, options)))
            else:
                path = Path(folder) / "DataFrame.csv"
                frame.to_csv(path, index=False)
            try:
                return self.ingest(
                    path, fmt.name, revision=revision, new_roles=new_roles, **options
                )
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
        return written(spec.name, ingest(self._store, model_records(spec, kinds)), model=spec.name)

    def _ingest_sae(
        self, sae: Any, revision: str | None, progress: bool, options: dict[str, Any]
    ) -> Rows:
        """An SAELens SAE's Dictionary, then its features with their decoder directions."""
        vectors = options.pop("vectors", True)
        wanted = {k: options.pop(k, None) for k in ("release", "sae_id", "name")}
        if options:
            raise RecordError(
                f"an SAE goes in with release=, sae_id=, name=, vectors= only, not {options}"
            )
        if revision is not None:
            raise RecordError("an SAE's model is its metadata's: give no revision")
        dictionary, decoder = sae_dictionary(sae, **wanted)
        if not vectors:
            result = ingest(self._store, [dictionary])
            return written("SAE", result, dictionary=dictionary.key, features=0)
        matrix = decoder.detach().cpu() if hasattr(decoder, "detach") else decoder
        features = [f"{dictionary.key}/F{i}" for i in range(len(matrix))]
        model = dictionary.props["model"]
        # the directions are checked before anything is written, and go in with their
        # Dictionary in one plan: a refused matrix leaves no Dictionary behind
        found = vectors_from_arrays(matrix, model, features)
        row = self._vectors_in(found, model, progress, records=[dictionary])[0]
        row = {**row, "what": "SAE", "dictionary": dictionary.key, "features": len(features)}
        return Rows([row], title="SAE")

    def ingest_vectors(
        self,
        source: Any,
        model: str,
        *,
        components: Sequence[str] | None = None,
        dictionary: str | None = None,
        revision: str | None = None,
        progress: bool = False,
    ) -> Rows:
        """Per-component embeddings (`similarity compute --metric vectors`, `similar
        --metric decoder`): files (JSON or CSV, as `ingest vectors` reads; a decoder
        matrix, `.npy` or SAELens's `.safetensors`, with the `dictionary` its rows are the
        features of), `{component: array}` (numpy, torch or lists), or one matrix whose
        rows `components` names (an SAE's `W_dec`)."""
        self._writable()
        model = with_revision(model, revision)
        if (paths := _as_paths(source)) is not None:
            files = expand(paths, (".json", ".csv", *MATRIX_SUFFIXES))
            found = read_vector_files(files, model, dictionary)
        else:
            found = vectors_from_arrays(source, model, components)
        return self._vectors_in(found, model, progress)

    def _vectors_in(
        self,
        found: dict[str, list[float]],
        model: str,
        progress: bool,
        records: Sequence[Record] = (),
    ) -> Rows:
        """Checked vectors in, their components created with `records` in one plan."""
        result = with_progress(
            "vectors",
            lambda p: ingest_vectors(self._store, found, records=records, progress=p),
            progress,
        )
        dimension = len(next(iter(found.values())))
        return written("vectors", result, model=model, components=len(found), dimension=dimension)

    def add_model(
        self,
        name: str,
        *,
        config: str | os.PathLike[str] | None = None,
        components: Iterable[str] | str = (),
        base: str | None = None,
        revision: str | None = None,
        bulk: bool | None = None,
        progress: bool = False,
        **shape: Any,
    ) -> Rows:
        """Add model `name` (known models need no shape; else `config=` a TransformerLens
        config JSON or the shape as keywords: n_layers=, n_heads=, ...), its `components`
        ("neurons", "heads", "mlp", "attn" or "all"), `base` the stored model it was
        fine-tuned from; `revision` (or NAME@REV) a training checkpoint, placed by its
        name or by step= and tokens=."""
        self._writable()
        name = with_revision(name, revision)
        final, at = split_checkpoint(name)
        if at is None and (shape.get("step") is not None or shape.get("tokens") is not None):
            raise RecordError("step and tokens place a checkpoint (NAME@REVISION)")
        stored = next(iter(self._store.models([final])), None) if at is not None else None
        spec = model_spec(name, Path(config) if config else None, shape, stored)
        if base is not None:
            checked_model(self._store, base)  # the base is stored first: a typo names near ones
        wanted = components.split(",") if isinstance(components, str) else components
        kinds = component_kinds(wanted, "components")
        records: Iterable[Record] = model_records(spec, kinds)
        count = component_count(spec, kinds)
        if base is not None:
            link = rel(
                RelType.FINE_TUNED_FROM, ref(NodeLabel.MODEL, spec.name), ref(NodeLabel.MODEL, base)
            )
            records = chain(records, [link])
        total = 1 + count + (base is not None)  # known before reading
        result = with_progress(
            name,
            lambda p: ingest(self._store, records, progress=p, total=total, bulk=bulk),
            progress,
        )
        return written(name, result, model=spec.name, components=count)

    def compute_similarity(
        self,
        model_a: str,
        model_b: str,
        metric: str,
        *,
        top_k: int = 5,
        min_score: float = 0.1,
        min_f1: float = 0.5,
        max_token_share: float = 0.01,
        progress: bool = False,
    ) -> Rows:
        """Store the top-k SIMILAR_TO edges between the neurons of two models by `metric`
        (tokens, concepts, vectors); a rerun with other settings replaces the earlier."""
        from ..analyze.similarity import similarity_analysis_uid, similarity_records

        self._writable()
        stored = stored_models(self._store)
        for name in (model_a, model_b):
            checked_model(self._store, name, stored)
        records = similarity_records(
            self._store,
            model_a,
            model_b,
            metric,  # type: ignore[arg-type]  # checked there against METRICS
            top_k=top_k,
            min_score=min_score,
            min_f1=min_f1,
            max_token_share=max_token_share,
        )
        analysis = similarity_analysis_uid(metric, model_a, model_b)  # type: ignore[arg-type]
        return self._ingest_records(f"similarity ({metric})", records, progress, analysis)

    def analyze_heads(
        self,
        model: Any,
        *,
        name: str | None = None,
        sequences: int = 32,
        period: int | None = None,
        seed: int = 0,
        checkpoint: str | os.PathLike[str] | None = None,
        revision: str | None = None,
        device: str = "cpu",
        progress: bool = False,
    ) -> Rows:
        """Score every head of `model` (a name, loaded with TransformerLens, or a
        HookedTransformer you hold) as induction, previous-token and self-attention."""
        from ..analyze.heads import head_analysis_records

        self._writable()
        loaded, name = _loaded(model, name, checkpoint, revision, device)
        records = head_analysis_records(
            loaded, name, n_sequences=sequences, period=period, seed=seed
        )
        return self._ingest_records("head roles", records, progress)

    def analyze_probe(
        self,
        model: Any,
        concept_data: str | os.PathLike[str],
        *,
        name: str | None = None,
        k: int = 1,
        layers: list[int] | None = None,
        seed: int = 0,
        checkpoint: str | os.PathLike[str] | None = None,
        revision: str | None = None,
        device: str = "cpu",
        progress: bool = False,
    ) -> Rows:
        """k-sparse probing of `model`'s MLP neurons for the concept in `concept_data`."""
        from ..analyze.probe import probe_analysis_records

        self._writable()
        loaded, name = _loaded(model, name, checkpoint, revision, device)
        records = probe_analysis_records(
            loaded, name, Path(concept_data), k=k, layers=layers, seed=seed
        )
        return self._ingest_records("probes", records, progress)

    def analyze_correlate(
        self,
        model_a: Any,
        model_b: Any,
        text_data: str | os.PathLike[str],
        *,
        checkpoint_a: str | os.PathLike[str] | None = None,
        checkpoint_b: str | os.PathLike[str] | None = None,
        top_k: int = 5,
        seed: int = 0,
        batch_tokens: int = 4096,
        revision: str | None = None,
        device: str = "cpu",
        progress: bool = False,
    ) -> Rows:
        """Correlate every MLP neuron of `model_a` with every one of `model_b` on
        `text_data` (Gurnee et al. 2024): top-k SIMILAR_TO edges, excess correlation,
        the `universal` family."""
        from ..analyze.correlate import correlate_analysis_records

        self._writable()
        loaded_a, name_a = _loaded(model_a, None, checkpoint_a, revision, device)
        loaded_b, name_b = _loaded(model_b, None, checkpoint_b, revision, device)
        records = list(
            correlate_analysis_records(
                loaded_a,
                name_a,
                loaded_b,
                name_b,
                Path(text_data),
                top_k=top_k,
                seed=seed,
                batch_tokens=batch_tokens,
            )
        )
        uid = next(
            r.key for r in records if isinstance(r, NodeRecord) and r.label is NodeLabel.ANALYSIS
        )
        return self._ingest_records("correlations", records, progress, replaces=uid)

    def _ingest_records(
        self, what: str, records: Iterable[Record], progress: bool, replaces: str | None = None
    ) -> Rows:
        """Records in (an analysis's, or a notebook's own); with `replaces` (an analysis
        uid), they become exactly its facts (what an earlier run with other settings found
        is retracted)."""
        result = with_progress(
            what, lambda p: ingest(self._store, records, progress=p, replaces=replaces), progress
        )
        return written(what, result, **({"analysis": replaces} if replaces else {}))

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

    def repair(self) -> Rows:
        """Repair what `check()` finds that can be repaired: facts citing an analysis the
        store lacks and nodes nothing refers to are deleted, analyses stored under the
        wrong model retracted (ingest their files again); the rows: what is left."""
        self._writable()
        counts = mend(self._store, find_problems(self._store))
        left = [
            {"finding": f.kind, "count": f.count, "detail": f.detail}
            for f in find_problems(self._store)
        ]
        return Rows(
            left,
            title="repaired",
            note=f"repaired: {counts.relationships_deleted} relationships and "
            f"{counts.nodes_deleted} nodes deleted",
        )


def _loaded(
    model: Any,
    name: str | None,
    checkpoint: str | os.PathLike[str] | None,
    revision: str | None,
    device: str,
) -> tuple[Any, str]:
    """A HookedTransformer and the name it is stored under: the one given (named by
    `name` or its cfg's model_name), else `model` loaded by name (or from `checkpoint`)."""
    from ..analyze.models import load_model

    if _transformer_config(model) is not None:
        return model, with_revision(name or str(model.cfg.model_name), revision)
    name = with_revision(name or str(model), revision)
    return load_model(name, Path(checkpoint) if checkpoint else None, device), name


def _check_options(fmt: Format, options: dict[str, Any]) -> None:
    """Every keyword is one of the format's options (a typo is named, not ignored)."""
    known = [option.keyword for option in fmt.options]
    for name in sorted(set(options) - set(known)):
        near = get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        listed = ", ".join(known) or "none"
        raise RecordError(f"{fmt.name} takes the options {listed}, not {name!r}{hint}")


def _format(name: str | None, known: dict[str, Format]) -> Format:
    """The format `name` of `known` (the ingest or the import registry)."""
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


def _is_sae(value: Any) -> bool:
    """An SAELens SAE, by shape (sae_lens need not be imported): a cfg with metadata and
    d_sae, and decoder weights."""
    cfg = getattr(value, "cfg", None)
    return hasattr(cfg, "metadata") and hasattr(cfg, "d_sae") and hasattr(value, "W_dec")


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "to_csv")


def _as_paths(value: Any) -> list[Path] | None:
    """A path, or a non-empty list of paths, as paths; None for anything else."""
    if isinstance(value, (str, os.PathLike)):
        return [Path(value)]
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, (str, os.PathLike)) for v in value)
    ):
        return [Path(v) for v in value]
    return None


def _circuit_file(frame: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The circuit interchange JSON of a DataFrame of output nodes (a `component`
    column) or of edges (`source`, `target`), the other as `edges=` or `output_nodes=`,
    and `model=`, `task=` (its name), `metric=`; a missing cell (NaN) is a missing
    value, as in a CSV."""
    tables = {
        "output_nodes": options.pop("output_nodes", None),
        "edges": options.pop("edges", None),
    }
    columns = set(frame.columns)
    which = "edges" if {"source", "target"} <= columns else "output_nodes"
    if tables[which] is not None:
        raise RecordError(f"the DataFrame is the circuit's {which}; give the other table")
    tables[which] = frame
    found: dict[str, Any] = {
        "model": options.pop("model", None),
        "task": {"name": options.pop("task", None)},
        "metric": options.pop("metric", None),
    }
    for name, table in tables.items():
        if table is not None:
            found[name] = [
                {k: _plain(v) for k, v in row.items()} for row in table.to_dict("records")
            ]
    return {k: v for k, v in found.items() if v is not None}


def _plain(value: Any) -> Any:
    """A DataFrame cell as JSON: numpy scalars as Python numbers, NaN as missing."""
    value = value.item() if hasattr(value, "item") and not isinstance(value, (list, str)) else value
    return None if isinstance(value, float) and math.isnan(value) else value


_TABLE_ROW = re.compile(r"(output_nodes|edges)\[(\d+)\]")


def _in_frame(err: RecordError, path: Path) -> RecordError:
    """The reader's error about the temporary CSV, said of the DataFrame: its line N
    (the header is line 1) is the frame's row N - 2 (counted from 0, as `frame.loc`);
    a circuit's `edges[N]` is its edges' row N."""
    if isinstance(err, IngestErrors) and len(err.errors) == 1:
        err = err.errors[0]
    record = err.record
    if isinstance(record, str) and record.startswith(str(path)):
        record = record[len(str(path)) :].lstrip(", ")
    if isinstance(record, str) and record.startswith("line "):
        number = record.removeprefix("line ").split(",")[0]
        if number.isdigit():
            record = f"row {int(number) - 2}"
    if isinstance(record, str) and (table := _TABLE_ROW.search(record)):
        record = f"{table.group(1)} row {table.group(2)}"
    return RecordError(
        f"{err.reason} (nothing written)", file="DataFrame", record=record, field=err.field
    )
