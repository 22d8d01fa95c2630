"""The main job of `./run`: load the bundled example analyses and ask cross-model questions.

Each example is an ordinary ingest through the same runner the CLI uses, so the
demo is also a check that the bundled files still read; running it twice leaves
the same graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ingest import ingest, ingest_files
from ..queries import run_template
from ..schema.catalog import known_models
from ..schema.uids import ComponentKind
from ..sources.circuits import circuit_records
from ..sources.heads import heads_records
from ..sources.models import model_records
from ..sources.probes import probe_records
from ..store.base import GraphStore, Row

DEMO_MODELS = ("pythia-70m", "pythia-160m", "pythia-410m", "pythia-1b")
IOI_ANALYSIS = "acdc-canonical/gpt2-small/ioi"
HEADVIS = "neuronpedia-headvis/"
# the dual-route induction scores on real text (not on random tokens), at every checkpoint
TRAINING_SOURCE = "head-scores/n2048_seqlen30/"


@dataclass
class Question:
    text: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)


QUESTIONS = (
    Question(
        "Which concepts does a single neuron encode (k=1, F1 >= 0.95) in every Pythia size?",
        "single_neuron_concepts",
        {"min_score": 0.95, "min_models": 4, "family": "pythia"},
    ),
    Question(
        "Where is the best 'prime-factors' neuron in each Pythia size, as models grow?",
        "concept_depth_by_size",
        {"concept": "prime-factors", "family": "pythia"},
    ),
    Question(
        "Which neurons encode 'Gender_Fem' in each model?",
        "concept_neurons",
        {"concept": "Gender_Fem", "min_score": 0.9},
    ),
    Question(
        "Which GPT-2 small heads have a named role in the IOI circuit, and how deep are they?",
        "universal_head_roles",
        {"min_score": 0.5, "analysis": IOI_ANALYSIS},
    ),
    Question(
        "Where is the strongest induction head of each model, from gpt2 to 8B models, and "
        "does every model have one (score >= 0.1)?",
        "strongest_heads",
        {"role": "induction", "min_score": 0.1, "source": HEADVIS},
    ),
    Question(
        "Which previous-token heads (score >= 0.3) keep their role after fine-tuning?",
        "roles_after_fine_tuning",
        {"role": "previous-token", "min_score": 0.3, "source": HEADVIS},
    ),
    Question(
        "When did OLMo-2-1124-7B's token-induction heads (next_tok_attn >= 0.3) form in training?",
        "role_emergence",
        {
            "model": "OLMo-2-1124-7B",
            "metric": "next_tok_attn",
            "min_score": 0.3,
            "source": TRAINING_SOURCE,
        },
    ),
)


def examples_dir() -> Path:
    """The example analyses shipped inside the package (see examples/*/SOURCE.md)."""
    return Path(__file__).parent.parent / "examples"


def load_examples(store: GraphStore, report: Callable[[str], None] = print) -> None:
    for name in DEMO_MODELS:
        counts = ingest(store, model_records(known_models()[name], {ComponentKind.HEAD})).counts
        report(f"model {name}: {counts.nodes_created} nodes created")
    files = sorted((examples_dir() / "probes").glob("*.csv"))
    result = ingest_files(store, files, probe_records)
    report(
        f"probes: {len(files)} sparse-probing tables, {result.counts.relationships_created} "
        f"relationships created"
    )
    circuits = sorted((examples_dir() / "circuits").glob("*.json"))
    result = ingest_files(store, circuits, circuit_records)
    report(
        f"circuits: ACDC's canonical IOI and greater-than circuits of gpt2-small, "
        f"{result.counts.relationships_created} relationships created"
    )
    metrics = sorted((examples_dir() / "head-metrics").glob("*.json"))
    result = ingest_files(store, metrics, heads_records)
    report(
        f"head metrics: Neuronpedia's attention-head metrics of {len(metrics)} models, "
        f"{result.counts.relationships_created} relationships created"
    )
    training = sorted((examples_dir() / "training").rglob("*.json"))
    result = ingest_files(store, training, heads_records)
    report(
        f"training: per-head induction scores of OLMo-2-1124-7B at {len(training) // 2 - 1} "
        f"checkpoints and its final weights, {result.counts.relationships_created} "
        "relationships created"
    )


def ask(store: GraphStore) -> list[tuple[Question, list[Row]]]:
    return [(q, run_template(store, q.template, q.params)) for q in QUESTIONS]
