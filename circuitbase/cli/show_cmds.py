"""`show NAME` (everything known about one thing) and `search TEXT` (finding it)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from ..schema.text import visible_token
from ..schema.uids import model_of
from .context import MODEL, Context
from .output import FORMATS, render


def _markdown(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))

    def cell(value: Any) -> str:
        text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
        return text.replace("|", "\\\\|")

    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _sections(data: dict[str, Any], top: int | None) -> list[tuple[str, list[dict[str, Any]]]]:
    """The tables `show` prints. A relationship type with more than `top` facts is
    summarised: how many facts per model, then the `top` strongest (the facts come
    strongest first)."""
    sections = [
        ("properties", [{"property": k, "value": v} for k, v in sorted(data["properties"].items())])
    ]
    sections += [
        (
            "not measured",
            [
                {
                    "analysis": analysis,
                    "note": "its layer is all zeros in the file: stored as given, never "
                    "ranked, matched or given a role",
                }
                for analysis in data.get("unmeasured", [])
            ],
        )
    ]
    sections += _evidence_sections(data.get("evidence") or {}, top)
    if "components" in data:
        sections.append(
            ("components", [{"kind": k, "count": n} for k, n in data["components"].items()])
        )
    for type_, facts in data["relationships"].items():
        if top is None or len(facts) <= top:
            sections.append((type_, facts))
            continue
        per_model = Counter(model_of(fact["other"]) or "(not a component)" for fact in facts)
        sections.append(
            (
                f"{type_}: {len(facts):,} facts, by the other side's model",
                [
                    {"model": m, "facts": n}
                    for m, n in sorted(per_model.items(), key=lambda i: (-i[1], i[0]))
                ],
            )
        )
        sections.append(
            (f"{type_}: the {top} strongest of {len(facts):,} (--all lists every one)", facts[:top])
        )
    sections += [
        ("most similar in each other model", data["similar"]),
        ("analyses", data["analyses"]),
    ]
    return [(title, rows) for title, rows in sections if rows]


EXAMPLES = 5  # activation examples printed (the strongest)
BEFORE, AFTER = 12, 6  # tokens printed either side of an example's maximum


def marked_example(tokens: list[str], max_index: int) -> str:
    """An example's text around its maximum, the maximum's token marked `[[...]]`,
    newlines and other controls in tokens shown escaped."""
    start, end = max(0, max_index - BEFORE), min(len(tokens), max_index + AFTER + 1)
    shown = [
        visible_token(t) if i != max_index else f"[[{visible_token(t)}]]"
        for i, t in enumerate(tokens[start:end], start)
    ]
    return ("…" if start else "") + "".join(shown) + ("…" if end < len(tokens) else "")


def _evidence_sections(
    evidence: dict[str, Any], top: int | None
) -> list[tuple[str, list[dict[str, Any]]]]:
    """A component's explanations, statistics, top logits and strongest examples."""
    sections = [
        (
            "explanations",
            [
                {
                    "explanation": e["text"],
                    "method": e.get("method"),
                    "explainer": e.get("explainer"),
                    "score": e.get("score"),
                    "analysis": e["analysis"],
                }
                for e in evidence.get("explanations", [])[:top]
            ],
        )
    ]
    for stats in evidence.get("statistics", []):
        summary = {
            "frequency (frac_nonzero)": stats.get("frac_nonzero"),
            "max activation (maxActApprox)": stats.get("maxActApprox"),
            "analysis": stats["analysis"],
        }
        sections.append(("activation", [{k: v for k, v in summary.items() if v is not None}]))
        pos, neg = stats.get("pos_str", []), stats.get("neg_str", [])
        sections.append(
            (
                f"top logits ({stats['analysis']})",
                [
                    {
                        "promoted": visible_token(pos[i]) if i < len(pos) else "",
                        "+": stats["pos_values"][i] if i < len(pos) else "",
                        "suppressed": visible_token(neg[i]) if i < len(neg) else "",
                        "-": stats["neg_values"][i] if i < len(neg) else "",
                    }
                    for i in range(max(len(pos), len(neg)))
                ][:top],
            )
        )
    examples = evidence.get("examples", [])
    sections.append(
        (
            f"examples, strongest first ({min(EXAMPLES, len(examples))} of "
            f"{len(examples)}; the maximum [[marked]])",
            [
                {
                    "max": e["max_value"],
                    "example": marked_example(e["tokens"], e["max_index"]),
                    "analysis": e["analysis"],
                }
                for e in examples[:EXAMPLES]
            ],
        )
    )
    return [(title, rows) for title, rows in sections if rows]


@click.command()
@click.argument("name")
@click.option("--model", type=MODEL, help="The model of a short form such as L5H1 or L3N42.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
)
@click.option(
    "--top",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Facts of one type listed before they are summarised (per model, strongest first).",
)
@click.option("--all", "show_all", is_flag=True, help="List every fact (JSON always does).")
@click.pass_obj
def show(obj: Context, name: str, model: str | None, fmt: str, top: int, show_all: bool) -> None:
    """Everything known about NAME, with the analyses behind it.

    NAME is a component uid (or L5H1 with --model; a dictionary feature also as Neuronpedia
    names it, gpt2-small/0-res-jb/3, or SAELens, <release>/<SAE id>/<index>), a model,
    concept, task, head role, neuron family, token or analysis. A component's evidence
    comes first: its explanations, top logits and strongest activation examples (the
    maximum [[marked]]). Facts are grouped by relationship type, strongest
    first, each with the analysis behind it; a type with many facts is summarised (count
    per model, the strongest --top). The analyses' citations and the best match in every
    other model follow.

    \b
    Examples:
      circuitbase show pythia-70m/L3/N897
      circuitbase show L9H9 --model gpt2-small --format markdown
      circuitbase show Gender_Fem --format json
      circuitbase show induction --top 5
    """
    data = dict(obj.kb.show(name, model))
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(
        f"{data['kind']} {data['key']}"
        + (" (first 10,000 relationships)" if data["truncated"] else "")
    )
    if data.get("neuronpedia"):
        click.echo(f"on Neuronpedia: {data['neuronpedia']}")
    for title, rows in _sections(data, None if show_all else top):
        if fmt == "markdown":
            click.echo(f"\n## {title}\n\n{_markdown(rows)}")
        else:
            click.echo(f"\n{title}\n{render(rows, 'table')}")


SEARCHABLE = [
    "Concept",
    "Task",
    "HeadRole",
    "NeuronFamily",
    "Token",
    "Feature",
    "Model",
    "Dictionary",
    "Neuron",
    "AttentionHead",
]


@click.command()
@click.argument("text")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(SEARCHABLE),
    help="Only these kinds (repeatable).",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def search(obj: Context, text: str, kinds: tuple[str, ...], limit: int, fmt: str) -> None:
    """Find concepts, tasks, roles, families, tokens, models, dictionaries, and components
    by their labels and the words of their explanations.

    Hits hold every word of TEXT (as a word or the start of one), best first, from each
    backend's full-text index.

    \b
    Examples:
      circuitbase search gender
      circuitbase search "prime fact" --kind Concept
    """
    click.echo(render(obj.kb.search(text, kinds, limit).rows, fmt))
