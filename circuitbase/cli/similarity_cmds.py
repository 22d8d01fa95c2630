"""`similarity compute` and `similar UID`: the question users ask most."""

from __future__ import annotations

import click

from ..queries import run_template
from ..schema.graph import SIMILARITY_METRICS as METRICS, NodeLabel
from ..store.base import QUERY_TIMEOUT_S
from ..schema.uids import UidError, parse_component
from .context import MODEL, Context
from .output import FORMATS, render


@click.group()
def similarity() -> None:
    """Cross-model similarity of components."""


@similarity.command("compute")
@click.option("--models", nargs=2, type=MODEL, required=True, metavar="A B", help="The two models to compare.")
@click.option("--metric", type=click.Choice(METRICS), required=True,
              help="tokens: cosine of activating-token profiles; concepts: Jaccard of encoded "
                   "concepts; vectors: cosine of embeddings, by the vector index.")
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(1, 1000),
              help="Matches kept per neuron, from each side.")
@click.option("--min-score", default=0.1, show_default=True, type=click.FloatRange(0, 1))
@click.option("--min-f1", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="For concepts: the probe quality a concept needs to count.")
@click.option("--max-token-share", default=0.01, show_default=True, type=click.FloatRange(0, 1),
              help="For tokens: tokens more than this share of either model's neurons fire on "
                   "are stop tokens and left out.")
@click.pass_obj
def compute(obj: Context, models: tuple[str, str], metric: str, top_k: int, min_score: float,
            min_f1: float, max_token_share: float) -> None:
    """Compute top-k SIMILAR_TO edges between the neurons of two models.

    \b
    Example:
      circuitbase similarity compute --models gpt2-small pythia-160m --metric tokens --top-k 5
    """
    from ..analyze.similarity import similarity_analysis_uid, similarity_records
    from ..ingest import ingest
    from .progress import run_pipeline

    records = similarity_records(obj.store, models[0], models[1], metric, top_k=top_k,
                                 min_score=min_score, min_f1=min_f1,
                                 max_token_share=max_token_share)
    analysis = similarity_analysis_uid(metric, models[0], models[1])
    result = run_pipeline(f"similarity ({metric})", lambda progress: ingest(
        obj.store, records, progress=progress, replaces=analysis))
    if result.counts.relationships_deleted:
        click.echo(f"  {result.counts.relationships_deleted} matches of an earlier run with other "
                   "settings removed")


@click.command()
@click.argument("uid")
@click.option("--in", "model", type=MODEL, help="Only matches in this model.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--metric", type=click.Choice(METRICS), help="Only this similarity metric.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def similar(obj: Context, uid: str, model: str | None, top: int, metric: str | None,
            fmt: str) -> None:
    """Components of other models like UID, best first, with the analysis behind each match.

    \b
    Example:
      circuitbase similar gpt2-small/L3/N1234 --in pythia-160m --top 5
    """
    parsed = parse_component(uid)  # a uid that does not parse is an error, not "no matches"
    uid = str(parsed)
    if not obj.store.has_node(NodeLabel.of(parsed.kind), uid):
        raise UidError(f"{uid} is not in the store; add its model's components with "
                       "`circuitbase model add` or an ingest")
    rows = run_template(obj.store, "similar_components",
                        {"uid": uid, "model": model, "top": top, "metric": metric},
                        timeout=QUERY_TIMEOUT_S)
    if not rows and fmt == "table":
        click.echo(f"no similar components of {uid} stored"
                   + (f" in {model}" if model else "")
                   + "; compute them with `circuitbase similarity compute`")
        return
    click.echo(render(rows, fmt))
