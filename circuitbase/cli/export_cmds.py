"""`export` a subgraph or a table, and `import` an exported subgraph into a store."""

from __future__ import annotations

from pathlib import Path

import click

from ..export import FORMATS
from ..export.figure import COLOUR_BY
from ..schema.graph import NodeLabel, RelType
from ..sources.registry import import_formats
from .context import MODEL, Context
from .format_commands import format_command
from .output import parse_params


@click.command("export")
@click.argument("template", required=False)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Template parameter.")
@click.option("--around", metavar="UID", help="Export the neighbourhood of this node instead.")
@click.option(
    "--heads",
    "heads_of",
    metavar="MODEL",
    type=MODEL,
    help="Draw MODEL's attention heads instead: a layers x heads heatmap per measured "
    "metric and per role score (svg, pdf or png).",
)
@click.option(
    "--trajectory",
    "trajectory_of",
    metavar="MODEL",
    type=MODEL,
    help="Draw MODEL's heads over its training checkpoints instead: each head's --metric "
    "(or --role score) against training tokens, and a heatmap per checkpoint.",
)
@click.option("--metric", help="With --trajectory: the per-head metric (e.g. next_tok_attn).")
@click.option("--role", help="With --trajectory: the head role whose score is drawn.")
@click.option(
    "--source",
    metavar="PREFIX",
    help="With --trajectory: only analyses whose uid starts with PREFIX.",
)
@click.option(
    "--min-score",
    default=0.3,
    show_default=True,
    type=float,
    help="With --trajectory: the heads at or above it in the final model are named.",
)
@click.option("--hops", default=1, show_default=True, type=click.IntRange(1, 4))
@click.option(
    "--label",
    "labels",
    multiple=True,
    type=click.Choice([label.value for label in NodeLabel]),
    help="Keep only nodes with this label (repeatable).",
)
@click.option(
    "--rel-type",
    "rel_types",
    multiple=True,
    type=click.Choice([t.value for t in RelType]),
    help="Walk only these relationships.",
)
@click.option("--model", type=MODEL, help="Keep only components of this model.")
@click.option(
    "--analysis",
    help="Keep only facts from this analysis; alone, export what it found "
    "(a circuit: its nodes and edges).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--title",
    help="Figure title or table caption (default for a table: the "
    "template's description with its parameters' values).",
)
@click.option(
    "--expand-structural",
    is_flag=True,
    help="Also walk onwards through IN_MODEL, ABOUT and MEASURED_BY (by default they "
    "are followed from the centre only, so a second hop does not bring a whole model).",
)
@click.option(
    "--width",
    default="double",
    show_default=True,
    help="Figure width: single (3.5 in), double (7 in), or inches.",
)
@click.option(
    "--dpi",
    default=300,
    show_default=True,
    type=click.IntRange(50, 1200),
    help="Resolution of a PNG.",
)
@click.option(
    "--font-size", default=7.0, show_default=True, type=click.FloatRange(4, 24), help="Points."
)
@click.option(
    "--colour-by",
    type=click.Choice(COLOUR_BY),
    default="kind",
    show_default=True,
    help="What node colours say (a circuit with roles is coloured by role).",
)
@click.option("--edge-labels", is_flag=True, help="Write each edge's score on it.")
@click.option(
    "--min-weight",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Leave out circuit edges whose weight is smaller than this (by size), and the "
    "components only they connected.",
)
@click.pass_obj
def export(
    obj: Context,
    template: str | None,
    params: tuple[str, ...],
    around: str | None,
    heads_of: str | None,
    trajectory_of: str | None,
    metric: str | None,
    role: str | None,
    source: str | None,
    min_score: float,
    hops: int,
    labels: tuple[str, ...],
    rel_types: tuple[str, ...],
    model: str | None,
    analysis: str | None,
    fmt: str,
    out: Path,
    title: str | None,
    expand_structural: bool,
    width: str,
    dpi: int,
    font_size: float,
    colour_by: str,
    edge_labels: bool,
    min_weight: float,
) -> None:
    """Export a template's results or a neighbourhood, with a BibTeX file of its analyses.

    Figures (svg, pdf with text kept as text; png at --dpi) are sized for a paper: the
    colours of node kinds and relationship types are the same in every figure, edges are
    as wide as their score, models run from the smallest, circuits layer by layer.

    \b
    Examples:
      circuitbase export concept_neurons --param concept=fr --format graphml --out fr.graphml
      circuitbase export --around pythia-70m/L3/N897 --hops 2 --rel-type ENCODES --rel-type IN_MODEL \\
          --format pdf --width single --out n897.pdf
      circuitbase export single_neuron_concepts --format latex --out table.tex
      circuitbase export --heads gpt2-small --format pdf --out gpt2-heads.pdf
      circuitbase export --trajectory OLMo-2-1124-7B --metric next_tok_attn \\
          --source head-scores/n2048_seqlen30/ --format png --out olmo-induction.png
    """
    done = obj.kb.export(
        out,
        fmt,
        heads=heads_of,
        trajectory=trajectory_of,
        metric=metric,
        role=role,
        source=source,
        min_score=min_score,
        title=title,
        template=template,
        params=parse_params(params, typed=True),
        around=around,
        hops=hops,
        labels=labels,
        rel_types=rel_types,
        model=model,
        analysis=analysis,
        expand_structural=expand_structural,
        width=width,
        dpi=dpi,
        font_size=font_size,
        colour_by=colour_by,
        edge_labels=edge_labels,
        min_weight=min_weight,
    )
    if done.note:
        click.echo(done.note)
    for row in done:
        click.echo(f"wrote {row['wrote']}")


@click.group("import")
def import_() -> None:
    """Load a subgraph exported by `circuitbase export` into this store."""


for _format in import_formats().values():
    import_.add_command(format_command(_format))
