"""`similarity compute` and `similar UID`: the question users ask most."""

from __future__ import annotations

import click

from ..queries.match import FEATURE_METRICS, HEAD_METRICS, PROBE_CONCEPTS
from ..schema.graph import SIMILARITY_METRICS as METRICS
from ..schema.text import visible_token
from .context import MODEL, TIMEOUT, Context
from .output import FORMATS, render
from .progress import report

# every metric `similar` offers (queries.match.METRICS, named here so that --help does
# not load the queries)
ALL_METRICS = (*METRICS, "activation-correlation", *HEAD_METRICS, PROBE_CONCEPTS, *FEATURE_METRICS)


@click.group()
def similarity() -> None:
    """Cross-model similarity of components."""


@similarity.command("compute")
@click.option(
    "--models", nargs=2, type=MODEL, required=True, metavar="A B", help="The two models to compare."
)
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    required=True,
    help="tokens: cosine of activating-token profiles; concepts: Jaccard of encoded "
    "concepts; vectors: cosine of embeddings, by the vector index.",
)
@click.option(
    "--top-k",
    default=5,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Matches kept per neuron, from each side.",
)
@click.option("--min-score", default=0.1, show_default=True, type=click.FloatRange(0, 1))
@click.option(
    "--min-f1",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="For concepts: the probe quality a concept needs to count.",
)
@click.option(
    "--max-token-share",
    default=0.01,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="For tokens: tokens more than this share of either model's neurons fire on "
    "are stop tokens and left out.",
)
@click.pass_obj
def compute(
    obj: Context,
    models: tuple[str, str],
    metric: str,
    top_k: int,
    min_score: float,
    min_f1: float,
    max_token_share: float,
) -> None:
    """Compute top-k SIMILAR_TO edges between the neurons of two models.

    \b
    Example:
      circuitbase similarity compute --models gpt2-small pythia-160m --metric tokens --top-k 5
    """
    done = report(
        obj.kb.compute_similarity(
            *models,
            metric,
            top_k=top_k,
            min_score=min_score,
            min_f1=min_f1,
            max_token_share=max_token_share,
            progress=True,
        )
    )
    if done["relationships_deleted"]:
        click.echo(
            f"  {done['relationships_deleted']} matches of an earlier run with other "
            "settings removed"
        )


@click.command()
@click.argument("uid")
@click.option("--in", "model", type=MODEL, help="Only matches in this model.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--metric",
    type=click.Choice(ALL_METRICS),
    help="Only this metric: stored (tokens, concepts, vectors, activation-correlation) "
    "or live (head-roles, the default for heads; head-identity, the same head after "
    "fine-tuning; probe-concepts; logit-profile, suppressed-logits, activation-tokens, "
    "explanation, explanation-embedding, decoder for dictionary features).",
)
@click.option(
    "--dead-and-dense",
    is_flag=True,
    help="Also match dictionary features that never fire or fire on more than a tenth of "
    "tokens (frac_nonzero), left out by default.",
)
@click.option(
    "--per-model",
    is_flag=True,
    help="The best match in every other model (per metric), models from the smallest.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@TIMEOUT
@click.pass_obj
def similar(
    obj: Context,
    uid: str,
    model: str | None,
    top: int,
    metric: str | None,
    per_model: bool,
    dead_and_dense: bool,
    fmt: str,
    timeout: float,
) -> None:
    """Components of other models like UID, best first, with the analysis behind each match.

    Stored matches (`similarity compute`, `analyze correlate`) and live ones computed from
    what the store holds: heads by what they attend to (head-roles; head-identity, their
    rank profile, when asked: the same head after fine-tuning), probed
    neurons by the concepts their probes find (probe-concepts). Each match shows its
    evidence side by side: both heads' measurements, or the shared concepts' scores.

    \b
    Examples:
      circuitbase similar gpt2-small/L5/H1 --per-model
      circuitbase similar pythia-70m/L1/N1045 --in pythia-160m --top 5
    """
    found = obj.kb.similar(
        uid,
        model,
        metric=metric,
        top=top,
        per_model=per_model,
        timeout=timeout,
        dead_and_dense=dead_and_dense,
    )
    if found.note is not None:
        if fmt != "table":
            click.echo(render([], fmt))
        click.echo(found.note, err=fmt != "table")
        return
    rows = found.rows
    if fmt == "table":  # narrower: the match's own analysis (JSON and CSV name both sides')
        for row in rows:
            row["analysis"] = next(
                (a for a in row["analysis"].split(", ") if f"/{row['model']}/" in a),
                row["analysis"],
            )
        for column in ("params", "evidence"):  # columns no row fills are left out
            if not any(row[column] for row in rows):
                for row in rows:
                    row.pop(column)
    if fmt != "json":
        for row in rows:
            if "evidence" in row:
                row["evidence"] = _evidence_text(row["evidence"])
    click.echo(render(rows, fmt))


def _evidence_text(evidence: list[dict]) -> str:
    """Both sides of each piece of evidence, on one line: `induction_score 0.91 | 0.88`."""

    def number(value: object) -> str:
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    parts = []
    for item in evidence:
        name = item.get("measure") or item.get("concept") or item.get("word")
        if "token" in item:  # leading spaces and line breaks shown, never lost
            name = repr(visible_token(item["token"]))
        if name is not None:
            parts.append(f"{name} {number(item.get('this'))} | {number(item.get('that'))}")
    return "; ".join(parts)


@similarity.command("fine-tuning")
@click.argument("model", type=MODEL)
@click.option(
    "--base",
    type=MODEL,
    help="The other model (default: its FINE_TUNED_FROM base or fine-tuned versions in the store).",
)
@click.option("--heads", "show_heads", is_flag=True, help="One row per head, not the summary.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def fine_tuning(obj: Context, model: str, base: str | None, show_heads: bool, fmt: str) -> None:
    """Whether fine-tuning keeps each head where it was: for each head of MODEL, is its most
    similar head (head-identity) in the base the same layer and head? The fraction, beside
    chance (one over the base's heads).

    \b
    Example:
      circuitbase similarity fine-tuning gemma-2-2b-it
    """
    click.echo(render(obj.kb.fine_tuning(model, base, heads=show_heads).rows, fmt))
