"""The main job of `./run`: load the bundled example analyses and ask cross-model questions.

Each example is an ordinary ingest, so the demo is also a check that the
bundled files still read; running it twice leaves the same graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .ingest.models import model_records
from .ingest.writer import ingest_records
from .schema.catalog import known_model
from .schema.uids import ComponentKind
from .store.base import GraphStore, Row

DEMO_MODELS = ("gpt2-small", "pythia-70m", "solu-2l")


@dataclass
class Answer:
    question: str
    rows: list[Row]


def load_examples(store: GraphStore, report: Callable[[str], None] = print) -> None:
    for name in DEMO_MODELS:
        counts = ingest_records(store, model_records(known_model(name), {ComponentKind.HEAD}))
        report(f"model {name}: {counts.nodes_created} nodes created")


def ask(store: GraphStore) -> list[Answer]:
    return [Answer("How many attention heads does each model have, and how deep is it?",
                   store.read("MATCH (h:AttentionHead)-[:IN_MODEL]->(m:Model) "
                              "RETURN m.uid AS model, m.n_layers AS layers, count(h) AS heads "
                              "ORDER BY heads DESC"))]
