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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import RecordError
from ..queries.names import checked_component
from ..queries.registry import get_template
from ..queries.show import show
from ..queries.similar import no_comparison
from ..queries.similar import similar as find_similar
from ..schema.catalog import known_models
from ..schema.graph import NodeLabel
from ..store import open_store
from .changes import Changes
from .exports import Exports
from .results import Node, Rows

MODEL_COLUMNS = ("family", "n_layers", "d_model", "n_heads", "d_mlp", "revision", "step")


class KnowledgeBase(Changes, Exports):
    """The store and every question (here), change (`Changes`) and export (`Exports`)
    circuitbase offers on it."""

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

    # -- questions -------------------------------------------------------------------------

    def models(self, *, known: bool = False) -> Rows:
        """The stored models and their shapes (checkpoints with their revision and step);
        `known`: the shipped catalog's shapes instead (what `add_model` needs no shape for)."""
        if known:
            return Rows([s.model_dump(exclude_none=True) for s in known_models().values()])
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

    def analyses(self) -> Rows:
        """Every stored analysis with its kind, method and models."""
        return Rows(self._store.analysis_list())

    def stats(self) -> Rows:
        """Nodes per label (the rows); relationships per type and components per model
        in `more` ("relationships", "models")."""
        found = self._store.stats()
        return Rows(
            [{"label": k, "nodes": v} for k, v in found.labels.items()],
            title="Nodes",
            more={
                "relationships": Rows(
                    [{"type": k, "relationships": v} for k, v in found.relationships.items()],
                    title="Relationships",
                ),
                "models": Rows(found.models, title="Models"),
            },
        )

    def check(self) -> Rows:
        """What an earlier version or a cut-off command left in the store (orphans, facts
        of removed analyses, models merged by an alias): one row per finding, and whether
        `repair()` repairs it; none: the store is consistent."""
        from ..queries.check import check as find

        return Rows(
            [
                {
                    "finding": f.kind,
                    "count": f.count,
                    "detail": f.detail,
                    "repaired by --repair": "yes" if f.repairable else "no",
                }
                for f in find(self._store)
            ]
        )

    def fine_tuning(self, model: str, base: str | None = None, *, heads: bool = False) -> Rows:
        """Whether fine-tuning keeps each head where it was: for each head of `model`, is
        its most similar head (head-identity) in the base the same head? The fraction
        beside chance; `heads`: one row per head."""
        from ..queries.fine_tuning import fine_tuning

        reports = fine_tuning(self._store, model, base)
        if heads:
            return Rows(
                [{"model": r.model, "base": r.base, **row} for r in reports for row in r.rows]
            )
        return Rows([r.summary() for r in reports])

    def predict(
        self,
        uid: str,
        tokens: Sequence[str] | str,
        *,
        tokenizer: str | os.PathLike[str] | None = None,
        analysis: str | None = None,
    ) -> Rows:
        """Neuron `uid`'s activation on each token, predicted from its stored N2G graph
        alone: `tokens` a list of token strings, or a text split by `tokenizer` (a Hugging
        Face tokenizer.json)."""
        from ..sources.n2g.stored import predict
        from ..sources.n2g.vocab import tokenize

        if isinstance(tokens, str):
            if tokenizer is None:
                raise RecordError("a text needs tokenizer= (a tokenizer.json); or give tokens")
            tokens = tokenize(tokens, Path(tokenizer))
        checked_component(self._store, uid)  # a bound or model typed wrong is named
        activations = predict(self._store, uid, list(tokens), analysis)
        return Rows(
            [
                {"position": i, "token": t, "activation": a}
                for i, (t, a) in enumerate(zip(tokens, activations))
            ],
            title=f"{uid} by N2G",
        )
