"""`show NAME` (everything known about one thing) and `search TEXT` (finding it)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from ..queries.show import show as show_data
from ..schema.uids import model_of
from .context import MODEL, Context
from .output import FORMATS, render


def _markdown(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cell = lambda v: str(v if not isinstance(v, (list, dict)) else json.dumps(v)).replace("|", "\\\\|")  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _sections(data: dict[str, Any], top: int | None) -> list[tuple[str, list[dict[str, Any]]]]:
    """The tables `show` prints. A relationship type with more than `top` facts is
    summarised: how many facts per model, then the `top` strongest (the facts come
    strongest first)."""
    sections = [("properties", [{"property": k, "value": v} for k, v in sorted(data["properties"].items())])]
    if "components" in data:
        sections.append(("components", [{"kind": k, "count": n} for k, n in data["components"].items()]))
    for type_, facts in data["relationships"].items():
        if top is None or len(facts) <= top:
            sections.append((type_, facts))
            continue
        per_model = Counter(model_of(fact["other"]) or "(not a component)" for fact in facts)
        sections.append((f"{type_}: {len(facts):,} facts, by the other side's model",
                         [{"model": m, "facts": n} for m, n in sorted(per_model.items(),
                                                                     key=lambda i: (-i[1], i[0]))]))
        sections.append((f"{type_}: the {top} strongest of {len(facts):,} (--all lists every one)",
                         facts[:top]))
    sections += [("most similar in each other model", data["similar"]),
                 ("analyses", data["analyses"])]
    return [(title, rows) for title, rows in sections if rows]


@click.command()
@click.argument("name")
@click.option("--model", type=MODEL, help="The model of a short form such as L5H1 or L3N42.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True)
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 10_000),
              help="Facts of one type listed before they are summarised (per model, strongest first).")
@click.option("--all", "show_all", is_flag=True, help="List every fact (JSON always does).")
@click.pass_obj
def show(obj: Context, name: str, model: str | None, fmt: str, top: int, show_all: bool) -> None:
    """Everything known about NAME, with the analyses behind it.

    NAME is a component uid (or L5H1 with --model), a model, concept, task, head role,
    neuron family, token or analysis. Facts are grouped by relationship type, strongest
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
    data = show_data(obj.store, name, model)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"{data['kind']} {data['key']}" + (" (first 10,000 relationships)" if data["truncated"] else ""))
    for title, rows in _sections(data, None if show_all else top):
        if fmt == "markdown":
            click.echo(f"\n## {title}\n\n{_markdown(rows)}")
        else:
            click.echo(f"\n{title}\n{render(rows, 'table')}")


SEARCHABLE = ["Concept", "Task", "HeadRole", "NeuronFamily", "Token", "Feature", "Model"]


@click.command()
@click.argument("text")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(SEARCHABLE),
              help="Only these kinds (repeatable).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def search(obj: Context, text: str, kinds: tuple[str, ...], limit: int, fmt: str) -> None:
    """Find concepts, tasks, roles, families, tokens, feature labels and models by name.

    Hits hold every word of TEXT (as a word or the start of one), best first, from each
    backend's full-text index.

    \b
    Examples:
      circuitbase search gender
      circuitbase search "prime fact" --kind Concept
    """
    from ..schema.graph import NodeLabel

    rows = obj.store.search(text, [NodeLabel(k) for k in kinds], limit)
    click.echo(render(rows, fmt))
